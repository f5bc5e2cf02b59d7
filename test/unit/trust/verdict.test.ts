import { describe, expect, it } from "vitest";
import { podIdentityVerdicts } from "../../../functions/core/trust/index.js";
import { ACCOUNT, CLUSTER_ARN, podsStatement, policy } from "../../support/policies.js";

const clusters = [
  { name: "prod", arn: CLUSTER_ARN },
  { name: "dev", arn: `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/dev` },
];
const serviceAccounts = [
  { namespace: "payments", serviceAccount: "api" },
  { namespace: "orders", serviceAccount: "api" },
];
const verdicts = (condition: Record<string, unknown>, sessionTagsDisabled = false) =>
  podIdentityVerdicts(policy(podsStatement({ Condition: condition })), {
    accountId: ACCOUNT,
    clusters,
    serviceAccounts,
    sessionTagsDisabled,
  }).map((v) => `${v.clusterName}/${v.namespace} ${v.verdict}${v.code ? ` ${v.code}` : ""}`);

describe("podIdentityVerdicts: every key Pod Identity supplies to STS", () => {
  it("evaluates the session tags with each association's exact values", () => {
    expect(
      verdicts({
        StringEquals: {
          "aws:RequestTag/eks-cluster-name": "prod",
          "aws:RequestTag/kubernetes-service-account": "api",
        },
        StringLike: { "aws:RequestTag/kubernetes-namespace": "pay*" },
      }),
    ).toEqual([
      "prod/payments allowed",
      "prod/orders refused REQUEST_TAG_EXCLUDES",
      "dev/payments refused REQUEST_TAG_EXCLUDES",
      "dev/orders refused REQUEST_TAG_EXCLUDES",
    ]);
    expect(verdicts({ StringEquals: { "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN } })[0]).toBe(
      "prod/payments allowed",
    );
  });

  it("refuses request-tag conditions when session tags are disabled (STS receives no tags)", () => {
    expect(verdicts({ StringEquals: { "aws:RequestTag/kubernetes-namespace": "payments" } }, true)).toEqual([
      "prod/payments refused REQUEST_TAG_EXCLUDES",
      "prod/orders refused REQUEST_TAG_EXCLUDES",
      "dev/payments refused REQUEST_TAG_EXCLUDES",
      "dev/orders refused REQUEST_TAG_EXCLUDES",
    ]);
  });

  it("is undecided, never passing nor refusing, on keys known only when the pod exists or not documented", () => {
    for (const condition of [
      { StringEquals: { "aws:RequestTag/kubernetes-pod-name": "api-0" } },
      { StringEquals: { "aws:RequestTag/kubernetes-pod-uid": "x" } },
      { StringEquals: { "aws:PrincipalTag/team": "a" } },
      { Bool: { "aws:SecureTransport": "true" } },
    ]) {
      expect(new Set(verdicts(condition).map((v) => v.split(" ").slice(1).join(" ")))).toEqual(
        new Set(["undecided TRUST_UNDECIDED"]),
      );
    }
  });

  it("gives ArnLike and ArnEquals the same verdict, and accepts the cluster ARN or podidentityassociation/<cluster>/*", () => {
    const pattern = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/pro*`;
    const association = `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/prod/*`;

    expect(verdicts({ ArnLike: { "aws:SourceArn": pattern } })).toEqual(
      verdicts({ ArnEquals: { "aws:SourceArn": pattern } }),
    );
    expect(verdicts({ ArnLike: { "aws:SourceArn": association } })).toEqual([
      "prod/payments allowed",
      "prod/orders allowed",
      "dev/payments refused SOURCE_ARN_EXCLUDES_CLUSTER",
      "dev/orders refused SOURCE_ARN_EXCLUDES_CLUSTER",
    ]);
  });
});
