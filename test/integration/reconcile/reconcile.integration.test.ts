import {
  CreateAddonCommand,
  CreatePodIdentityAssociationCommand,
  DescribeAddonCommand,
  TagResourceCommand,
} from "@aws-sdk/client-eks";
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { readAssociations } from "../../../functions/aws/inventory.js";
import { CATALOG_BY_NAME } from "../../../functions/core/catalog.js";
import { DETAIL_TYPES } from "../../../functions/core/events.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, useLocalAccount, writeCalls } from "../../support/local-account.js";
import { type LocalRun, localReconciler } from "../../support/local-reconcile.js";

const ctx = useLocalAccount();

function setup(maxAttempts = 8) {
  const sleeps: number[] = [];
  const reconciler = localReconciler(ctx.account.endpoint, {
    maxAttempts,
    apply: { sleep: async (ms) => void sleeps.push(ms) },
  });
  const { clients, publisher } = reconciler;
  const run = (request: LocalRun = {}) => reconciler.run(request);
  const slots = async (cluster: string) =>
    (await readAssociations(clients.eks, cluster))
      .map((a) => `${a.namespace}/${a.serviceAccount}=${a.roleArn.split("/").pop()}`)
      .sort();
  return { clients, publisher, sleeps, run, slots };
}

const DYNAMODB = new Set(["Query", "PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "Scan"]);
const withoutIndex = (calls: Record<string, number>) =>
  Object.fromEntries(Object.entries(calls).filter(([op]) => !DYNAMODB.has(op)));

const bind = (value: string, clusters = "all", extra: Record<string, string> = {}) => ({
  "pod-identity/bind": value,
  "pod-identity/clusters": clusters,
  ...extra,
});

describe("reconcile on the local account", () => {
  it("onboards clusters: associations, the agent add-on, catalog roles; a second run changes nothing", async () => {
    // Prepare
    const { clients, run, slots, publisher } = setup();
    await createCluster(clients, "prod", {
      tags: {
        "pod-identity-scope/env": "prod",
        "pod-identity/templates": "external-dns",
        "pod-identity/route53-zones": "Z0PROD1",
      },
    });
    await createCluster(clients, "dev", { tags: { env: "dev" } });
    await createRole(clients.iam, "api", {
      tags: bind("orders/api orders/worker", "tag:pod-identity-scope/env=prod"),
    });
    await createRole(clients.iam, "metrics", { tags: bind("monitoring/prometheus") });

    // Act
    const first = await run();
    await ctx.account.resetCalls();
    const second = await run();
    // EKS and IAM: the second run's DynamoDB calls are the template index's upkeep
    const writesOfSecond = withoutIndex(writeCalls((await ctx.account.calls()).calls));

    // Assess
    expect(first).toMatchObject({ created: 5, failed: 0 });
    expect(first.agentInstalled.sort()).toEqual(["dev", "prod"]);
    expect(first.catalogRoles.created).toEqual(["pod-identity-external-dns"]);
    expect(await slots("prod")).toEqual([
      "external-dns/external-dns=pod-identity-external-dns",
      "monitoring/prometheus=metrics",
      "orders/api=api",
      "orders/worker=api",
    ]);
    expect(await slots("dev")).toEqual(["monitoring/prometheus=metrics"]);
    const catalogRole = await clients.iam.send(new GetRoleCommand({ RoleName: "pod-identity-external-dns" }));
    expect(catalogRole.Role?.Path).toBe("/pod-identity/");
    expect(catalogRole.Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(
      `arn:aws:iam::${ACCOUNT_ID}:policy/pod-identity/pod-identity-catalog-boundary`,
    );
    const trust = JSON.parse(decodeURIComponent(catalogRole.Role?.AssumeRolePolicyDocument ?? ""));
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      "aws:SourceAccount": ACCOUNT_ID,
      "aws:RequestTag/kubernetes-namespace": "external-dns",
      "aws:RequestTag/kubernetes-service-account": "external-dns",
      "aws:RequestTag/eks-cluster-arn": [expect.stringMatching(/:cluster\/prod$/)],
    });
    const policy = await clients.iam.send(
      new GetRolePolicyCommand({ RoleName: "pod-identity-external-dns", PolicyName: "pod-identity-catalog" }),
    );
    const written = JSON.parse(decodeURIComponent(policy.PolicyDocument ?? ""));
    expect(written.Statement).toContainEqual(
      expect.objectContaining({
        Action: ["route53:ChangeResourceRecordSets"],
        Resource: ["arn:aws:route53:::hostedzone/Z0PROD1"],
      }),
    );
    expect(second).toMatchObject({ created: 0, updated: 0, deleted: 0, unchanged: 5 });
    expect(writesOfSecond).toEqual({});
    expect(publisher.events.filter((e) => e.detailType === DETAIL_TYPES.associationCreated)).toHaveLength(5);
    // one audit event per cluster reconcile, with its counts
    const completed = publisher.events.filter((e) => e.detailType === DETAIL_TYPES.reconcileCompleted);
    expect(completed.map((e) => e.detail.clusterName).sort()).toEqual(["dev", "dev", "prod", "prod"]);
    expect(completed.find((e) => e.detail.clusterName === "prod")?.detail).toMatchObject({ created: 4 });
  });

  it("moves associations when a role is re-tagged and deletes them when it is untagged", async () => {
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "api", { tags: bind("orders/api") });
    await run();

    await clients.iam.send(
      new TagRoleCommand({ RoleName: "api", Tags: [{ Key: "pod-identity/bind", Value: "orders/api-v2" }] }),
    );
    const moved = await run({ role: "api" });
    const afterMove = await slots("prod");
    await clients.iam.send(new UntagRoleCommand({ RoleName: "api", TagKeys: ["pod-identity/bind"] }));
    const removed = await run({ role: "api" });

    expect(moved).toMatchObject({ created: 1, deleted: 1 });
    expect(afterMove).toEqual(["orders/api-v2=api"]);
    expect(removed).toMatchObject({ deleted: 1 });
    expect(await slots("prod")).toEqual([]);
  });

  it("updates session tags and the target role in place", async () => {
    const { clients, run } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "api", { tags: bind("orders/api") });
    await run();

    await clients.iam.send(
      new TagRoleCommand({
        RoleName: "api",
        Tags: [
          { Key: "pod-identity/session-tags", Value: "disabled" },
          { Key: "pod-identity/target-role", Value: "arn:aws:iam::210987654321:role/lake-reader" },
        ],
      }),
    );
    const summary = await run();
    const [a] = await readAssociations(clients.eks, "prod");

    expect(summary.updated).toBe(1);
    expect(a).toMatchObject({
      disableSessionTags: true,
      targetRoleArn: "arn:aws:iam::210987654321:role/lake-reader",
    });
  });

  it("leaves opted-out clusters, unmanaged and add-on-owned associations alone, and reports conflicts", async () => {
    // Prepare
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createCluster(clients, "frozen", { tags: { "pod-identity/opt-out": "true" } });
    await createRole(clients.iam, "a", {
      tags: bind("orders/api web/frontend kube-system/ebs-csi-controller-sa"),
    });
    await createRole(clients.iam, "b", { tags: bind("orders/api") });
    await createRole(clients.iam, "manual");
    await clients.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "prod",
        namespace: "web",
        serviceAccount: "frontend",
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/manual`,
      }),
    );
    await clients.eks.send(
      new CreateAddonCommand({
        clusterName: "prod",
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [
          { serviceAccount: "ebs-csi-controller-sa", roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/manual` },
        ],
      }),
    );

    // Act
    const summary = await run();

    // Assess
    expect(summary.created).toBe(0);
    expect(summary.findings.map((f) => f.code).sort()).toEqual([
      "ADDON_OWNED",
      "CONFLICT",
      "UNMANAGED_EXISTS",
    ]);
    expect(await slots("prod")).toEqual(["kube-system/ebs-csi-controller-sa=manual", "web/frontend=manual"]);
    expect(await slots("frozen")).toEqual([]);
  });

  it("does not attempt a role whose trust STS would refuse in a cluster", async () => {
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createCluster(clients, "dev");
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/prod` } },
        },
      ],
    });
    await createRole(clients.iam, "api", { trust, tags: bind("orders/api") });

    const summary = await run();

    expect(await slots("prod")).toEqual(["orders/api=api"]);
    expect(await slots("dev")).toEqual([]);
    expect(summary.findings).toEqual([
      expect.objectContaining({ code: "TRUST_REFUSED", clusterName: "dev" }),
    ]);
  });

  it("a trust restricting aws:RequestTag/kubernetes-namespace is associated only in that namespace, with a finding for the others", async () => {
    // Prepare: AWS's documented restriction (pod-id-role): session tags checked by STS, not by EKS
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: {
            StringEquals: {
              "aws:SourceAccount": ACCOUNT_ID,
              "aws:RequestTag/kubernetes-namespace": "payments",
            },
          },
        },
      ],
    });
    await createRole(clients.iam, "api", { trust, tags: bind("payments/api orders/api") });

    // Act
    const summary = await run();

    // Assess
    expect(await slots("prod")).toEqual(["payments/api=api"]);
    expect(summary.findings).toEqual([
      expect.objectContaining({
        code: "TRUST_REFUSED",
        clusterName: "prod",
        namespace: "orders",
        serviceAccount: "api",
        message: expect.stringMatching(/REQUEST_TAG_EXCLUDES.*kubernetes-namespace/),
      }),
    ]);
  });

  it("a trust condition on a key known only when the pod exists (kubernetes-pod-name) associates with a warning", async () => {
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    const trust = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "pods.eks.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
          Condition: { StringLike: { "aws:RequestTag/kubernetes-pod-name": "api-*" } },
        },
      ],
    });
    await createRole(clients.iam, "api", { trust, tags: bind("orders/api") });

    const summary = await run();

    expect(await slots("prod")).toEqual(["orders/api=api"]);
    expect(summary.findings).toEqual([
      expect.objectContaining({ code: "TRUST_UNDECIDED", severity: "warning", namespace: "orders" }),
    ]);
  });

  it("dry run plans without writing anything", async () => {
    const { clients, run } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/templates": "cert-manager" } });
    await createRole(clients.iam, "api", { tags: bind("orders/api") });
    await ctx.account.resetCalls();

    const summary = await run({ dryRun: true });

    expect(summary.changes.map((c) => `${c.kind} ${c.namespace}/${c.serviceAccount} ${c.status}`)).toEqual([
      "create orders/api planned",
      "create cert-manager/cert-manager planned",
    ]);
    expect(writeCalls((await ctx.account.calls()).calls)).toEqual({});
  });

  it("deletes no more than the account-wide budget allows and holds the rest", async () => {
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    const many = Array.from({ length: 8 }, (_, i) => `team/sa-${i}`).join(" ");
    await createRole(clients.iam, "api", { tags: bind(many) });
    await run();

    await clients.iam.send(new UntagRoleCommand({ RoleName: "api", TagKeys: ["pod-identity/bind"] }));
    const summary = await run({ budget: { floor: 2, fraction: 0.1 } });

    expect(summary).toMatchObject({ deleted: 2, held: 6 });
    expect(summary.findings).toContainEqual(expect.objectContaining({ code: "DELETIONS_HELD" }));
    expect(await slots("prod")).toHaveLength(6);
  });

  it("retries a role EKS cannot see yet (IAM eventual consistency) with back-off", async () => {
    const { clients, sleeps, slots } = setup();
    await createCluster(clients, "prod");
    await ctx.account.setFaults({ iamConsistencyDelayMs: 600_000 });
    await createRole(clients.iam, "fresh", { tags: bind("orders/api") });
    const visibleAfterFirstBackoff = async (ms: number) => {
      sleeps.push(ms);
      await ctx.account.setFaults({});
    };

    const summary = await localReconciler(ctx.account.endpoint, {
      apply: { sleep: visibleAfterFirstBackoff },
    }).run();

    expect(summary.created).toBe(1);
    expect(sleeps).toEqual([1000]);
    expect(await slots("prod")).toEqual(["orders/api=fresh"]);
  });

  it("lets the SDK absorb throttling", async () => {
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "api", {
      tags: bind(Array.from({ length: 12 }, (_, i) => `ns/sa-${i}`).join(" ")),
    });
    await ctx.account.setFaults({ throttle: { "eks-write": { rate: 40, burst: 2 } } });

    const summary = await run();

    expect(summary).toMatchObject({ created: 12, failed: 0 });
    expect(Object.keys((await ctx.account.calls()).throttled).length).toBeGreaterThan(0);
    expect(await slots("prod")).toHaveLength(12);
  });

  it("keeps going when one change fails and says which", async () => {
    const { clients, run } = setup(1);
    await createCluster(clients, "prod");
    await createCluster(clients, "dev");
    await createRole(clients.iam, "api", { tags: bind("orders/api") });
    await ctx.account.setFaults({ failNext: { CreatePodIdentityAssociation: 1 } });

    const summary = await run();

    expect(summary).toMatchObject({ created: 1, failed: 1 });
    expect(summary.findings).toContainEqual(
      expect.objectContaining({ code: "APPLY_FAILED", message: expect.stringMatching(/ServerException/) }),
    );
  });

  it("converges when an association appears between plan and apply (409)", async () => {
    const { clients, run } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "api", { tags: bind("orders/api") });
    // a concurrent run got there first, with the same tags
    await clients.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "prod",
        namespace: "orders",
        serviceAccount: "api",
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/pod-identity-templates/api`,
        tags: { "pod-identity/managed-by": "pod-identity-autopilot", "pod-identity/source": "api" },
      }),
    );

    const summary = await run();

    expect(summary).toMatchObject({ created: 0, unchanged: 1, failed: 0 });
  });

  it("brings an outdated catalog role up to the catalog version", async () => {
    const { clients, run } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/templates": "aws-ebs-csi-driver" } });
    await run();
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: "pod-identity-aws-ebs-csi-driver",
        Tags: [{ Key: "pod-identity/catalog-version", Value: "0.1" }],
      }),
    );

    const summary = await run();
    const role = await clients.iam.send(new GetRoleCommand({ RoleName: "pod-identity-aws-ebs-csi-driver" }));

    expect(summary.catalogRoles.updated).toEqual(["pod-identity-aws-ebs-csi-driver"]);
    expect(role.Role?.Tags).toContainEqual({
      Key: "pod-identity/catalog-version",
      Value: CATALOG_BY_NAME.get("aws-ebs-csi-driver")?.version,
    });
    expect(role.Role?.Tags).toContainEqual({ Key: "pod-identity/catalog-previous-version", Value: "0.1" });
    expect(summary.findings.map((f) => f.code)).toContain("CATALOG_ACTIONS_REMOVED");
  });

  it("does not install the agent where the cluster opts out of it", async () => {
    const { clients, run } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/install-agent": "false" } });
    await createRole(clients.iam, "api", { tags: bind("orders/api") });

    const summary = await run();

    expect(summary.agentInstalled).toEqual([]);
    await expect(
      clients.eks.send(
        new DescribeAddonCommand({ clusterName: "prod", addonName: "eks-pod-identity-agent" }),
      ),
    ).rejects.toThrow();
  });

  it("re-plans a cluster whose tags change (TagResource)", async () => {
    const { clients, run, slots } = setup();
    const arn = await createCluster(clients, "prod");
    await run({ clusters: ["prod"] });

    await clients.eks.send(
      new TagResourceCommand({ resourceArn: arn, tags: { "pod-identity/templates": "cluster-autoscaler" } }),
    );
    await run({ clusters: ["prod"] });

    expect(await slots("prod")).toEqual(["kube-system/cluster-autoscaler=pod-identity-cluster-autoscaler"]);
  });

  it("reports a trust policy change that makes EKS refuse the role", async () => {
    const { clients, run, slots } = setup();
    await createCluster(clients, "prod");
    await createRole(clients.iam, "api", { tags: bind("orders/api") });
    await run();
    await clients.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: "api",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );

    const summary = await run({ role: "api" });

    expect(summary.findings).toContainEqual(
      expect.objectContaining({ code: "TRUST_REFUSED", roleName: "api" }),
    );
    expect(summary.deleted).toBe(0);
    expect(await slots("prod")).toEqual(["orders/api=api"]);
  });
});
