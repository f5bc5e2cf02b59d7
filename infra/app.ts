import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { iamRegionOf, partitionOfRegion } from "../functions/core/partition.js";
import { configFromContext } from "./config.js";
import { PodIdentityAutopilotStack } from "./stacks/autopilot-stack.js";
import { IamEventForwarderStack } from "./stacks/iam-forwarder-stack.js";

/** The CDK app: one regional stack per configured region and the IAM event forwarder in the partition's IAM region. */
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
    // IAM events reach EventBridge only in the partition's IAM region (us-east-1 in aws)
    env: { account, region: iamRegionOf(partitionOfRegion(config.regions[0] ?? "us-east-1")) },
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
