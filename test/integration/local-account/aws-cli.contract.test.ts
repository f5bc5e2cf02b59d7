import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { podIdentityTrust } from "../../../local/sample-fleet.js";
import { useLocalAccount } from "../../support/local-account.js";

const run = promisify(execFile);
const ctx = useLocalAccount();

/** Runs the installed AWS CLI (an independent client) against the local account. */
async function aws(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: any; err: string }> {
  try {
    const { stdout, stderr } = await run(
      "aws",
      ["--endpoint-url", ctx.account.endpoint, "--output", "json", ...args],
      {
        env: {
          ...process.env,
          ...ctx.account.env(),
          AWS_MAX_ATTEMPTS: "1",
          AWS_RETRY_MODE: "standard",
          ...env,
        },
      },
    );
    return { code: 0, out: stdout.trim() ? JSON.parse(stdout) : undefined, err: stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, out: undefined, err: e.stderr };
  }
}

async function seed(): Promise<string> {
  await aws([
    "iam",
    "create-role",
    "--role-name",
    "svc",
    "--assume-role-policy-document",
    podIdentityTrust(),
  ]);
  await aws([
    "iam",
    "create-role",
    "--role-name",
    "eks-cluster-role",
    "--assume-role-policy-document",
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
  ]);
  await aws([
    "eks",
    "create-cluster",
    "--name",
    "cli",
    "--role-arn",
    "arn:aws:iam::123456789012:role/eks-cluster-role",
    "--resources-vpc-config",
    "subnetIds=subnet-1",
  ]);
  return "arn:aws:iam::123456789012:role/svc";
}

describe("the AWS CLI against the local account", () => {
  it("drives the whole association lifecycle", async () => {
    // Prepare
    const role = await seed();

    // Act
    const created = await aws([
      "eks",
      "create-pod-identity-association",
      "--cluster-name",
      "cli",
      "--namespace",
      "web",
      "--service-account",
      "frontend",
      "--role-arn",
      role,
      "--tags",
      "team=web",
    ]);
    const id = created.out.association.associationId as string;
    const listed = await aws([
      "eks",
      "list-pod-identity-associations",
      "--cluster-name",
      "cli",
      "--namespace",
      "web",
    ]);
    const updated = await aws([
      "eks",
      "update-pod-identity-association",
      "--cluster-name",
      "cli",
      "--association-id",
      id,
      "--disable-session-tags",
    ]);
    const described = await aws([
      "eks",
      "describe-pod-identity-association",
      "--cluster-name",
      "cli",
      "--association-id",
      id,
    ]);
    const deleted = await aws([
      "eks",
      "delete-pod-identity-association",
      "--cluster-name",
      "cli",
      "--association-id",
      id,
    ]);

    // Assess
    expect(created.code).toBe(0);
    expect(created.out.association).toMatchObject({
      namespace: "web",
      serviceAccount: "frontend",
      tags: { team: "web" },
    });
    expect(listed.out.associations).toHaveLength(1);
    expect(updated.out.association.disableSessionTags).toBe(true);
    expect(described.out.association.associationId).toBe(id);
    expect(deleted.out.association.associationId).toBe(id);
  });

  it("surfaces EKS error names through the CLI", async () => {
    const role = await seed();
    const args = [
      "eks",
      "create-pod-identity-association",
      "--cluster-name",
      "cli",
      "--namespace",
      "ns",
      "--service-account",
      "sa",
    ];
    await aws([...args, "--role-arn", role]);

    const duplicate = await aws([...args, "--role-arn", role]);
    const missingRole = await aws([
      ...args,
      "--service-account",
      "other",
      "--role-arn",
      "arn:aws:iam::123456789012:role/none",
    ]);
    const missingCluster = await aws(["eks", "list-pod-identity-associations", "--cluster-name", "nope"]);
    const badPage = await aws([
      "eks",
      "list-pod-identity-associations",
      "--cluster-name",
      "cli",
      "--max-results",
      "101",
    ]);

    expect(duplicate.code).not.toBe(0);
    expect(duplicate.err).toMatch(/ResourceInUseException/);
    expect(missingRole.err).toMatch(/InvalidParameterException/);
    expect(missingCluster.err).toMatch(/ResourceNotFoundException/);
    expect(badPage.err).toMatch(/InvalidParameterException/);
  });

  it("creates add-on-owned associations through create-addon", async () => {
    const role = await seed();

    const addon = await aws([
      "eks",
      "create-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-efs-csi-driver",
      "--pod-identity-associations",
      `serviceAccount=efs-csi-controller-sa,roleArn=${role}`,
    ]);
    const listed = await aws(["eks", "list-pod-identity-associations", "--cluster-name", "cli"]);

    expect(addon.out.addon.podIdentityAssociations).toHaveLength(1);
    expect(listed.out.associations[0].ownerArn).toBe(addon.out.addon.addonArn);
  });

  it("drives the add-on lifecycle; an owned association may be deleted directly (as AWS allows)", async () => {
    const role = await seed();
    const created = await aws([
      "eks",
      "create-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-ebs-csi-driver",
      "--pod-identity-associations",
      `serviceAccount=ebs-csi-controller-sa,roleArn=${role}`,
    ]);
    const owned = (await aws(["eks", "list-pod-identity-associations", "--cluster-name", "cli"])).out
      .associations[0];

    const listed = await aws(["eks", "list-addons", "--cluster-name", "cli"]);
    const described = await aws([
      "eks",
      "describe-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-ebs-csi-driver",
    ]);
    const direct = await aws([
      "eks",
      "delete-pod-identity-association",
      "--cluster-name",
      "cli",
      "--association-id",
      owned.associationId,
    ]);
    const afterDirect = await aws([
      "eks",
      "describe-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-ebs-csi-driver",
    ]);
    const updated = await aws([
      "eks",
      "update-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-ebs-csi-driver",
      "--pod-identity-associations",
      "[]",
    ]);
    const deleted = await aws([
      "eks",
      "delete-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-ebs-csi-driver",
    ]);
    const unknown = await aws([
      "eks",
      "describe-addon",
      "--cluster-name",
      "cli",
      "--addon-name",
      "aws-ebs-csi-driver",
    ]);

    expect(created.code).toBe(0);
    expect(listed.out.addons).toEqual(["aws-ebs-csi-driver"]);
    expect(described.out.addon.podIdentityAssociations).toEqual([owned.associationArn]);
    // EKS User Guide add-ons-iam: "You also can directly update or delete the pod identity association"
    expect(direct.code).toBe(0);
    expect(afterDirect.out.addon.podIdentityAssociations).toEqual([]);
    expect(updated.out.update.type).toBe("AddonUpdate");
    expect(deleted.out.addon.addonName).toBe("aws-ebs-csi-driver");
    expect(unknown.err).toMatch(/ResourceNotFoundException/);
  });

  it("sees a role EKS cannot see yet (IAM eventual consistency) as InvalidParameterException", async () => {
    await seed();
    await ctx.account.setFaults({ iamConsistencyDelayMs: 60_000 });
    await aws([
      "iam",
      "create-role",
      "--role-name",
      "fresh",
      "--assume-role-policy-document",
      podIdentityTrust(),
    ]);

    const early = await aws([
      "eks",
      "create-pod-identity-association",
      "--cluster-name",
      "cli",
      "--namespace",
      "ns",
      "--service-account",
      "sa",
      "--role-arn",
      "arn:aws:iam::123456789012:role/fresh",
    ]);

    expect(early.err).toMatch(/InvalidParameterException/);
  });

  it("sees throttling and server errors as the real services send them", async () => {
    await seed();
    await ctx.account.setFaults({
      throttle: { "eks-read": { rate: 0.001, burst: 1 } },
      failNext: { ListRoles: 1 },
    });

    await aws(["eks", "describe-cluster", "--name", "cli"]);
    const throttled = await aws(["eks", "describe-cluster", "--name", "cli"]);
    const failed = await aws(["iam", "list-roles"]);

    expect(throttled.err).toMatch(/TooManyRequestsException/);
    expect(failed.err).toMatch(/ServiceFailure/);
  });
});
