import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { configFromContext } from "./config.js";
import { PodIdentityAutopilotStack } from "./stacks/autopilot-stack.js";
import { IamEventForwarderStack } from "./stacks/iam-forwarder-stack.js";

/** The CDK app: one regional stack per configured region and the us-east-1 IAM event forwarder. */
export function buildApp(app = new App()): App {
  const config = configFromContext((key) => app.node.tryGetContext(key));
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const regional = config.regions.map(
    (region) =>
      new PodIdentityAutopilotStack(app, `PodIdentityAutopilot-${region}`, {
        env: { account, region },
        config,
      }),
  );
  const forwarder = new IamEventForwarderStack(app, "PodIdentityAutopilotIamForwarder", {
    env: { account, region: "us-east-1" },
    regions: config.regions,
  });
  // the catalog roles' permissions boundary (in the forwarder stack) exists before any reconciler runs
  for (const stack of regional) stack.addDependency(forwarder);
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
  return app;
}
