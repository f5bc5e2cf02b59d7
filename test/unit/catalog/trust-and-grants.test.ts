import { describe, expect, it } from "vitest";
import { CATALOG_BY_NAME } from "../../../functions/core/catalog.js";
import {
  mergeClusterGrants,
  readClusterGrants,
  renderCatalogPolicy,
  wantedClusterGrants,
} from "../../../functions/core/catalog-policy.js";
import {
  catalogTrustPolicy,
  mergeTrustBindings,
  readTrustBindings,
  trustPolicySize,
} from "../../../functions/core/catalog-trust.js";
import { isAllowed } from "../../../functions/core/iam/index.js";

const ACCOUNT = "111122223333";
const arn = (region: string, name: string) => `arn:aws:eks:${region}:${ACCOUNT}:cluster/${name}`;
const A = arn("eu-west-1", "alpha");
const B = arn("eu-west-1", "beta");
const US = arn("us-east-1", "alpha");

/** What STS sees when a pod asks Pod Identity for credentials. */
const assume = (clusterArn: string, namespace: string, serviceAccount: string, account = ACCOUNT) => ({
  action: "sts:AssumeRole",
  resource: `arn:aws:iam::${ACCOUNT}:role/pod-identity/pod-identity-external-dns`,
  context: {
    "aws:SourceAccount": account,
    "aws:RequestTag/eks-cluster-arn": clusterArn,
    "aws:RequestTag/eks-cluster-name": clusterArn.split("/").pop()!,
    "aws:RequestTag/kubernetes-namespace": namespace,
    "aws:RequestTag/kubernetes-service-account": serviceAccount,
  },
});

describe("catalog trust", () => {
  it("lets in only the requesting clusters' service accounts from this account", () => {
    // Prepare
    const trust = catalogTrustPolicy(ACCOUNT, [
      { clusterArn: A, namespace: "external-dns", serviceAccount: "external-dns" },
      { clusterArn: B, namespace: "dns", serviceAccount: "edns" },
    ]);
    // Act / Assess
    expect(isAllowed([trust], assume(A, "external-dns", "external-dns"))).toBe(true);
    expect(isAllowed([trust], assume(B, "dns", "edns"))).toBe(true);
    expect(isAllowed([trust], assume(B, "external-dns", "external-dns"))).toBe(false);
    expect(isAllowed([trust], assume(A, "dns", "edns"))).toBe(false);
    expect(isAllowed([trust], assume(US, "external-dns", "external-dns"))).toBe(false);
    expect(isAllowed([trust], assume(A, "external-dns", "external-dns", "999999999999"))).toBe(false);
  });

  it("with no requesting cluster, lets no pod in", () => {
    const trust = catalogTrustPolicy(ACCOUNT, []);
    expect(isAllowed([trust], assume(A, "external-dns", "external-dns"))).toBe(false);
  });

  it("reads back what it writes, and a run replaces only the clusters it covers", () => {
    // Prepare: us-east-1's binding was written by the other region's stack
    const current = readTrustBindings(
      catalogTrustPolicy(ACCOUNT, [
        { clusterArn: A, namespace: "external-dns", serviceAccount: "external-dns" },
        { clusterArn: US, namespace: "external-dns", serviceAccount: "external-dns" },
      ]),
    );
    // Act: the eu-west-1 run covers alpha and beta; alpha dropped the entry, beta asked for it
    const merged = mergeTrustBindings(
      current,
      [{ clusterArn: B, namespace: "external-dns", serviceAccount: "external-dns" }],
      new Set([A, B]),
    );
    // Assess
    expect(merged.map((b) => b.clusterArn).sort()).toEqual([B, US].sort());
  });

  it("measures the size IAM counts (no whitespace)", () => {
    expect(trustPolicySize({ a: "b c" })).toBe('{"a":"bc"}'.length);
  });
});

describe("per-cluster grants", () => {
  const entry = CATALOG_BY_NAME.get("external-dns")!;
  const cluster = (a: string, zones: string) => ({
    arn: a,
    name: a.split("/").pop()!,
    tags: { "pod-identity/route53-zones": zones },
  });

  it("groups clusters with the same zones, reads them back, and keeps other regions' grants", () => {
    // Prepare
    const wanted = wantedClusterGrants(
      entry,
      [cluster(A, "Z1 Z2"), cluster(B, "Z2 Z1"), cluster(US, "Z9")],
      ACCOUNT,
      "aws",
    );
    const written = renderCatalogPolicy(entry, {
      accountId: ACCOUNT,
      partition: "aws",
      grants: wanted.grants,
    });
    // Act: an eu-west-1 run where beta drops its zones
    const next = wantedClusterGrants(entry, [cluster(A, "Z1 Z2")], ACCOUNT, "aws");
    const merged = mergeClusterGrants(readClusterGrants(entry, written), next.grants, new Set([A, B]));
    const rewritten = renderCatalogPolicy(entry, { accountId: ACCOUNT, partition: "aws", grants: merged });
    // Assess
    const perCluster = (doc: typeof written) =>
      doc!.Statement.filter((s) => String(s.Sid).startsWith("ChangeListedZones"));
    expect(perCluster(written)).toHaveLength(2);
    expect(perCluster(written)[0]).toMatchObject({
      Condition: { StringEquals: { "aws:PrincipalTag/eks-cluster-arn": [A, B] } },
    });
    expect(
      perCluster(rewritten).map((s) => (s.Condition as any).StringEquals["aws:PrincipalTag/eks-cluster-arn"]),
    ).toEqual([[A], [US]]);
  });

  it("rejects tag values that are not zone IDs, with a finding", () => {
    const wanted = wantedClusterGrants(
      entry,
      [cluster(A, "Z1 * arn:aws:route53:::hostedzone/*")],
      ACCOUNT,
      "aws",
    );
    expect([...wanted.grants.get("ChangeListedZones")!.values()]).toEqual([
      ["arn:aws:route53:::hostedzone/Z1"],
    ]);
    expect(wanted.findings.map((f) => f.code)).toEqual(["CLUSTER_TAG_INVALID", "CLUSTER_TAG_INVALID"]);
  });

  it("writes partition and account into the documents", () => {
    const doc = renderCatalogPolicy(CATALOG_BY_NAME.get("karpenter")!, {
      accountId: ACCOUNT,
      partition: "aws-us-gov",
    });
    const text = JSON.stringify(doc);
    expect(text).not.toContain("{account}");
    expect(text).not.toMatch(/"arn:aws:/);
    expect(text).toContain(`arn:aws-us-gov:iam::${ACCOUNT}:role/KarpenterNodeRole-`);
  });
});

describe("a cluster that uses a per-cluster entry without its tag", () => {
  it("gets no grant and a warning that says which tag is missing", () => {
    // Prepare
    const entry = CATALOG_BY_NAME.get("velero")!;
    // Act
    const wanted = wantedClusterGrants(entry, [{ arn: A, name: "alpha", tags: {} }], ACCOUNT, "aws");
    // Assess
    expect([...wanted.grants.get("BackupBucket")!.keys()]).toEqual([]);
    expect(wanted.findings).toEqual([
      expect.objectContaining({
        code: "CATALOG_CLUSTER_TAG_MISSING",
        severity: "warning",
        clusterName: "alpha",
      }),
    ]);
    expect(wanted.findings[0]?.message).toContain("pod-identity/velero-bucket");
  });
});
