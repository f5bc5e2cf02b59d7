import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { cloudTrailEvidence, credentialUseOf } from "../../../functions/aws/cloudtrail-evidence.js";

const ROLE = "arn:aws:iam::111122223333:role/app";
const PROVIDER = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
const when = new Date("2026-11-23T10:00:00Z");
const event = (name: string, record: Record<string, unknown>) => ({
  EventName: name,
  EventTime: when,
  CloudTrailEvent: JSON.stringify({ eventTime: "2026-11-23T10:00:00Z", eventName: name, ...record }),
});

describe("CloudTrail records read as credential uses (shapes: the CloudTrail userIdentity reference)", () => {
  it("reads a pod on IRSA from AssumeRoleWithWebIdentity", () => {
    const use = credentialUseOf(
      event("AssumeRoleWithWebIdentity", {
        userIdentity: {
          type: "WebIdentityUser",
          userName: "system:serviceaccount:web:api",
          identityProvider: PROVIDER,
        },
        requestParameters: { roleArn: ROLE, roleSessionName: "s" },
      }),
      ROLE,
    );
    expect(use).toEqual({
      kind: "irsa",
      time: when,
      roleArn: ROLE,
      providerArn: PROVIDER,
      subject: "system:serviceaccount:web:api",
    });
  });

  it("reads a pod on Pod Identity from the STS AssumeRole EKS Auth makes with its session tags", () => {
    const use = credentialUseOf(
      event("AssumeRole", {
        userIdentity: { type: "AWSService", invokedBy: "pods.eks.amazonaws.com" },
        requestParameters: {
          roleArn: ROLE,
          tags: [
            { key: "eks-cluster-name", value: "prod" },
            { key: "kubernetes-namespace", value: "web" },
            { key: "kubernetes-service-account", value: "api" },
          ],
        },
      }),
      ROLE,
    );
    expect(use).toMatchObject({
      kind: "pod-identity",
      clusterName: "prod",
      namespace: "web",
      serviceAccount: "api",
    });
  });

  it("never reads a web identity record it cannot understand as absence; ignores refused calls", () => {
    expect(
      credentialUseOf(event("AssumeRoleWithWebIdentity", { userIdentity: { type: "Unknown" } }), ROLE),
    ).toMatchObject({ kind: "unreadable" });
    expect(
      credentialUseOf({ ...event("AssumeRoleWithWebIdentity", {}), CloudTrailEvent: "{" }, ROLE),
    ).toMatchObject({ kind: "unreadable" });
    expect(
      credentialUseOf(event("AssumeRoleWithWebIdentity", { errorCode: "AccessDenied" }), ROLE),
    ).toBeUndefined();
  });

  it("pages LookupEvents by ResourceName (pacing is the client's: shared-pacing tests)", async () => {
    // Prepare: three pages
    const mock = mockClient(CloudTrailClient);
    mock
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [], NextToken: "a" })
      .resolvesOnce({ Events: [], NextToken: "b" })
      .resolves({ Events: [] });
    const evidence = cloudTrailEvidence(new CloudTrailClient({}));

    // Act
    await evidence.credentialUses(ROLE, new Date(0), when);

    // Assess
    const calls = mock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.LookupAttributes).toEqual([{ AttributeKey: "ResourceName", AttributeValue: ROLE }]);
    expect(calls[2]?.NextToken).toBe("b");
    mock.restore();
  });
});
