import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalAccount, startLocalAccount } from "../../../local/index.js";
import { createClusterServiceRole, podIdentityTrust } from "../../../local/sample-fleet.js";
import { createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor } from "../../support/local-account.js";
import { buildRequest, loadServiceModel, validateResponse } from "../../support/service-model.js";

/*
 * The local account held to botocore's EKS model (the installed AWS CLI's
 * botocore/data/eks/<version>/service-2.json[.gz], located at run time): every request below is
 * serialised from the operation's input shape, and every answer is validated against the output
 * shape (members, required, types, enums, patterns, lengths) or, for an error, against the
 * operation's modelled errors (code and HTTP status) and the error shape.
 */

const { model, path: modelPath } = loadServiceModel("eks");
const region = "us-east-1";
const cluster = "model";
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const EBS_NEW = "v1.44.0-eksbuild.1";

interface State {
  associationId?: string;
  associationArn?: string;
  clusterArn?: string;
  updateId?: string;
}

interface Case {
  operation: string;
  title: string;
  input: (s: State) => Record<string, unknown>;
  /** undefined: a 2xx answer; otherwise the modelled error expected */
  error?: string;
  keep?: (out: Record<string, unknown>, s: State) => void;
}

/** In order: later cases use what earlier ones created. */
const CASES: Case[] = [
  { operation: "ListClusters", title: "lists clusters", input: () => ({ maxResults: 10 }) },
  {
    operation: "DescribeCluster",
    title: "describes a cluster",
    input: () => ({ name: cluster }),
    keep: (o, s) => {
      s.clusterArn = (o.cluster as { arn: string }).arn;
    },
  },
  {
    operation: "DescribeCluster",
    title: "unknown cluster",
    input: () => ({ name: "nope" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "CreateCluster",
    title: "creates a second cluster",
    input: () => ({
      name: "model-2",
      version: "1.31",
      roleArn: roleArn("eks-cluster-role"),
      resourcesVpcConfig: { subnetIds: ["subnet-1"] },
    }),
  },
  {
    operation: "CreateCluster",
    title: "an existing cluster name",
    input: () => ({
      name: cluster,
      roleArn: roleArn("eks-cluster-role"),
      resourcesVpcConfig: { subnetIds: ["subnet-1"] },
    }),
    error: "ResourceInUseException",
  },
  { operation: "DeleteCluster", title: "deletes a cluster", input: () => ({ name: "model-2" }) },
  {
    operation: "DeleteCluster",
    title: "unknown cluster",
    input: () => ({ name: "nope" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "CreatePodIdentityAssociation",
    title: "creates an association with every optional member",
    input: () => ({
      clusterName: cluster,
      namespace: "payments",
      serviceAccount: "api",
      roleArn: roleArn("app"),
      tags: { owner: "team-a" },
      disableSessionTags: false,
      targetRoleArn: "arn:aws:iam::210987654321:role/data",
    }),
    keep: (o, s) => {
      const a = o.association as { associationId: string; associationArn: string };
      s.associationId = a.associationId;
      s.associationArn = a.associationArn;
    },
  },
  {
    operation: "CreatePodIdentityAssociation",
    title: "a second association for the same service account",
    input: () => ({
      clusterName: cluster,
      namespace: "payments",
      serviceAccount: "api",
      roleArn: roleArn("app"),
    }),
    error: "ResourceInUseException",
  },
  {
    operation: "CreatePodIdentityAssociation",
    title: "a role that does not exist",
    input: () => ({
      clusterName: cluster,
      namespace: "payments",
      serviceAccount: "x",
      roleArn: roleArn("missing"),
    }),
    error: "InvalidParameterException",
  },
  {
    operation: "CreatePodIdentityAssociation",
    title: "an unknown cluster",
    input: () => ({
      clusterName: "nope",
      namespace: "payments",
      serviceAccount: "x",
      roleArn: roleArn("app"),
    }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "CreatePodIdentityAssociation",
    title: "a plain association (no tags, no target)",
    input: () => ({
      clusterName: cluster,
      namespace: "payments",
      serviceAccount: "worker",
      roleArn: roleArn("app"),
    }),
  },
  {
    operation: "DescribePodIdentityAssociation",
    title: "describes an association",
    input: (s) => ({ clusterName: cluster, associationId: s.associationId }),
  },
  {
    operation: "DescribePodIdentityAssociation",
    title: "an unknown association",
    input: () => ({ clusterName: cluster, associationId: "a-00000000000000000" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "UpdatePodIdentityAssociation",
    title: "updates session tags and a session policy",
    input: (s) => ({
      clusterName: cluster,
      associationId: s.associationId,
      disableSessionTags: true,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
      }),
    }),
  },
  {
    operation: "UpdatePodIdentityAssociation",
    title: "an unknown association",
    input: () => ({ clusterName: cluster, associationId: "a-00000000000000000", roleArn: roleArn("app") }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "ListPodIdentityAssociations",
    title: "lists a page with nextToken",
    input: () => ({ clusterName: cluster, maxResults: 1 }),
  },
  {
    operation: "ListPodIdentityAssociations",
    title: "filters by namespace",
    input: () => ({ clusterName: cluster, namespace: "payments", serviceAccount: "api" }),
  },
  {
    operation: "ListPodIdentityAssociations",
    title: "an unknown cluster",
    input: () => ({ clusterName: "nope" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "TagResource",
    title: "tags an association",
    input: (s) => ({ resourceArn: s.associationArn, tags: { "pod-identity/source": "app" } }),
  },
  {
    operation: "UntagResource",
    title: "untags an association",
    input: (s) => ({ resourceArn: s.associationArn, tagKeys: ["owner"] }),
  },
  {
    operation: "ListTagsForResource",
    title: "lists an association's tags",
    input: (s) => ({ resourceArn: s.associationArn }),
  },
  {
    operation: "TagResource",
    title: "tags a cluster",
    input: (s) => ({ resourceArn: s.clusterArn, tags: { "pod-identity/templates": "external-dns" } }),
  },
  {
    operation: "ListTagsForResource",
    title: "lists a cluster's tags",
    input: (s) => ({ resourceArn: s.clusterArn }),
  },
  {
    operation: "UntagResource",
    title: "untags a cluster",
    input: (s) => ({ resourceArn: s.clusterArn, tagKeys: ["pod-identity/templates"] }),
  },
  {
    operation: "TagResource",
    title: "an unknown association",
    input: () => ({
      resourceArn: `arn:aws:eks:${region}:${ACCOUNT_ID}:podidentityassociation/${cluster}/a-00000000000000000`,
      tags: { a: "b" },
    }),
    error: "NotFoundException",
  },
  {
    operation: "ListTagsForResource",
    title: "an unknown cluster",
    input: () => ({ resourceArn: `arn:aws:eks:${region}:${ACCOUNT_ID}:cluster/nope` }),
    error: "NotFoundException",
  },
  {
    operation: "DescribeAddonVersions",
    title: "every add-on",
    input: () => ({}),
  },
  {
    operation: "DescribeAddonVersions",
    title: "one add-on for one Kubernetes version",
    input: () => ({ addonName: "aws-ebs-csi-driver", kubernetesVersion: "1.31", maxResults: 1 }),
  },
  {
    operation: "DescribeAddonConfiguration",
    title: "a version with Pod Identity support",
    input: () => ({ addonName: "aws-ebs-csi-driver", addonVersion: EBS_NEW }),
  },
  {
    operation: "DescribeAddonConfiguration",
    title: "an unknown version",
    input: () => ({ addonName: "aws-ebs-csi-driver", addonVersion: "v0.0.0-eksbuild.0" }),
    error: "InvalidParameterException",
  },
  {
    operation: "CreateAddon",
    title: "creates an add-on with a Pod Identity association",
    input: () => ({
      clusterName: cluster,
      addonName: "aws-ebs-csi-driver",
      addonVersion: EBS_NEW,
      podIdentityAssociations: [{ serviceAccount: "ebs-csi-controller-sa", roleArn: roleArn("app") }],
      tags: { team: "storage" },
    }),
  },
  {
    operation: "CreateAddon",
    title: "the same add-on again",
    input: () => ({ clusterName: cluster, addonName: "aws-ebs-csi-driver" }),
    error: "ResourceInUseException",
  },
  {
    operation: "CreateAddon",
    title: "a version without Pod Identity support with associations",
    input: () => ({
      clusterName: cluster,
      addonName: "vpc-cni",
      addonVersion: "v1.15.1-eksbuild.1",
      podIdentityAssociations: [{ serviceAccount: "aws-node", roleArn: roleArn("app") }],
    }),
    error: "InvalidParameterException",
  },
  {
    operation: "DescribeAddon",
    title: "describes an add-on",
    input: () => ({ clusterName: cluster, addonName: "aws-ebs-csi-driver" }),
  },
  {
    operation: "DescribeAddon",
    title: "an add-on that is not installed",
    input: () => ({ clusterName: cluster, addonName: "coredns" }),
    error: "ResourceNotFoundException",
  },
  { operation: "ListAddons", title: "lists add-ons", input: () => ({ clusterName: cluster }) },
  {
    operation: "ListAddons",
    title: "an unknown cluster",
    input: () => ({ clusterName: "nope" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "UpdateAddon",
    title: "updates the add-on's associations",
    input: () => ({
      clusterName: cluster,
      addonName: "aws-ebs-csi-driver",
      podIdentityAssociations: [],
      resolveConflicts: "PRESERVE",
    }),
    keep: (o, s) => {
      s.updateId = (o.update as { id: string }).id;
    },
  },
  {
    operation: "UpdateAddon",
    title: "an add-on that is not installed",
    input: () => ({ clusterName: cluster, addonName: "coredns" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "DescribeUpdate",
    title: "describes the add-on update",
    input: (s) => ({ name: cluster, updateId: s.updateId, addonName: "aws-ebs-csi-driver" }),
  },
  {
    operation: "DeleteAddon",
    title: "deletes an add-on",
    input: () => ({ clusterName: cluster, addonName: "aws-ebs-csi-driver" }),
  },
  {
    operation: "DeleteAddon",
    title: "an add-on that is not installed",
    input: () => ({ clusterName: cluster, addonName: "coredns" }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "DeletePodIdentityAssociation",
    title: "deletes an association",
    input: (s) => ({ clusterName: cluster, associationId: s.associationId }),
  },
  {
    operation: "DeletePodIdentityAssociation",
    title: "an association deleted already",
    input: (s) => ({ clusterName: cluster, associationId: s.associationId }),
    error: "ResourceNotFoundException",
  },
  {
    operation: "CreateFargateProfile",
    title: "creates a Fargate profile",
    input: () => ({
      fargateProfileName: "fp",
      clusterName: cluster,
      podExecutionRoleArn: roleArn("eks-cluster-role"),
      subnets: ["subnet-1"],
      selectors: [{ namespace: "serverless", labels: { tier: "web" } }],
    }),
  },
  {
    operation: "DescribeFargateProfile",
    title: "describes a Fargate profile",
    input: () => ({ clusterName: cluster, fargateProfileName: "fp" }),
  },
  {
    operation: "ListFargateProfiles",
    title: "lists Fargate profiles",
    input: () => ({ clusterName: cluster }),
  },
  {
    operation: "DescribeFargateProfile",
    title: "an unknown Fargate profile",
    input: () => ({ clusterName: cluster, fargateProfileName: "nope" }),
    error: "ResourceNotFoundException",
  },
];

/** The EKS operations the product calls (commands and paginators imported from @aws-sdk/client-eks). */
function productOperations(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/client-eks"/g)) {
          for (const name of m[1]!.split(",").map((n) => n.trim().replace(/^type\s+/, ""))) {
            const op = /^(?:paginate)?([A-Z]\w+?)(?:Command)?$/.exec(name);
            if (op && (name.endsWith("Command") || name.startsWith("paginate"))) found.add(op[1]!);
          }
        }
      }
    }
  };
  walk(fileURLToPath(new URL("../../../functions", import.meta.url)));
  return [...found].sort();
}

/** The EKS operations the front answers itself instead of moto. */
const LOCAL_OPERATIONS = [
  "CreatePodIdentityAssociation",
  "DescribePodIdentityAssociation",
  "UpdatePodIdentityAssociation",
  "DeletePodIdentityAssociation",
  "ListPodIdentityAssociations",
  "CreateAddon",
  "DescribeAddon",
  "UpdateAddon",
  "DeleteAddon",
  "ListAddons",
  "DescribeAddonVersions",
  "DescribeAddonConfiguration",
  "DescribeUpdate",
  "TagResource",
  "UntagResource",
  "ListTagsForResource",
];

let account: LocalAccount;
const state: State = {};

async function send(operation: string, input: Record<string, unknown>) {
  const req = buildRequest(model, operation, input);
  const res = await fetch(`${account.endpoint}${req.path}`, {
    method: req.method,
    headers: {
      ...req.headers,
      // the local account routes by SigV4 credential scope; a 12-digit access key is the account
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT_ID}/20260101/${region}/eks/aws4_request, SignedHeaders=host, Signature=0`,
    },
    ...(req.body === undefined ? {} : { body: req.body }),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe(`the local account against botocore's EKS model (${model.metadata.apiVersion})`, () => {
  beforeAll(async () => {
    account = await startLocalAccount();
    const c = clientsFor(account.endpoint);
    await createClusterServiceRole(c.iam);
    await createRole(c.iam, "app", { trust: podIdentityTrust() });
    const created = await send("CreateCluster", {
      name: cluster,
      version: "1.31",
      roleArn: roleArn("eks-cluster-role"),
      resourcesVpcConfig: { subnetIds: ["subnet-1"] },
      tags: { team: "platform" },
    });
    expect(created.status, created.body).toBe(200);
  });
  afterAll(async () => {
    await account?.stop();
  });

  it("covers every EKS operation the product calls and the front serves", () => {
    // Prepare
    const covered = new Set(CASES.map((c) => c.operation));

    // Act
    const needed = [...new Set([...productOperations(), ...LOCAL_OPERATIONS])].sort();

    // Assess
    expect(modelPath).toMatch(/botocore\/data\/eks\/[\d-]+\/service-2\.json(\.gz)?$/);
    expect(needed.filter((op) => !model.operations[op])).toEqual([]);
    expect(needed.filter((op) => !covered.has(op))).toEqual([]);
    for (const op of needed) {
      expect(
        CASES.some((c) => c.operation === op && !c.error),
        `${op} has a success case`,
      ).toBe(true);
    }
  });

  for (const c of CASES) {
    it(`${c.operation}: ${c.title} → ${c.error ?? "2xx"}, shaped as the model says`, async () => {
      // Prepare
      const input = c.input(state);

      // Act
      const res = await send(c.operation, input);
      const verdict = validateResponse(model, c.operation, res, { ignoreMinOf: ["TagMap"] });

      // Assess
      expect(verdict.errors, res.body).toEqual([]);
      expect(verdict.code, `HTTP ${res.status} ${res.body}`).toBe(c.error);
      if (!c.error && c.keep) c.keep(JSON.parse(res.body) as Record<string, unknown>, state);
    });
  }
});
