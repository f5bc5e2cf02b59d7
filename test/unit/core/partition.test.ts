import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { createClients } from "../../../functions/aws/clients.js";
import { iamRegionOf, partitionOfRegion } from "../../../functions/core/partition.js";
import { buildApp } from "../../../infra/app.js";
import { autopilotConfigSchema } from "../../../infra/config.js";

describe("partitions: IAM's region comes from the deployment's partition", () => {
  it.each([
    ["eu-west-1", "aws", "us-east-1"],
    ["cn-northwest-1", "aws-cn", "cn-north-1"],
    ["us-gov-east-1", "aws-us-gov", "us-gov-west-1"],
  ])("%s is in %s, whose IAM lives in %s", async (region, partition, iamRegion) => {
    expect(partitionOfRegion(region)).toBe(partition);
    expect(iamRegionOf(partitionOfRegion(region))).toBe(iamRegion);
    expect(await createClients({ region }).iam.config.region()).toBe(iamRegion);
  });

  it("puts the IAM event forwarder in the partition's IAM region and refuses regions of two partitions", () => {
    const app = buildApp(
      new App({ context: { "aws:cdk:bundling-stacks": [], regions: ["us-gov-east-1", "us-gov-west-1"] } }),
    );
    const forwarder = app.node.findChild("PodIdentityAutopilotIamForwarder") as unknown as { region: string };

    expect(forwarder.region).toBe("us-gov-west-1");
    expect(autopilotConfigSchema.safeParse({ regions: ["us-east-1", "cn-north-1"] }).success).toBe(false);
  });
});
