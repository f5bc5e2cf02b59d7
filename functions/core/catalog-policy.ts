/**
 * The inline policy the automation writes into a catalog role: the entry's static statements
 * (partition and account filled in) plus, for per-cluster grants, one statement per group of
 * clusters with the same resources, conditioned on `aws:PrincipalTag/eks-cluster-arn`.
 *
 * Catalog roles are global (IAM) while each regional stack sees only its own clusters. A
 * cluster ARN names its region, so each region owns the grants of its own clusters: a run
 * replaces the grants of the clusters it covers and keeps the others as it read them.
 */
import type { CatalogEntry, PerClusterGrant, PolicyDocument } from "./catalog.js";
import { inPartition } from "./catalog.js";
import type { Finding } from "./findings.js";

/** What the automation knows about one cluster for the catalog: its ARN and tags. */
export interface CatalogCluster {
  arn: string;
  name: string;
  tags: Readonly<Record<string, string>>;
}

/** Per-cluster grants: grant sid → cluster ARN → rendered resource ARNs. */
export type ClusterGrants = Map<string, Map<string, string[]>>;

const CLUSTER_ARN_KEY = "aws:PrincipalTag/eks-cluster-arn";

function fill(text: string, accountId: string, partition: string): string {
  return inPartition(text, partition)
    .replaceAll("{account}", accountId)
    .replace(/^arn:aws:/, `arn:${partition}:`);
}

function deepFill(value: unknown, accountId: string, partition: string): unknown {
  if (typeof value === "string") return fill(value, accountId, partition);
  if (Array.isArray(value)) return value.map((v) => deepFill(v, accountId, partition));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepFill(v, accountId, partition)]));
  return value;
}

/** The resources one cluster's tag grants under a per-cluster grant, with findings for bad values. */
export function grantResources(
  entry: CatalogEntry,
  grant: PerClusterGrant,
  cluster: CatalogCluster,
  accountId: string,
  partition: string,
): { resources: string[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const raw = cluster.tags[grant.tag];
  if (raw === undefined) {
    findings.push({
      code: "CATALOG_CLUSTER_TAG_MISSING",
      severity: "warning",
      clusterName: cluster.name,
      message: `Cluster ${cluster.name} uses ${entry.name} without the ${grant.tag} tag: its role grants this cluster no ${grant.actions.join(", ")}`,
    });
    return { resources: [], findings };
  }
  const pattern = new RegExp(grant.valuePattern.replaceAll("{account}", accountId));
  const resources: string[] = [];
  for (const value of raw.split(/\s+/).filter(Boolean)) {
    if (!pattern.test(value)) {
      findings.push({
        code: "CLUSTER_TAG_INVALID",
        severity: "error",
        clusterName: cluster.name,
        message: `Cluster ${cluster.name}: "${value}" in ${grant.tag} is not valid for ${entry.name} (expected ${grant.valuePattern.replaceAll("{account}", accountId)}); it grants nothing`,
      });
      continue;
    }
    for (const r of grant.resources)
      resources.push(fill(r.replaceAll("{value}", value), accountId, partition));
  }
  return { resources: [...new Set(resources)].sort(), findings };
}

/** Reads the per-cluster grants back from a policy the automation wrote (unknown statements are ignored). */
export function readClusterGrants(entry: CatalogEntry, document: unknown): ClusterGrants {
  const grants: ClusterGrants = new Map(entry.perCluster.map((g) => [g.sid, new Map()]));
  const statements = (document as { Statement?: unknown })?.Statement;
  if (!Array.isArray(statements)) return grants;
  for (const s of statements as Record<string, unknown>[]) {
    const sid = typeof s.Sid === "string" ? s.Sid : "";
    const grant = entry.perCluster.find((g) => sid.startsWith(g.sid));
    if (!grant) continue;
    const arns = (s.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals?.[
      CLUSTER_ARN_KEY
    ];
    const resources = ([] as unknown[])
      .concat(s.Resource ?? [])
      .filter((r): r is string => typeof r === "string");
    for (const arn of ([] as unknown[]).concat(arns ?? [])) {
      if (typeof arn === "string") grants.get(grant.sid)?.set(arn, resources);
    }
  }
  return grants;
}

/**
 * Merges grants: clusters in `covered` take their resources from `wanted` (or lose them), the
 * others keep what `current` had.
 */
export function mergeClusterGrants(
  current: ClusterGrants,
  wanted: ClusterGrants,
  covered: ReadonlySet<string>,
): ClusterGrants {
  const merged: ClusterGrants = new Map();
  for (const sid of new Set([...current.keys(), ...wanted.keys()])) {
    const out = new Map<string, string[]>();
    for (const [arn, res] of current.get(sid) ?? []) if (!covered.has(arn)) out.set(arn, res);
    for (const [arn, res] of wanted.get(sid) ?? []) if (res.length > 0) out.set(arn, res);
    merged.set(sid, out);
  }
  return merged;
}

/** Grants wanted for the clusters that request an entry (from their tags). */
export function wantedClusterGrants(
  entry: CatalogEntry,
  clusters: readonly CatalogCluster[],
  accountId: string,
  partition: string,
): { grants: ClusterGrants; findings: Finding[] } {
  const grants: ClusterGrants = new Map();
  const findings: Finding[] = [];
  for (const grant of entry.perCluster) {
    const byCluster = new Map<string, string[]>();
    for (const cluster of clusters) {
      const r = grantResources(entry, grant, cluster, accountId, partition);
      findings.push(...r.findings);
      if (r.resources.length > 0) byCluster.set(cluster.arn, r.resources);
    }
    grants.set(grant.sid, byCluster);
  }
  return { grants, findings };
}

/**
 * The inline policy document of an entry for an account, with its per-cluster statements.
 * Undefined when the entry writes no inline policy at all.
 */
export function renderCatalogPolicy(
  entry: CatalogEntry,
  options: { accountId: string; partition: string; grants?: ClusterGrants },
): PolicyDocument | undefined {
  const statements: Record<string, unknown>[] = entry.policy
    ? (deepFill(entry.policy.Statement, options.accountId, options.partition) as Record<string, unknown>[])
    : [];
  for (const grant of entry.perCluster) {
    const byCluster = options.grants?.get(grant.sid) ?? new Map<string, string[]>();
    // clusters with the same resources share one statement
    const groups = new Map<string, { resources: string[]; arns: string[] }>();
    for (const [arn, resources] of [...byCluster].sort(([a], [b]) => a.localeCompare(b))) {
      const key = JSON.stringify(resources);
      const group = groups.get(key) ?? { resources, arns: [] };
      group.arns.push(arn);
      groups.set(key, group);
    }
    let n = 0;
    for (const group of groups.values()) {
      const condition = deepFill(grant.condition ?? {}, options.accountId, options.partition) as Record<
        string,
        Record<string, unknown>
      >;
      statements.push({
        Sid: `${grant.sid}${n++}`,
        Effect: "Allow",
        Action: grant.actions,
        Resource: group.resources,
        Condition: {
          ...condition,
          StringEquals: { ...(condition.StringEquals ?? {}), [CLUSTER_ARN_KEY]: group.arns },
        },
      });
    }
  }
  if (statements.length === 0) {
    if (entry.perCluster.length === 0) return undefined;
    // no cluster has listed resources yet: a policy that grants nothing keeps the role's shape
    statements.push({ Sid: "NoClusterResourcesYet", Effect: "Deny", Action: "*", Resource: "*" });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** Every action an entry's inline policy names (static and per-cluster), sorted. */
export function catalogActions(entry: CatalogEntry): string[] {
  const actions = new Set<string>();
  for (const s of entry.policy?.Statement ?? [])
    for (const a of ([] as unknown[]).concat(s.Action ?? [])) actions.add(String(a));
  for (const g of entry.perCluster) for (const a of g.actions) actions.add(a);
  return [...actions].sort();
}
