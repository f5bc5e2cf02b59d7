import { CATALOG_NAMES, catalogRoleName } from "../core/catalog.js";
import { catalogRequests } from "../core/catalog-requests.js";
import { catalogUpkeep } from "../core/catalog-upkeep.js";
import { computeDesired } from "../core/desired.js";
import { errorMessage, TransientError } from "../core/errors.js";
import { DETAIL_TYPES } from "../core/events.js";
import type { Finding } from "../core/findings.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../core/model.js";
import { isManaged, type PlannedChange, planChanges } from "../core/plan.js";
import { TAG } from "../core/tags.js";
import { countFindings } from "./finding-metrics.js";
import type {
  CatalogRolesResult,
  ClusterApi,
  DeletionBudget,
  HeldDeletion,
  IndexedRole,
  Log,
  MetricsPort,
  Publisher,
  ReconcileSettings,
  RoleDirectory,
  TemplateIndex,
} from "./ports.js";
import { type ChangeReport, changeReport } from "./report.js";
import { indexedRole, isIndexedRole, sameRole } from "./template-roles.js";

/** A deleted cluster's grants could not leave a catalog role yet: the item is retried. */
export class CatalogUpkeepError extends TransientError {
  override name = "CatalogUpkeepError";
}

/** What the worker needs. */
export interface ReconcileClusterDeps {
  clusters: ClusterApi;
  roles: RoleDirectory;
  index: TemplateIndex;
  budget: DeletionBudget;
  publisher: Publisher;
  metrics: MetricsPort;
  log: Log;
  now: () => Date;
}

/** What one "reconcile cluster C" did. */
export interface ClusterResult {
  clusterName: string;
  status: "reconciled" | "gone";
  dryRun: boolean;
  created: number;
  updated: number;
  deleted: number;
  held: number;
  /** updates/deletes skipped because the association changed since it was read (then re-planned) */
  stale: number;
  failed: number;
  unchanged: number;
  /** passes of read–plan–check–apply (a stale item or a changed role costs one more) */
  passes: number;
  agentInstalled: boolean;
  /** shared catalog roles this reconcile created or brought up to date */
  catalogRoles: { created: string[]; updated: string[] };
  changes: ChangeReport[];
  findings: Finding[];
}

const MAX_PASSES = 3;
const CATALOG_SOURCES = new Set([...CATALOG_NAMES].map((n) => catalogRoleName(n)));

type Delete = Extract<PlannedChange, { kind: "delete" }>;
type Update = Extract<PlannedChange, { kind: "update" }>;

/** True when the association is still what the plan saw: same role, tags, settings, owner. */
export function stillAsPlanned(seen: AssociationInfo, now: AssociationInfo | undefined): boolean {
  if (!now) return false;
  return (
    now.roleArn === seen.roleArn &&
    now.disableSessionTags === seen.disableSessionTags &&
    (now.targetRoleArn ?? "") === (seen.targetRoleArn ?? "") &&
    (now.ownerArn ?? "") === (seen.ownerArn ?? "") &&
    now.tags[TAG.managedBy] === seen.tags[TAG.managedBy] &&
    now.tags[TAG.source] === seen.tags[TAG.source]
  );
}

/** Source roles a plan relies on (templates only: catalog roles follow cluster tags, read fresh). */
function sourcesOf(changes: PlannedChange[]): string[] {
  const names = new Set<string>();
  for (const c of changes) {
    const source = c.kind === "delete" ? c.actual.tags[TAG.source] : c.desired.source;
    if (c.kind !== "delete" && c.desired.catalog) continue;
    if (source && !CATALOG_SOURCES.has(source)) names.add(source);
  }
  return [...names].sort();
}

/** Managed associations by source role after the outcomes (for the index and the budget). */
function managedBySource(actual: AssociationInfo[], reports: ChangeReport[]): Record<string, number> {
  const slots = new Map<string, string>();
  for (const a of actual) if (isManaged(a)) slots.set(a.associationId, a.tags[TAG.source] ?? "");
  const counts: Record<string, number> = {};
  for (const source of slots.values()) counts[source] = (counts[source] ?? 0) + 1;
  for (const r of reports) {
    if (r.status !== "done" && r.status !== "converged") continue;
    const key = r.source ?? "";
    if (r.kind === "create") counts[key] = (counts[key] ?? 0) + 1;
    if (r.kind === "delete") counts[key] = Math.max(0, (counts[key] ?? 0) - 1);
  }
  for (const [k, v] of Object.entries(counts)) if (v === 0) delete counts[k];
  return counts;
}

/**
 * Reconciles one cluster: the unit of work of the queue. Reads the cluster and its associations
 * fresh, the roles from the template index; confirms from IAM the roles its changes rely on;
 * right before an update or delete describes the association again and goes ahead only if it
 * is still what the plan saw (otherwise re-plans); deletions draw on the account-wide budget and
 * what it does not cover is held for an operator.
 */
export async function reconcileCluster(
  deps: ReconcileClusterDeps,
  settings: ReconcileSettings,
  clusterName: string,
): Promise<ClusterResult> {
  const result: ClusterResult = {
    clusterName,
    status: "reconciled",
    dryRun: settings.dryRun,
    created: 0,
    updated: 0,
    deleted: 0,
    held: 0,
    stale: 0,
    failed: 0,
    unchanged: 0,
    passes: 0,
    agentInstalled: false,
    catalogRoles: { created: [], updated: [] },
    changes: [],
    findings: [],
  };
  const startedAt = deps.now();
  const cluster = await deps.clusters.describeCluster(clusterName);
  if (!cluster) {
    if (!settings.dryRun) await forgetCluster(deps, settings, clusterName, result);
    result.status = "gone";
    return result;
  }
  let roles: IndexedRole[] = await indexRoles(deps, settings.dryRun);
  let actual: AssociationInfo[] = [];
  let planFindings: Finding[] = [];
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    result.passes = pass;
    actual = await deps.clusters.readAssociations(clusterName);
    const state = computeDesired({
      clusters: [cluster],
      roles,
      accountId: settings.accountId,
      ...(settings.admission ? { admission: settings.admission } : {}),
    });
    const plan = planChanges(state, actual, {
      clusterName,
      ...(settings.adoptUnmanaged ? { adoptUnmanaged: true } : {}),
    });
    result.unchanged = plan.unchanged;
    const last = pass === MAX_PASSES;
    planFindings = [...state.findings, ...plan.findings];
    if (settings.dryRun) {
      result.changes = [...plan.changes, ...plan.deletions].map((c) => changeReport(c, "planned"));
      break;
    }
    // the roles the plan relies on, confirmed from IAM: a stale index item re-plans, never applies
    const refreshed = await confirmRoles(deps, sourcesOf([...plan.changes, ...plan.deletions]), roles);
    if (refreshed && !last) {
      roles = refreshed;
      continue;
    }
    // held and rejected deletions are decided again by each pass
    result.changes = result.changes.filter((c) => c.status !== "held" && c.status !== "rejected");
    // the cluster's own `pod-identity/install-agent=false` wins over the deployment's setting
    const installAgent =
      settings.installAgent && (state.clusters.get(clusterName)?.settings.installAgent ?? true);
    const stale = await applyPlan(
      deps,
      { ...settings, installAgent },
      cluster,
      roles,
      catalogRequests(state),
      plan,
      result,
    );
    if (stale === 0 || last) break;
  }
  result.findings = [...planFindings, ...result.findings];
  if (!settings.dryRun) {
    await deps.index.putCluster({
      name: cluster.name,
      arn: cluster.arn,
      tags: cluster.tags,
      status: cluster.status,
      managedBySource: managedBySource(actual, result.changes),
      readAt: deps.now().toISOString(),
      reconciledFrom: startedAt.toISOString(),
    });
  }
  report(deps, result);
  return result;
}

/**
 * The index's roles; an index never built (a fresh deployment before its first sweep) is built
 * here from one full IAM read, so a first cluster event does not plan from an empty index.
 */
async function indexRoles(deps: ReconcileClusterDeps, dryRun: boolean): Promise<IndexedRole[]> {
  if (await deps.index.builtAt()) return await deps.index.roles();
  const now = deps.now();
  const roles = (await deps.roles.readAllRoles()).filter(isIndexedRole).map((r) => indexedRole(r, now));
  if (!dryRun) await deps.index.replaceRoles(roles, now);
  return roles;
}

/**
 * Re-reads `names` from IAM; the new role list when any differs from the index (index updated).
 * A role IAM does not answer for is planned as unreadable (its associations frozen, with a
 * `TEMPLATE_UNREADABLE` finding) for this reconcile only: the index keeps what it last read.
 */
async function confirmRoles(
  deps: ReconcileClusterDeps,
  names: string[],
  roles: IndexedRole[],
): Promise<IndexedRole[] | undefined> {
  if (names.length === 0) return undefined;
  const byName = new Map(roles.map((r) => [r.name, r]));
  const fresh = await Promise.allSettled(names.map((n) => deps.roles.readRole(n)));
  let changed = false;
  const now = deps.now();
  for (const [i, name] of names.entries()) {
    const outcome = fresh[i]!;
    const known = byName.get(name);
    if (outcome.status === "rejected") {
      if (known?.unreadable !== undefined) continue;
      changed = true;
      deps.log.warn("role unreadable: its associations are frozen", {
        roleName: name,
        reason: errorMessage(outcome.reason),
      });
      byName.set(name, {
        ...(known ?? { name, arn: "", path: "/", trustPolicy: "", readAt: now.toISOString() }),
        tags: { ...known?.tags },
        unreadable: errorMessage(outcome.reason),
      });
      continue;
    }
    const r: RoleInfo | undefined = outcome.value;
    const read = r && isIndexedRole(r) ? r : undefined;
    if (read && known && sameRole(read, known)) continue;
    if (!read && !known) continue;
    changed = true;
    if (read) {
      const item = indexedRole(read, now);
      byName.set(name, item);
      await deps.index.putRole(item);
    } else {
      byName.delete(name);
      await deps.index.deleteRole(name);
    }
  }
  return changed ? [...byName.values()] : undefined;
}

/** Applies one pass's plan; returns how many items were stale (changed since read). */
async function applyPlan(
  deps: ReconcileClusterDeps,
  settings: ReconcileSettings,
  cluster: ClusterInfo,
  roles: readonly IndexedRole[],
  catalog: ReturnType<typeof catalogRequests>,
  plan: ReturnType<typeof planChanges>,
  result: ClusterResult,
): Promise<number> {
  const push = (r: ChangeReport) => result.changes.push(r);
  let stale = 0;
  const failedCatalog = new Map<string, string>();
  // the shared catalog roles, when this cluster's catalog associations change or the index shows
  // a role of another version or with other grants for it: only this cluster's grants and
  // bindings are replaced (it is the only one covered)
  const catalogChange = [...plan.changes, ...plan.deletions].some((c) =>
    c.kind === "delete"
      ? CATALOG_SOURCES.has(c.actual.tags[TAG.source] ?? "")
      : c.desired.catalog !== undefined,
  );
  const upkeep = catalogUpkeep(roles, catalog.requests, cluster.arn);
  if (catalogChange || upkeep.stale.length > 0 || upkeep.naming.length > 0) {
    const ensured = await deps.roles.ensureCatalogRoles(
      settings.accountId,
      cluster.arn.split(":")[1] ?? "aws",
      catalog.requests,
      catalog.covered,
      upkeep.naming,
    );
    await recordCatalogRoles(deps, ensured, result);
    for (const f of ensured.failed) failedCatalog.set(f.name, f.error);
  }
  const creates = plan.changes.filter((c) => c.kind === "create");
  const updates = plan.changes.filter((c): c is Update => c.kind === "update");
  const blocked = (c: PlannedChange) =>
    c.kind !== "delete" && c.desired.catalog !== undefined && failedCatalog.has(c.desired.catalog);
  for (const c of [...creates, ...updates].filter(blocked)) {
    const catalog = c.desired.catalog ?? "";
    push(
      changeReport(c, "failed", {
        error: `catalog role could not be prepared: ${failedCatalog.get(catalog)}`,
      }),
    );
  }
  if (settings.installAgent && creates.some((c) => !blocked(c))) {
    try {
      result.agentInstalled = (await deps.clusters.ensureAgent(cluster.name)) || result.agentInstalled;
    } catch (error) {
      result.findings.push({
        code: "APPLY_FAILED",
        severity: "warning",
        clusterName: cluster.name,
        message: `Installing eks-pod-identity-agent in ${cluster.name} failed: ${errorMessage(error)}`,
      });
    }
  }
  // updates and deletes: described again right before the write, applied only if unchanged
  const confirmed = async <T extends Update | Delete>(items: T[]): Promise<T[]> => {
    const now = await Promise.all(
      items.map((c) => deps.clusters.describeAssociation(c.actual.clusterName, c.actual.associationId)),
    );
    return items.filter((c, i) => {
      if (stillAsPlanned(c.actual, now[i])) return true;
      stale++;
      push(changeReport(c, "stale", { error: "changed since it was read; re-planned" }));
      return false;
    });
  };
  const writes = [
    ...creates.filter((c) => !blocked(c)),
    ...(await confirmed(updates.filter((c) => !blocked(c)))),
  ];
  for (const o of await deps.clusters.apply(writes)) {
    push(changeReport(o.change, o.status, o));
  }
  await applyDeletions(deps, cluster.name, plan, confirmed, result);
  return stale;
}

/** Deletions: approved holds go, rejected ones stay, new ones draw on the budget or are held. */
async function applyDeletions(
  deps: ReconcileClusterDeps,
  clusterName: string,
  plan: ReturnType<typeof planChanges>,
  confirmed: (items: Delete[]) => Promise<Delete[]>,
  result: ClusterResult,
): Promise<void> {
  const holds = new Map((await deps.budget.held(clusterName)).map((h) => [h.associationId, h]));
  const planned = new Set(plan.deletions.map((d) => d.actual.associationId));
  // a hold whose deletion is no longer planned (claimed again, gone) is obsolete
  for (const h of holds.values()) if (!planned.has(h.associationId)) await deps.budget.release(h.id);
  const approved: Delete[] = [];
  const fresh: Delete[] = [];
  for (const d of plan.deletions) {
    const hold = holds.get(d.actual.associationId);
    if (hold?.status === "approved") approved.push(d);
    else if (hold?.status === "rejected") result.changes.push(changeReport(d, "rejected"));
    else if (hold) result.changes.push(changeReport(d, "held"));
    else fresh.push(d);
  }
  const goApproved = await confirmed(approved);
  const goFresh = await confirmed(fresh);
  let granted = 0;
  if (goFresh.length > 0) {
    const indexed = await deps.index.clusters();
    const elsewhere = indexed
      .filter((c) => c.name !== clusterName)
      .reduce((n, c) => n + Object.values(c.managedBySource).reduce((a, b) => a + b, 0), 0);
    const grant = await deps.budget.take(goFresh.length, elsewhere + plan.managedInScope, deps.now());
    granted = grant.granted;
    const over = goFresh.slice(granted);
    if (over.length > 0) {
      const heldAt = deps.now().toISOString();
      await deps.budget.hold(over.map((d) => heldDeletion(d, heldAt)));
      for (const d of over) result.changes.push(changeReport(d, "held"));
      result.findings.push({
        code: "DELETIONS_HELD",
        severity: "error",
        clusterName,
        message: `${over.length} deletion(s) in ${clusterName} held: the account's deletion budget (${grant.limit} per hour, ${grant.used} used in ${grant.window}) does not cover them; release with \`podid deletions approve\` or cancel with \`podid deletions reject\``,
      });
    }
  }
  const outcomes = await deps.clusters.apply([...goApproved, ...goFresh.slice(0, granted)]);
  for (const o of outcomes) {
    result.changes.push(changeReport(o.change, o.status, o));
    const hold = holds.get(o.change.kind === "delete" ? o.change.actual.associationId : "");
    if (hold && o.status !== "failed") await deps.budget.release(hold.id);
  }
}

function heldDeletion(d: Delete, heldAt: string): HeldDeletion {
  return {
    id: `${d.actual.clusterName}/${d.actual.associationId}`,
    clusterName: d.actual.clusterName,
    namespace: d.actual.namespace,
    serviceAccount: d.actual.serviceAccount,
    associationId: d.actual.associationId,
    roleArn: d.actual.roleArn,
    ...(d.actual.tags[TAG.source] ? { source: d.actual.tags[TAG.source] } : {}),
    reason: d.reason,
    heldAt,
    status: "held",
  };
}

/** Reports what a catalog role upkeep did and re-reads the roles it wrote into the index. */
async function recordCatalogRoles(
  deps: ReconcileClusterDeps,
  ensured: CatalogRolesResult,
  result: ClusterResult,
): Promise<void> {
  result.catalogRoles.created.push(...ensured.created);
  result.catalogRoles.updated.push(...ensured.updated);
  result.findings.push(...ensured.findings);
  const now = deps.now();
  for (const name of [...ensured.created, ...ensured.updated]) {
    const role = await deps.roles.readRole(name);
    if (role) await deps.index.putRole(indexedRole(role, now));
  }
}

/**
 * A cluster that no longer exists: its grants leave the shared catalog roles' trust (the ARN as
 * the index remembers it), then the index forgets it; a failure keeps the item for the retry.
 */
async function forgetCluster(
  deps: ReconcileClusterDeps,
  settings: ReconcileSettings,
  clusterName: string,
  result: ClusterResult,
): Promise<void> {
  const known = await deps.index.cluster(clusterName);
  if (known) {
    const upkeep = catalogUpkeep(await deps.index.roles(), new Map(), known.arn);
    if (upkeep.naming.length > 0) {
      const ensured = await deps.roles.ensureCatalogRoles(
        settings.accountId,
        known.arn.split(":")[1] ?? "aws",
        new Map(),
        new Set([known.arn]),
        upkeep.naming,
      );
      await recordCatalogRoles(deps, ensured, result);
      if (ensured.failed.length > 0)
        throw new CatalogUpkeepError(
          `catalog roles still trusting deleted cluster ${clusterName}: ${ensured.failed.map((f) => `${f.name} (${f.error})`).join("; ")}`,
        );
    }
  }
  await deps.index.deleteCluster(clusterName);
}

/** The metrics of one cluster's reconcile, as the dashboard and alarms read them. */
export function countClusterMetrics(metrics: MetricsPort, result: ClusterResult): void {
  metrics.count("AssociationsCreated", result.created);
  metrics.count("AssociationsUpdated", result.updated);
  metrics.count("AssociationsDeleted", result.deleted);
  metrics.count("DriftFound", result.changes.length);
  metrics.count("DeletionsHeld", result.held);
  metrics.count("StaleSkipped", result.stale);
  metrics.count("ApplyFailures", result.failed);
  countFindings(
    metrics,
    result.findings.filter((f) => f.clusterName === result.clusterName),
  );
}

/** Counts, metrics, product events and findings of this cluster. */
function report(deps: ReconcileClusterDeps, result: ClusterResult): void {
  const ok = (kind: PlannedChange["kind"]) =>
    result.changes.filter((c) => c.kind === kind && (c.status === "done" || c.status === "converged")).length;
  result.created = ok("create");
  result.updated = ok("update");
  result.deleted = ok("delete");
  result.stale = result.changes.filter((c) => c.status === "stale").length;
  result.held = result.changes.filter((c) => c.status === "held").length;
  for (const f of result.changes.filter((c) => c.status === "failed")) {
    result.findings.push({
      code: "APPLY_FAILED",
      severity: "error",
      clusterName: f.clusterName,
      namespace: f.namespace,
      serviceAccount: f.serviceAccount,
      message: `${f.kind} of ${f.namespace}/${f.serviceAccount} in ${f.clusterName} failed: ${f.error}`,
    });
  }
  result.failed = result.changes.filter((c) => c.status === "failed").length;
  if (result.dryRun) return;
  const types = {
    create: DETAIL_TYPES.associationCreated,
    update: DETAIL_TYPES.associationUpdated,
    delete: DETAIL_TYPES.associationDeleted,
  } as const;
  for (const c of result.changes) {
    if (c.status === "done" || c.status === "converged") deps.publisher.publish(types[c.kind], { ...c });
    if (c.status === "held") deps.publisher.publish(DETAIL_TYPES.deletionHeld, { ...c });
  }
  // role-level findings are published where the role is read (iam-event, sweep), not per cluster
  for (const f of result.findings)
    if (f.clusterName === result.clusterName) deps.publisher.publish(DETAIL_TYPES.finding, { ...f });
  countClusterMetrics(deps.metrics, result);
  const { clusterName, created, updated, deleted, held, stale, failed, unchanged, passes } = result;
  const summary = { clusterName, created, updated, deleted, held, stale, failed, unchanged, passes };
  deps.publisher.publish(DETAIL_TYPES.reconcileCompleted, summary);
  deps.log.info("cluster reconciled", summary);
}
