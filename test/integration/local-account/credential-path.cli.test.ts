import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CreatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import { beforeEach, describe, expect, it } from "vitest";
import { irsaTrust, podIdentityTrust } from "../../../local/sample-fleet.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../../support/local-account.js";
import { LocalPods, type PodRef } from "../../support/pods.js";

const run = promisify(execFile);
const ctx = useLocalAccount();
let pods: LocalPods;

const app: PodRef = { cluster: "alpha", namespace: "shop", serviceAccount: "cart" };

/** Runs the installed AWS CLI (an independent client built from botocore's models) against the local account. */
async function aws(args: string[]): Promise<{ code: number; out: any; err: string }> {
  try {
    const { stdout, stderr } = await run(
      "aws",
      ["--endpoint-url", ctx.account.endpoint, "--output", "json", ...args],
      {
        env: { ...process.env, ...ctx.account.env(), AWS_MAX_ATTEMPTS: "1", AWS_RETRY_MODE: "standard" },
      },
    );
    return { code: 0, out: stdout.trim() ? JSON.parse(stdout) : undefined, err: stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, out: undefined, err: e.stderr };
  }
}

beforeEach(async () => {
  pods = new LocalPods(ctx.account.endpoint);
  const clients = awsClientsFor(ctx.account.endpoint, 1, ACCOUNT_ID);
  await createCluster(clients, "alpha");
  await pods.ensureOidcProvider("alpha");
  await createRole(clients.iam, "cart-irsa", {
    trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
  });
  const podRole = await createRole(clients.iam, "cart-pods", { trust: podIdentityTrust(ACCOUNT_ID) });
  await clients.eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: "alpha",
      namespace: "shop",
      serviceAccount: "cart",
      roleArn: podRole,
    }),
  );
});

describe("the credential path through the AWS CLI", () => {
  it("aws sts assume-role-with-web-identity: credentials for the trusted pod, AccessDenied for another", async () => {
    // Prepare
    const role = `arn:aws:iam::${ACCOUNT_ID}:role/cart-irsa`;
    const token = await pods.token(app, { audience: "sts.amazonaws.com" });
    const other = await pods.token({ ...app, serviceAccount: "other" }, { audience: "sts.amazonaws.com" });
    const args = (t: string) => [
      "sts",
      "assume-role-with-web-identity",
      "--role-arn",
      role,
      "--role-session-name",
      "cli",
      "--web-identity-token",
      t,
    ];
    // Act
    const ok = await aws(args(token));
    const refused = await aws(args(other));
    // Assess
    expect(ok.code).toBe(0);
    expect(ok.out).toMatchObject({
      SubjectFromWebIdentityToken: "system:serviceaccount:shop:cart",
      Audience: "sts.amazonaws.com",
      AssumedRoleUser: { Arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/cart-irsa/cli` },
    });
    expect(ok.out.Credentials.AccessKeyId).toMatch(/^ASIA/);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("(AccessDenied)");
    expect(refused.err).toContain("Not authorized to perform sts:AssumeRoleWithWebIdentity");
  });

  it("aws eks-auth assume-role-for-pod-identity: the model's response shape, and its errors", async () => {
    // Prepare
    const token = await pods.token(app, { audience: "pods.eks.amazonaws.com" });
    const stranger = await pods.token(
      { ...app, serviceAccount: "stranger" },
      { audience: "pods.eks.amazonaws.com" },
    );
    const args = (t: string) => [
      "eks-auth",
      "assume-role-for-pod-identity",
      "--cluster-name",
      "alpha",
      "--token",
      t,
    ];
    // Act
    const ok = await aws(args(token));
    const missing = await aws(args(stranger));
    // Assess
    expect(ok.code).toBe(0);
    expect(ok.out).toMatchObject({
      subject: { namespace: "shop", serviceAccount: "cart" },
      audience: "pods.eks.amazonaws.com",
      podIdentityAssociation: { associationId: expect.stringMatching(/^a-/) },
      assumedRoleUser: { arn: expect.stringContaining(":assumed-role/cart-pods/eks-alpha-") },
    });
    expect(Object.keys(ok.out.credentials).sort()).toEqual([
      "accessKeyId",
      "expiration",
      "secretAccessKey",
      "sessionToken",
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("(ResourceNotFoundException)");
  });

  it("aws cloudtrail lookup-events: both calls, filtered by event name and by resource", async () => {
    // Prepare
    await pods.irsa(app, `arn:aws:iam::${ACCOUNT_ID}:role/cart-irsa`);
    await pods.podIdentity(app);
    // Act
    const irsa = await aws([
      "cloudtrail",
      "lookup-events",
      "--lookup-attributes",
      "AttributeKey=EventName,AttributeValue=AssumeRoleWithWebIdentity",
    ]);
    const byRole = await aws([
      "cloudtrail",
      "lookup-events",
      "--lookup-attributes",
      `AttributeKey=ResourceName,AttributeValue=arn:aws:iam::${ACCOUNT_ID}:role/cart-pods`,
    ]);
    const all = await aws(["cloudtrail", "lookup-events", "--page-size", "1"]);
    // Assess
    expect(irsa.code).toBe(0);
    expect(irsa.out.Events.map((e: { EventName: string }) => e.EventName)).toEqual([
      "AssumeRoleWithWebIdentity",
    ]);
    expect(JSON.parse(irsa.out.Events[0].CloudTrailEvent).userIdentity.type).toBe("WebIdentityUser");
    expect(byRole.out.Events.map((e: { EventName: string }) => e.EventName)).toEqual(["AssumeRole"]);
    // the CLI follows NextToken itself: three events in pages of one
    expect(all.out.Events.map((e: { EventName: string }) => e.EventName).sort()).toEqual([
      "AssumeRole",
      "AssumeRoleForPodIdentity",
      "AssumeRoleWithWebIdentity",
    ]);
  });
});
