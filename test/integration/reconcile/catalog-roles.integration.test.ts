/**
 * Catalog roles on the local account: never adopted when the automation did not create them,
 * upgraded in one idempotent step (trust, inline policy, managed policies, tags), trust kept to
 * the clusters that ask for the role.
 */
import { DeleteClusterCommand, TagResourceCommand } from "@aws-sdk/client-eks";
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { readAssociations } from "../../../functions/aws/inventory.js";
import { CATALOG_BY_NAME } from "../../../functions/core/catalog.js";
import { catalogBoundaryArn } from "../../../functions/core/catalog-boundary.js";
import { catalogVersion } from "../../../functions/core/catalog-history.js";
import { createCluster } from "../../support/fixtures.js";
import { ACCOUNT_ID, useLocalAccount, writeCalls } from "../../support/local-account.js";
import { localReconciler } from "../../support/local-reconcile.js";

const ctx = useLocalAccount();
const BOUNDARY = catalogBoundaryArn(ACCOUNT_ID);
const podTrust = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    },
  ],
});

function setup() {
  const reconciler = localReconciler(ctx.account.endpoint, { maxAttempts: 2 });
  const clients = reconciler.clients;
  const run = (names?: string[]) => reconciler.run(names ? { clusters: names } : {});
  const trustOf = async (roleName: string) => {
    const out = await clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
    return JSON.parse(decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? "{}"));
  };
  return { clients, run, trustOf };
}

describe("catalog roles", () => {
  it("never adopts a pre-existing role of a catalog name, even one carrying the automation's tags", async () => {
    // Prepare: someone pre-creates the role with a trust of their choice and forged tags
    const { clients, run } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/templates": "external-dns cert-manager" } });
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "pod-identity-external-dns",
        Path: "/pod-identity/",
        AssumeRolePolicyDocument: podTrust,
      }),
    );
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "pod-identity-cert-manager",
        Path: "/pod-identity/",
        AssumeRolePolicyDocument: podTrust,
        Tags: [{ Key: "pod-identity/managed-by", Value: "pod-identity-autopilot" }],
      }),
    );
    await ctx.account.resetCalls();
    // Act
    const summary = await run();
    const writes = writeCalls((await ctx.account.calls()).calls);
    // Assess
    const codes = summary.findings.filter((f) => f.roleName).map((f) => `${f.code} ${f.roleName}`);
    expect(codes).toContain("CATALOG_ROLE_FOREIGN pod-identity-external-dns");
    expect(codes).toContain("CATALOG_ROLE_UNVERIFIED pod-identity-cert-manager");
    expect(await readAssociations(clients.eks, "prod")).toEqual([]);
    expect(Object.keys(writes).filter((k) => k.startsWith("iam:"))).toEqual([]);
  });

  it("upgrades a role of the previous catalog in one step and a second run writes nothing", async () => {
    // Prepare: the role as catalog 2024.1 wrote it (managed AmazonEBSCSIDriverPolicy), plus a stray admin attachment
    const { clients, run } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/templates": "aws-ebs-csi-driver" } });
    const old = catalogVersion(CATALOG_BY_NAME.get("aws-ebs-csi-driver")!, "2024.1")!;
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "pod-identity-aws-ebs-csi-driver",
        Path: "/pod-identity/",
        AssumeRolePolicyDocument: podTrust,
        PermissionsBoundary: BOUNDARY,
        Tags: [
          { Key: "pod-identity/managed-by", Value: "pod-identity-autopilot" },
          { Key: "pod-identity/catalog-version", Value: "2024.1" },
        ],
      }),
    );
    for (const arn of [...old.managedPolicyArns, "arn:aws:iam::aws:policy/AdministratorAccess"])
      await clients.iam.send(
        new AttachRolePolicyCommand({ RoleName: "pod-identity-aws-ebs-csi-driver", PolicyArn: arn }),
      );
    await clients.iam.send(
      new PutRolePolicyCommand({
        RoleName: "pod-identity-aws-ebs-csi-driver",
        PolicyName: "added-by-hand",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
        }),
      }),
    );
    // Act
    const first = await run();
    await ctx.account.resetCalls();
    const second = await run();
    const writesOfSecond = writeCalls((await ctx.account.calls()).calls);
    // Assess
    const role = await clients.iam.send(new GetRoleCommand({ RoleName: "pod-identity-aws-ebs-csi-driver" }));
    const attached = await clients.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: "pod-identity-aws-ebs-csi-driver" }),
    );
    expect(first.catalogRoles.updated).toEqual(["pod-identity-aws-ebs-csi-driver"]);
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      "arn:aws:iam::aws:policy/AmazonEBSCSIDriverEKSClusterScopedPolicy",
    ]);
    expect(role.Role?.Tags).toContainEqual({ Key: "pod-identity/catalog-previous-version", Value: "2024.1" });
    const removed = first.findings.find((f) => f.code === "CATALOG_ACTIONS_REMOVED");
    expect(removed?.message).toContain("AmazonEBSCSIDriverPolicy");
    expect(second.catalogRoles).toEqual({ created: [], updated: [] });
    expect(Object.keys(writesOfSecond).filter((k) => k.startsWith("iam:"))).toEqual([]);
    expect((await readAssociations(clients.eks, "prod")).map((a) => a.serviceAccount)).toEqual([
      "ebs-csi-controller-sa",
    ]);
  });

  it("upgrades a role of an older catalog version whose cluster's associations are all in place", async () => {
    // Prepare: onboarded at the current version; then the role is as an older deployment left it
    const { clients, run } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/templates": "aws-ebs-csi-driver" } });
    await run();
    const old = catalogVersion(CATALOG_BY_NAME.get("aws-ebs-csi-driver")!, "2024.1")!;
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: "pod-identity-aws-ebs-csi-driver",
        Tags: [{ Key: "pod-identity/catalog-version", Value: "2024.1" }],
      }),
    );
    for (const arn of old.managedPolicyArns)
      await clients.iam.send(
        new AttachRolePolicyCommand({ RoleName: "pod-identity-aws-ebs-csi-driver", PolicyArn: arn }),
      );

    // Act: a sweep in which no association of the cluster changes
    const sweep = await run();

    // Assess
    const role = await clients.iam.send(new GetRoleCommand({ RoleName: "pod-identity-aws-ebs-csi-driver" }));
    const attached = await clients.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: "pod-identity-aws-ebs-csi-driver" }),
    );
    expect(sweep).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    expect(sweep.catalogRoles.updated).toEqual(["pod-identity-aws-ebs-csi-driver"]);
    expect(role.Role?.Tags).toContainEqual({
      Key: "pod-identity/catalog-version",
      Value: CATALOG_BY_NAME.get("aws-ebs-csi-driver")!.version,
    });
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      "arn:aws:iam::aws:policy/AmazonEBSCSIDriverEKSClusterScopedPolicy",
    ]);
  });

  it("trusts only the clusters that ask for the role, and drops a cluster that opts out", async () => {
    // Prepare
    const { clients, run, trustOf } = setup();
    const prodArn = await createCluster(clients, "prod", {
      tags: { "pod-identity/templates": "aws-efs-csi-driver" },
    });
    await createCluster(clients, "dev", { tags: { "pod-identity/templates": "aws-efs-csi-driver" } });
    await createCluster(clients, "other", {});
    await run();
    const before = await trustOf("pod-identity-aws-efs-csi-driver");
    // Act
    await clients.eks.send(
      new TagResourceCommand({ resourceArn: prodArn, tags: { "pod-identity/opt-out": "true" } }),
    );
    await run();
    const after = await trustOf("pod-identity-aws-efs-csi-driver");
    // Assess: both EFS service accounts (controller and node), listed per cluster
    const subjects = (doc: { Statement: { Condition: { StringEquals: Record<string, unknown> } }[] }) =>
      doc.Statement.map((s) => {
        const eq = s.Condition.StringEquals;
        const arns = eq["aws:RequestTag/eks-cluster-arn"] as string[];
        return `${eq["aws:RequestTag/kubernetes-service-account"]}@${arns.map((a) => a.split("/").pop()).join(",")}`;
      });
    expect(subjects(before)).toEqual(["efs-csi-controller-sa@dev,prod", "efs-csi-node-sa@dev,prod"]);
    expect(subjects(after)).toEqual(["efs-csi-controller-sa@dev", "efs-csi-node-sa@dev"]);
  });

  it("drops a deleted cluster from the trust when the run for that cluster no longer finds it", async () => {
    // Prepare
    const { clients, run, trustOf } = setup();
    await createCluster(clients, "prod", { tags: { "pod-identity/templates": "karpenter" } });
    await createCluster(clients, "dev", { tags: { "pod-identity/templates": "karpenter" } });
    await run();
    // Act: the cluster-event handler reconciles just the deleted cluster
    await clients.eks.send(new DeleteClusterCommand({ name: "dev" }));
    await run(["dev"]);
    // Assess
    const trust = await trustOf("pod-identity-karpenter");
    expect(
      trust.Statement.map((s: any) => s.Condition.StringEquals["aws:RequestTag/eks-cluster-arn"]),
    ).toEqual([[expect.stringMatching(/:cluster\/prod$/)]]);
  });
});
