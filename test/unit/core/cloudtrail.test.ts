import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEksEvent, parseIamEvent } from "../../../functions/core/cloudtrail.js";

const sample = (name: string) => JSON.parse(readFileSync(`events/${name}`, "utf8")) as Record<string, any>;

describe("parseEksEvent", () => {
  it.each([
    ["eks-create-cluster.json", { eventName: "CreateCluster", clusterName: "payments-prod" }],
    ["eks-tag-resource.json", { eventName: "TagResource", clusterName: "payments-prod" }],
    ["eks-untag-resource.json", { eventName: "UntagResource", clusterName: "payments-prod" }],
    ["eks-delete-cluster.json", { eventName: "DeleteCluster", clusterName: "payments-staging" }],
  ])("reads %s", (file, expected) => {
    expect(parseEksEvent(sample(file))).toMatchObject({ ok: true, ...expected });
  });

  it("rejects failed calls, other sources, non-cluster resources and malformed events", () => {
    const tagAssociation = sample("eks-tag-resource.json");
    tagAssociation.detail.requestParameters.resourceArn =
      "arn:aws:eks:us-east-1:123456789012:podidentityassociation/p/a-1";
    const otherEvent = sample("eks-tag-resource.json");
    otherEvent.detail.eventName = "CreateNodegroup";
    const badName = sample("eks-create-cluster.json");
    badName.detail.requestParameters.name = "../etc";

    expect(parseEksEvent(sample("eks-create-cluster-failed.json"))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/failed/),
    });
    expect(parseEksEvent(sample("iam-tag-role.json"))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expected aws.eks/),
    });
    expect(parseEksEvent(tagAssociation)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a cluster/),
    });
    expect(parseEksEvent(otherEvent)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not handled/),
    });
    expect(parseEksEvent(badName)).toMatchObject({ ok: false });
    expect(parseEksEvent(null)).toMatchObject({ ok: false });
    expect(parseEksEvent({ source: "aws.eks" })).toMatchObject({ ok: false });
  });
});

describe("parseEksEvent with the shapes CloudTrail really logs", () => {
  const CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/payments-prod";

  it("reads TagResource/UntagResource whose resourceArn path parameter is URL-encoded, and raw ones", () => {
    // Prepare
    const encoded = sample("eks-tag-resource.json");
    const raw = sample("eks-untag-resource.json");
    raw.detail.requestParameters.resourceArn = CLUSTER_ARN;
    const govCloud = sample("eks-tag-resource.json");
    govCloud.detail.requestParameters.resourceArn = encodeURIComponent(
      "arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/prod",
    );

    // Act / Assess
    expect(encoded.detail.requestParameters.resourceArn).toBe(encodeURIComponent(CLUSTER_ARN));
    expect(parseEksEvent(encoded)).toEqual({
      ok: true,
      eventName: "TagResource",
      clusterName: "payments-prod",
      resourceArn: CLUSTER_ARN,
    });
    expect(parseEksEvent(raw)).toMatchObject({
      ok: true,
      clusterName: "payments-prod",
      resourceArn: CLUSTER_ARN,
    });
    expect(parseEksEvent(govCloud)).toMatchObject({ ok: true, clusterName: "prod" });
  });

  it("rejects encoded association ARNs and broken percent-encoding with a reason", () => {
    const association = sample("eks-tag-resource.json");
    association.detail.requestParameters.resourceArn = encodeURIComponent(
      "arn:aws:eks:us-east-1:123456789012:podidentityassociation/payments-prod/a-1",
    );
    const broken = sample("eks-tag-resource.json");
    broken.detail.requestParameters.resourceArn = "arn%3Aaws%3Aeks%3Aus-east-1%ZZ";

    expect(parseEksEvent(association)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a cluster/),
    });
    expect(parseEksEvent(broken)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a cluster/),
    });
  });

  it("reads CreateCluster logged with clusterName (AWS's published example) as well as name", () => {
    const legacy = sample("eks-create-cluster.json");
    delete legacy.detail.requestParameters.name;
    legacy.detail.requestParameters.clusterName = "payments-prod";
    const deleteWithClusterName = sample("eks-delete-cluster.json");
    delete deleteWithClusterName.detail.requestParameters.name;
    deleteWithClusterName.detail.requestParameters.clusterName = "payments-staging";

    expect(parseEksEvent(legacy)).toEqual({
      ok: true,
      eventName: "CreateCluster",
      clusterName: "payments-prod",
    });
    expect(parseEksEvent(deleteWithClusterName)).toMatchObject({ ok: false });
  });
});

describe("parseIamEvent", () => {
  it.each([
    ["iam-create-role.json", "CreateRole", "orders-api"],
    ["iam-tag-role.json", "TagRole", "orders-api"],
    ["iam-untag-role.json", "UntagRole", "metrics-reader"],
    ["iam-update-assume-role-policy.json", "UpdateAssumeRolePolicy", "orders-api"],
    ["iam-delete-role.json", "DeleteRole", "metrics-reader"],
  ])("reads %s", (file, eventName, roleName) => {
    expect(parseIamEvent(sample(file))).toEqual({ ok: true, eventName, roleName });
  });

  it("rejects failed calls and events without a role name", () => {
    const noRole = sample("iam-tag-role.json");
    delete noRole.detail.requestParameters.roleName;
    expect(parseIamEvent(sample("iam-tag-role-failed.json"))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/AccessDenied/),
    });
    expect(parseIamEvent(noRole)).toMatchObject({ ok: false, reason: expect.stringMatching(/roleName/) });
    expect(parseIamEvent({ ...sample("iam-tag-role.json"), "detail-type": "Scheduled Event" })).toMatchObject(
      { ok: false },
    );
  });
});
