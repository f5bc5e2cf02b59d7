import pLimit from "p-limit";
import type { AdmissionPolicy } from "../core/admission.js";
import { computeDesired } from "../core/desired.js";
import { countBySeverity, type Finding } from "../core/findings.js";
import type { Severity } from "../core/trust/findings.js";
import type {
  ClusterApi,
  DeletionBudget,
  Log,
  MetricsPort,
  Publisher,
  ReconcileSettings,
  RoleDirectory,
} from "./ports.js";
import { type ClusterResult, reconcileCluster } from "./reconcile-cluster.js";
import type { ChangeReport } from "./report.js";
import { SnapshotIndex } from "./snapshot-index.js";
import { indexedRole, isIndexedRole } from "./template-roles.js";

/** Many clusters' results as one account-wide summary (the CLI's plan and sweep output). */
export interface AccountSummary {
  dryRun: boolean;
  clusters: number;
  created: number;
  updated: number;
  deleted: number;
  /** deletions the account-wide budget did not cover, waiting for an operator */
  held: number;
  stale: number;
  unchanged: number;
  failed: number;
  conflicts: number;
  agentInstalled: string[];
  catalogRoles: { created: string[]; updated: string[] };
  findingsBySeverity: Record<Severity, number>;
  changes: ChangeReport[];
  findings: Finding[];
}

/**
 * Sums cluster results; a role-level finding (reported by every cluster that planned with the
 * role) appears once.
 */
export function summarizeClusters(
  results: readonly ClusterResult[],
  dryRun: boolean,
  extraFindings: readonly Finding[] = [],
): AccountSummary {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const f of [...extraFindings, ...results.flatMap((r) => r.findings)]) {
    const key = JSON.stringify([f.code, f.severity, f.message, f.clusterName, f.roleName]);
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(f);
  }
  const sum = (pick: (r: ClusterResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  return {
    dryRun,
    clusters: results.filter((r) => r.status === "reconciled").length,
    created: sum((r) => r.created),
    updated: sum((r) => r.updated),
    deleted: sum((r) => r.deleted),
    held: sum((r) => r.held),
    stale: sum((r) => r.stale),
    unchanged: sum((r) => r.unchanged),
    failed: sum((r) => r.failed),
    conflicts: findings.filter((f) => f.code === "CONFLICT").length,
    agentInstalled: results.filter((r) => r.agentInstalled).map((r) => r.clusterName),
    catalogRoles: {
      created: [...new Set(results.flatMap((r) => r.catalogRoles.created))].sort(),
      updated: [...new Set(results.flatMap((r) => r.catalogRoles.updated))].sort(),
    },
    findingsBySeverity: countBySeverity(findings),
    changes: results.flatMap((r) => r.changes),
    findings,
  };
}

/** What a dry-run plan of the account reads: EKS and IAM, nothing of the stack's tables. */
export interface PlanAccountDeps {
  clusters: ClusterApi;
  roles: RoleDirectory;
  log: Log;
  now: () => Date;
}

const NOTHING_PUBLISHED: Publisher = { publish() {}, flush: async () => undefined };
const NO_METRICS: MetricsPort = { count() {} };
const dryRunDraw = async (): Promise<never> => {
  throw new Error("a dry run draws nothing on the deletion budget");
};
const NO_BUDGET: DeletionBudget = {
  take: dryRunDraw,
  held: async () => [],
  hold: dryRunDraw,
  decide: dryRunDraw,
  release: dryRunDraw,
};

/**
 * `podid plan` and `podid sweep --dry-run`: each cluster planned by the worker's own use case
 * (`reconcileCluster` with `dryRun`), from one full IAM read, writing nothing. Names that are
 * not clusters of the account get a `CLUSTER_NOT_READY` finding.
 */
export async function planAccount(
  deps: PlanAccountDeps,
  settings: Omit<ReconcileSettings, "dryRun">,
  only?: readonly string[],
  concurrency = 4,
): Promise<AccountSummary> {
  const now = deps.now();
  const [all, names] = await Promise.all([deps.roles.readAllRoles(), deps.clusters.listClusters()]);
  const roles = all.filter(isIndexedRole).map((r) => indexedRole(r, now));
  const index = new SnapshotIndex(roles, now);
  const missing = (only ?? []).filter((n) => !names.includes(n));
  const targets = only ? only.filter((n) => names.includes(n)) : names;
  const clusterDeps = {
    ...deps,
    index,
    budget: NO_BUDGET,
    publisher: NOTHING_PUBLISHED,
    metrics: NO_METRICS,
  };
  const limit = pLimit(concurrency);
  const results = await Promise.all(
    [...targets]
      .sort()
      .map((name) => limit(() => reconcileCluster(clusterDeps, { ...settings, dryRun: true }, name))),
  );
  // templates' own findings, also where no cluster is planned (as the sweep publishes them)
  const admission: { admission?: AdmissionPolicy } = settings.admission
    ? { admission: settings.admission }
    : {};
  const roleFindings = computeDesired({
    clusters: [],
    roles,
    accountId: settings.accountId,
    ...admission,
  }).findings;
  const notFound: Finding[] = missing.map((name) => ({
    code: "CLUSTER_NOT_READY",
    severity: "info",
    clusterName: name,
    message: `Cluster ${name} does not exist (any more)`,
  }));
  return summarizeClusters(results, true, [...notFound, ...roleFindings]);
}
