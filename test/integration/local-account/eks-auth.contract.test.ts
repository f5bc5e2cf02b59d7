import {
  CreatePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../../support/local-account.js";
import { LocalPods, type PodRef } from "../../support/pods.js";

const ctx = useLocalAccount();
let pods: LocalPods;
let clients: ReturnType<typeof awsClientsFor>;
let alphaArn: string;

const app: PodRef = {
  cluster: "alpha",
  namespace: "shop",
  serviceAccount: "cart",
  podName: "cart-7d9f",
  podUid: "uid-1",
};

function podTrust(
  extra: Record<string, unknown> = {},
  actions = ["sts:AssumeRole", "sts:TagSession"],
): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: actions, ...extra },
    ],
  });
}

async function associate(
  role: string,
  trust: string,
  options: { serviceAccount?: string; disableSessionTags?: boolean; targetRoleArn?: string } = {},
): Promise<{ roleArn: string; associationId: string; externalId?: string }> {
  const roleArn = await createRole(clients.iam, role, { trust });
  const out = await clients.eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: "alpha",
      namespace: "shop",
      serviceAccount: options.serviceAccount ?? "cart",
      roleArn,
      ...(options.disableSessionTags !== undefined ? { disableSessionTags: options.disableSessionTags } : {}),
      ...(options.targetRoleArn ? { targetRoleArn: options.targetRoleArn } : {}),
    }),
  );
  return {
    roleArn,
    associationId: out.association!.associationId!,
    ...(out.association?.externalId ? { externalId: out.association.externalId } : {}),
  };
}

beforeEach(async () => {
  pods = new LocalPods(ctx.account.endpoint);
  clients = awsClientsFor(ctx.account.endpoint, 1, ACCOUNT_ID);
  alphaArn = await createCluster(clients, "alpha");
  await createCluster(clients, "beta");
});

describe("EKS Auth AssumeRoleForPodIdentity", () => {
  it("gives the associated role's credentials and records the EKS Auth call and the tagged STS AssumeRole", async () => {
    // Prepare
    const { roleArn, associationId } = await associate("cart-pods", podTrust());
    // Act
    const creds = await pods.podIdentity(app);
    const eksAuth = await pods.records({ eventName: "AssumeRoleForPodIdentity" });
    const sts = await pods.records({ eventName: "AssumeRole" });
    const byRole = await pods.lookupEvents({ resourceName: roleArn });
    const byCluster = await pods.lookupEvents({ resourceName: "alpha" });
    // Assess
    expect(creds).toMatchObject({ ok: true });
    expect(creds.ok && creds.assumedRoleArn).toMatch(
      new RegExp(`^arn:aws:sts::${ACCOUNT_ID}:assumed-role/cart-pods/eks-alpha-cart-7d9f-[0-9a-f-]{36}$`),
    );
    expect(eksAuth).toHaveLength(1);
    expect(eksAuth[0]).toMatchObject({
      eventSource: "eks-auth.amazonaws.com",
      requestParameters: { clusterName: "alpha", token: "HIDDEN_DUE_TO_SECURITY_REASONS" },
      responseElements: null,
    });
    expect(eksAuth[0]).not.toHaveProperty("errorCode");
    expect(sts).toHaveLength(1);
    expect(sts[0]).toMatchObject({
      eventSource: "sts.amazonaws.com",
      userIdentity: { type: "AWSService", invokedBy: "pods.eks.amazonaws.com" },
      requestParameters: {
        roleArn,
        durationSeconds: 21600,
        tags: [
          { key: "eks-cluster-arn", value: alphaArn },
          { key: "eks-cluster-name", value: "alpha" },
          { key: "kubernetes-namespace", value: "shop" },
          { key: "kubernetes-service-account", value: "cart" },
          { key: "kubernetes-pod-name", value: "cart-7d9f" },
          { key: "kubernetes-pod-uid", value: "uid-1" },
        ],
      },
      resources: [{ type: "AWS::IAM::Role", ARN: roleArn }],
    });
    expect(byRole.map((e) => e.EventName)).toEqual(["AssumeRole"]);
    expect(byCluster.map((e) => e.EventName)).toEqual(["AssumeRoleForPodIdentity"]);
    const described = await clients.eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: "alpha", associationId }),
    );
    expect(described.association?.roleArn).toBe(roleArn);
  });

  it("evaluates aws:RequestTag, aws:SourceAccount and aws:SourceArn conditions of the trust", async () => {
    // Prepare
    await associate(
      "scoped",
      podTrust({
        Condition: {
          StringEquals: {
            "aws:SourceAccount": ACCOUNT_ID,
            "aws:RequestTag/kubernetes-namespace": "shop",
            "aws:RequestTag/kubernetes-service-account": "cart",
          },
          ArnEquals: { "aws:SourceArn": alphaArn },
        },
      }),
    );
    await associate(
      "other-namespace",
      podTrust({ Condition: { StringEquals: { "aws:RequestTag/kubernetes-namespace": "ops" } } }),
      { serviceAccount: "other" },
    );
    // Act
    const allowed = await pods.podIdentity(app);
    const refused = await pods.podIdentity({ ...app, serviceAccount: "other" });
    // Assess
    expect(allowed.ok).toBe(true);
    expect(refused).toMatchObject({
      ok: false,
      code: "AccessDeniedException",
      status: 400,
      message: "Unauthorized Exception! EKS does not have permissions to assume the associated role.",
    });
    const [eksAuth] = await pods.records({ eventName: "AssumeRoleForPodIdentity" });
    const [sts] = await pods.records({ eventName: "AssumeRole" });
    expect(eksAuth).toMatchObject({ errorCode: "AccessDeniedException" });
    expect(sts).toMatchObject({ errorCode: "AccessDenied", responseElements: null });
  });

  it("refuses the pods of a cluster a Deny statement names", async () => {
    // Prepare
    await associate(
      "deny-alpha",
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
          },
          {
            Effect: "Deny",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:RequestTag/eks-cluster-name": "alpha" } },
          },
        ],
      }),
    );
    // Act
    const result = await pods.podIdentity(app);
    // Assess
    expect(result).toMatchObject({ ok: false, code: "AccessDeniedException" });
  });

  it("sends no session tags when the association disables them", async () => {
    // Prepare
    const { roleArn } = await associate("untagged", podTrust({}, ["sts:AssumeRole"]), {
      disableSessionTags: true,
    });
    // Act
    const creds = await pods.podIdentity(app);
    const [sts] = await pods.records({ resourceName: roleArn });
    // Assess
    expect(creds.ok).toBe(true);
    expect(sts?.requestParameters).not.toHaveProperty("tags");
  });

  it("answers ResourceNotFound without an association or cluster, and token errors as EKS Auth does", async () => {
    // Prepare
    await associate("cart-pods", podTrust());
    const betaToken = await pods.token({ ...app, cluster: "beta" }, { audience: "pods.eks.amazonaws.com" });
    const irsaToken = await pods.token(app, { audience: "sts.amazonaws.com" });
    const shortLived = await pods.token(app, { audience: "pods.eks.amazonaws.com", lifetimeSeconds: 60 });
    // Act
    const noAssociation = await pods.podIdentity({ ...app, serviceAccount: "nobody" });
    const noCluster = await pods.podIdentity({ ...app, cluster: "gamma" }, { token: irsaToken });
    const otherCluster = await pods.podIdentity(app, { token: betaToken });
    const wrongAudience = await pods.podIdentity(app, { token: irsaToken });
    const malformed = await pods.podIdentity(app, { token: "not-a-jwt" });
    await pods.advanceClock(61);
    const expired = await pods.podIdentity(app, { token: shortLived });
    // Assess
    expect(noAssociation).toMatchObject({ ok: false, code: "ResourceNotFoundException", status: 404 });
    expect(noCluster).toMatchObject({ ok: false, code: "ResourceNotFoundException", status: 404 });
    expect([otherCluster, wrongAudience, malformed].map((r) => !r.ok && r.code)).toEqual([
      "InvalidTokenException",
      "InvalidTokenException",
      "InvalidTokenException",
    ]);
    expect(expired).toMatchObject({ ok: false, code: "ExpiredTokenException", status: 400 });
  });

  it("answers bad input with a 4xx and never a server error", async () => {
    // Prepare
    await associate("cart-pods", podTrust());
    const claims = (c: unknown) => `x.${Buffer.from(JSON.stringify(c)).toString("base64url")}.y`;
    const issuer = await pods.issuer("alpha");
    const bodies = [
      "not json",
      "[]",
      JSON.stringify({ token: 42 }),
      JSON.stringify({ token: claims(null) }),
      JSON.stringify({ token: claims({ iss: issuer, aud: "pods.eks.amazonaws.com", exp: 4e9, sub: 7 }) }),
      JSON.stringify({
        token: claims({
          iss: issuer,
          aud: ["pods.eks.amazonaws.com"],
          exp: 4e9,
          sub: "system:serviceaccount:shop:cart",
          "kubernetes.io": "oops",
        }),
      }),
    ];
    // Act
    const statuses = await Promise.all(
      bodies.map(
        async (body) =>
          (
            await fetch(`${ctx.account.endpoint}/clusters/alpha/assume-role-for-pod-identity`, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT_ID}/20260101/us-east-1/eks-auth/aws4_request, SignedHeaders=host, Signature=0`,
              },
              body,
            })
          ).status,
      ),
    );
    // Assess
    expect(statuses.every((status) => status >= 400 && status < 500)).toBe(true);
  });

  it("answers injected faults with EKS Auth's own error names", async () => {
    // Prepare
    await associate("cart-pods", podTrust());
    await ctx.account.setFaults({
      failNext: { AssumeRoleForPodIdentity: 1 },
      throttle: { other: { rate: 0.001, burst: 1 } },
    });
    // Act
    const failed = await pods.podIdentity(app);
    const passed = await pods.podIdentity(app);
    const throttled = await pods.podIdentity(app);
    // Assess
    expect(failed).toMatchObject({ ok: false, code: "InternalServerException", status: 500 });
    expect(passed.ok).toBe(true);
    expect(throttled).toMatchObject({ ok: false, code: "ThrottlingException", status: 429 });
  });

  it("chains to the target role with the association's external id", async () => {
    // Prepare
    const targetArn = await createRole(clients.iam, "target", { trust: podTrust() });
    const { roleArn, externalId } = await associate("first-hop", podTrust(), { targetRoleArn: targetArn });
    await clients.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: "target",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: roleArn },
              Action: ["sts:AssumeRole", "sts:TagSession"],
              Condition: { StringEquals: { "sts:ExternalId": externalId } },
            },
          ],
        }),
      }),
    );
    // Act
    const creds = await pods.podIdentity(app);
    const assumes = await pods.records({ eventName: "AssumeRole" });
    // Assess
    expect(creds.ok && creds.assumedRoleArn.split("/")[1]).toBe("target");
    expect(assumes.map((r) => [r.requestParameters.roleArn, r.userIdentity.type])).toEqual([
      [targetArn, "AssumedRole"],
      [roleArn, "AWSService"],
    ]);
    expect(assumes[0]).toMatchObject({ requestParameters: { externalId } });
  });
});
