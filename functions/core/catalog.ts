/**
 * The built-in catalog: shared roles for common cluster add-ons. Each entry is data, one JSON
 * file under `catalog-data/` (reviewable as data, bundled by esbuild): the upstream version and
 * source it follows, its service accounts, its policy (AWS managed ARNs and/or an inline
 * document), per-cluster statements filled from cluster tags, and what it narrows compared with
 * upstream. ARNs in the data use the `aws` partition and `{account}` for the account; rendering
 * (see `catalog-policy.ts`) puts in the real ones.
 */

import cloudwatch from "./catalog-data/amazon-cloudwatch-observability.json" with { type: "json" };
import amp from "./catalog-data/amazon-managed-prometheus.json" with { type: "json" };
import ebs from "./catalog-data/aws-ebs-csi-driver.json" with { type: "json" };
import efs from "./catalog-data/aws-efs-csi-driver.json" with { type: "json" };
import albc from "./catalog-data/aws-load-balancer-controller.json" with { type: "json" };
import mountpoint from "./catalog-data/aws-mountpoint-s3-csi-driver.json" with { type: "json" };
import nth from "./catalog-data/aws-node-termination-handler.json" with { type: "json" };
import vpcCni from "./catalog-data/aws-vpc-cni.json" with { type: "json" };
import vpcCniIpv6 from "./catalog-data/aws-vpc-cni-ipv6.json" with { type: "json" };
import certManager from "./catalog-data/cert-manager.json" with { type: "json" };
import clusterAutoscaler from "./catalog-data/cluster-autoscaler.json" with { type: "json" };
import externalDns from "./catalog-data/external-dns.json" with { type: "json" };
import externalSecrets from "./catalog-data/external-secrets.json" with { type: "json" };
import karpenter from "./catalog-data/karpenter.json" with { type: "json" };
import velero from "./catalog-data/velero.json" with { type: "json" };

/** A policy document as JSON data. */
export type PolicyDocument = { Version: string; Statement: Record<string, unknown>[] };

/**
 * Statements whose resources come from a cluster tag: for each cluster that requests the entry,
 * the tag's space-separated values fill `{value}` in `resources`; the statement is conditioned
 * on that cluster's `eks-cluster-arn` session tag.
 */
export interface PerClusterGrant {
  /** Sid prefix of the statements the automation writes for this grant */
  sid: string;
  /** cluster tag whose values fill `{value}` */
  tag: string;
  /** each value must match (`{account}` is the account id) */
  valuePattern: string;
  actions: string[];
  resources: string[];
  condition?: Record<string, Record<string, unknown>>;
}

/** A catalog entry. */
export interface CatalogEntry {
  name: string;
  /** bumped whenever the policy changes; roles are brought up to it */
  version: string;
  description: string;
  /** the upstream project, version and document this entry follows */
  upstream: { project: string; version: string; source: string };
  /** service accounts bound by default (the first is the entry's primary one) */
  serviceAccounts: { namespace: string; serviceAccount: string }[];
  /** namespace of the primary service account */
  namespace: string;
  /** the primary service account */
  serviceAccount: string;
  /** AWS managed policies, `arn:aws:` partition */
  managedPolicyArns: string[];
  /** the inline policy's static statements (partition `aws`, `{account}` placeholders) */
  policy?: PolicyDocument;
  perCluster: PerClusterGrant[];
  /** what is narrower than upstream, and why it still works */
  narrower: string[];
  /** what stays as broad as upstream */
  residualRisks: string[];
  /** whether the policy narrows access by Pod Identity session tags (needs session tags on) */
  scopedBySessionTags: boolean;
}

interface EntryData {
  name: string;
  version: string;
  description: string;
  upstream: { project: string; version: string; source: string };
  serviceAccounts: { namespace: string; serviceAccount: string }[];
  managedPolicyArns: string[];
  policy: unknown;
  perCluster: unknown[];
  narrower: string[];
  residualRisks: string[];
}

function entry(data: EntryData): CatalogEntry {
  const first = data.serviceAccounts[0];
  if (!first) throw new Error(`catalog entry ${data.name} has no service account`);
  const policy = (data.policy ?? undefined) as PolicyDocument | undefined;
  const perCluster = data.perCluster as PerClusterGrant[];
  return {
    name: data.name,
    version: data.version,
    description: data.description,
    upstream: data.upstream,
    serviceAccounts: data.serviceAccounts,
    namespace: first.namespace,
    serviceAccount: first.serviceAccount,
    managedPolicyArns: data.managedPolicyArns,
    ...(policy ? { policy } : {}),
    perCluster,
    narrower: data.narrower,
    residualRisks: data.residualRisks,
    scopedBySessionTags:
      perCluster.length > 0 || JSON.stringify(policy ?? {}).includes("${aws:PrincipalTag/"),
  };
}

/** The built-in catalog. */
export const CATALOG: readonly CatalogEntry[] = [
  albc,
  externalDns,
  certManager,
  clusterAutoscaler,
  externalSecrets,
  ebs,
  efs,
  cloudwatch,
  karpenter,
  vpcCni,
  vpcCniIpv6,
  mountpoint,
  velero,
  amp,
  nth,
].map((d) => entry(d as EntryData));

export const CATALOG_BY_NAME: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.name, e]));
export const CATALOG_NAMES: ReadonlySet<string> = new Set(CATALOG.map((e) => e.name));

/** Cluster tag keys catalog entries read (e.g. `pod-identity/route53-zones`). */
export const CATALOG_CLUSTER_TAG_KEYS: ReadonlySet<string> = new Set(
  CATALOG.flatMap((e) => e.perCluster.map((g) => g.tag)),
);

/** IAM path of every catalog role (the automation's IAM writes are limited to it). */
export const CATALOG_ROLE_PATH = "/pod-identity/";
/** Name of the inline policy the automation writes into a catalog role. */
export const CATALOG_POLICY_NAME = "pod-identity-catalog";

/** The catalog role's name for an entry. */
export function catalogRoleName(name: string): string {
  return `pod-identity-${name}`;
}

/** The catalog entry a role name belongs to, if any. */
export function catalogEntryOfRole(roleName: string): CatalogEntry | undefined {
  const lower = roleName.toLowerCase();
  return CATALOG.find((e) => catalogRoleName(e.name).toLowerCase() === lower);
}

/** The catalog role's ARN in an account. */
export function catalogRoleArn(accountId: string, name: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:role${CATALOG_ROLE_PATH}${catalogRoleName(name)}`;
}

/** An ARN written for the `aws` partition, moved to another. */
export function inPartition(arn: string, partition: string): string {
  return arn.replace(/^arn:aws:/, `arn:${partition}:`);
}

/** The managed policy ARNs an entry attaches, in a partition. */
export function managedPolicyArns(entry: CatalogEntry, partition = "aws"): string[] {
  return entry.managedPolicyArns.map((a) => inPartition(a, partition));
}

/** Every managed policy ARN of the catalog (for the automation's AttachRolePolicy condition). */
export function allCatalogManagedPolicyArns(partition = "aws"): string[] {
  return [...new Set(CATALOG.flatMap((e) => managedPolicyArns(e, partition)))].sort();
}

/** An IAM policy variable for a Pod Identity session tag, e.g. ${aws:PrincipalTag/eks-cluster-name}. */
export function principalTag(key: string): string {
  return `$\{aws:PrincipalTag/${key}}`;
}
