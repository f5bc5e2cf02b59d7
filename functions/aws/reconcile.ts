import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import pLimit from "p-limit";
import type { AdmissionPolicy } from "../core/admission.js";
import { CATALOG_ROLE_PATH, catalogEntryOfRole } from "../core/catalog.js";
import { catalogRequests } from "../core/catalog-requests.js";
import { readTrustBindings } from "../core/catalog-trust.js";
import { computeDesired } from "../core/desired.js";
import { errorMessage } from "../core/errors.js";
import { DETAIL_TYPES } from "../core/events.js";
import { countBySeverity, type Finding } from "../core/findings.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../core/model.js";
import {
  type BreakerSettings,
  DEFAULT_BREAKER,
  type PartialPlan,
  type PlannedChange,
  planWithoutBreaker,
  withBreaker,
} from "../core/plan.js";
import type { Severity } from "../core/trust/findings.js";
import {
  type ApplyOptions,
  applyChanges,
  type ChangeOutcome,
  DEFAULT_APPLY_OPTIONS,
  ensureAgent,
} from "./apply.js";
import { ensureCatalogRoles } from "./catalog-roles.js";
import type { AwsClients } from "./clients.js";
import type { EventPublisher } from "./events.js";
import { describeCluster, readAssociations, readClusters, readRoles } from "./inventory.js";
import { iamRoleCheck } from "./role-check.js";

/** Which part of the account a run reconciles. */
export type ReconcileScope =
  | { kind: "all" }
  | { kind: "clusters"; names: string[] }
  | { kind: "role"; roleName: string };

/** What to reconcile and how. */
export interface ReconcileRequest {
  scope: ReconcileScope;
  dryRun: boolean;
  adoptUnmanaged?: boolean;
  breaker?: BreakerSettings;
  /** install eks-pod-identity-agent where a cluster gets associations and lacks it (default true) */
  installAgent?: boolean;
  /**
   * Roles already read by the run that split a sweep into units (templates and catalog roles):
   * a unit then reads no role again.
   */
  roles?: RoleInfo[];
  /** the stack's template and cluster admission (default: DEFAULT_ADMISSION) */
  admission?: AdmissionPolicy;
}

/** A structured logger (Powertools Logger fits). */
export interface LoggerLike {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What the use case needs; passed in so tests substitute nothing by module mocking. */
export interface ReconcileDeps {
  clients: AwsClients;
  publisher: EventPublisher;
  logger: LoggerLike;
  accountId?: string;
  apply?: Partial<ApplyOptions>;
  readConcurrency?: number;
}

/** One change as reported. */
export interface ChangeReport {
  kind: PlannedChange["kind"];
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  source?: string;
  detail: string;
  status: ChangeOutcome["status"] | "planned";
  associationId?: string;
  error?: string;
}

/** The summary a run returns and logs. */
export interface ReconcileSummary {
  scope: ReconcileScope;
  dryRun: boolean;
  clusters: number;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  failed: number;
  conflicts: number;
  breakerTripped: boolean;
  findingsBySeverity: Record<Severity, number>;
  agentInstalled: string[];
  catalogRoles: { created: string[]; updated: string[] };
  changes: ChangeReport[];
  findings: Finding[];
}

/** Cluster ARNs that catalog roles' trust policies name (as read with the roles). */
function catalogClusterArns(roles: readonly RoleInfo[]): string[] {
  const arns = new Set<string>();
  for (const r of roles) {
    if (r.path !== CATALOG_ROLE_PATH) continue;
    let trust: unknown;
    try {
      trust = JSON.parse(r.trustPolicy);
    } catch {
      continue;
    }
    for (const b of readTrustBindings(trust)) arns.add(b.clusterArn);
  }
  return [...arns];
}

/** Quiet logger for callers that do not log. */
export const silentLogger: LoggerLike = { info() {}, warn() {}, error() {} };

function report(change: PlannedChange, outcome?: ChangeOutcome): ChangeReport {
  const subject = change.kind === "delete" ? change.actual : change.desired;
  const detail =
    change.kind === "create"
      ? "missing"
      : change.kind === "update"
        ? `${change.changes.join(", ")} differ${change.adopt ? " (adopting)" : ""}`
        : change.reason;
  return {
    kind: change.kind,
    clusterName: subject.clusterName,
    namespace: subject.namespace,
    serviceAccount: subject.serviceAccount,
    roleArn: change.kind === "delete" ? change.actual.roleArn : change.desired.roleArn,
    ...(change.kind !== "delete" ? { source: change.desired.source } : {}),
    detail,
    status: outcome?.status ?? "planned",
    ...(outcome?.associationId ? { associationId: outcome.associationId } : {}),
    ...(outcome?.error ? { error: outcome.error } : {}),
  };
}

async function readScopeClusters(
  deps: ReconcileDeps,
  scope: ReconcileScope,
  findings: Finding[],
): Promise<ClusterInfo[]> {
  if (scope.kind !== "clusters") return await readClusters(deps.clients.eks, deps.readConcurrency ?? 8);
  const limit = pLimit(deps.readConcurrency ?? 8);
  const found = await Promise.all(
    scope.names.map((name) => limit(() => describeCluster(deps.clients.eks, name))),
  );
  scope.names.forEach((name, i) => {
    if (!found[i])
      findings.push({
        code: "CLUSTER_NOT_READY",
        severity: "info",
        clusterName: name,
        message: `Cluster ${name} does not exist (any more)`,
      });
  });
  return found.filter((c): c is ClusterInfo => c !== undefined);
}

/**
 * Reads the inventory in scope, computes desired state and plan, applies it (unless dry run),
 * publishes every change and finding, and returns the summary.
 */
export async function reconcile(deps: ReconcileDeps, request: ReconcileRequest): Promise<ReconcileSummary> {
  const { clients, logger } = deps;
  const findings: Finding[] = [];
  const accountId =
    deps.accountId ?? (await clients.sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
  const [clusters, roles] = await Promise.all([
    readScopeClusters(deps, request.scope, findings),
    request.roles ?? readRoles(clients.iam, deps.readConcurrency ?? 8),
  ]);
  const state = computeDesired({
    clusters,
    roles,
    accountId,
    ...(request.admission ? { admission: request.admission } : {}),
  });
  findings.push(...state.findings);

  const limit = pLimit(deps.readConcurrency ?? 8);
  const applyOptions = {
    ...DEFAULT_APPLY_OPTIONS,
    roleCheck: iamRoleCheck(clients.iam, accountId),
    ...deps.apply,
  };
  const writeLimit = pLimit(applyOptions.concurrency);
  const planOptions = {
    ...(request.adoptUnmanaged ? { adoptUnmanaged: true } : {}),
    ...(request.scope.kind === "role" ? { roleName: request.scope.roleName } : {}),
  };
  const outcomes: ChangeOutcome[] = [];
  const agentInstalled: string[] = [];
  const catalogRoles = { created: [] as string[], updated: [] as string[] };

  // every catalog association needs its shared role: those come first
  const failedCatalog = new Map<string, string>();
  const { requests: catalogAsks, covered } = catalogRequests(state);
  if (request.scope.kind !== "role") {
    // clusters gone lose their catalog grants: a full run speaks for every cluster of its region,
    // a run for named clusters for those it no longer finds
    const region = await clients.eks.config.region();
    const gone =
      request.scope.kind === "all"
        ? catalogClusterArns(roles).filter((arn) => arn.split(":")[3] === region)
        : request.scope.names.flatMap((name) =>
            catalogClusterArns(roles).filter(
              (arn) => arn.split(":")[3] === region && arn.endsWith(`:cluster/${name}`),
            ),
          );
    for (const arn of gone) if (!clusters.some((c) => c.arn === arn)) covered.add(arn);
  }
  // roles no cluster of this run asks for, but whose trust names a covered cluster (opted out, gone)
  const existingCatalogRoles = roles
    .filter((r) => r.path === CATALOG_ROLE_PATH)
    .filter((r) => request.scope.kind === "all" || catalogClusterArns([r]).some((arn) => covered.has(arn)))
    .flatMap((r) => catalogEntryOfRole(r.name)?.name ?? []);
  if (!request.dryRun && (catalogAsks.size > 0 || existingCatalogRoles.length > 0)) {
    const ensured = await ensureCatalogRoles(clients.iam, catalogAsks, {
      accountId,
      partition: clusters[0]?.arn.split(":")[1] ?? "aws",
      dryRun: false,
      covered,
      existing: existingCatalogRoles,
    });
    catalogRoles.created = ensured.created;
    catalogRoles.updated = ensured.updated;
    findings.push(...ensured.findings);
    for (const f of ensured.failed) failedCatalog.set(f.name, f.error);
  }

  /** Creates and updates of one cluster, applied as soon as its plan is known (deletions wait). */
  const applyCluster = async (clusterName: string, changes: PlannedChange[]): Promise<void> => {
    const blocked = changes.filter(
      (c) => c.kind !== "delete" && c.desired.catalog && failedCatalog.has(c.desired.catalog),
    );
    for (const change of blocked) {
      const catalog = change.kind !== "delete" ? (change.desired.catalog ?? "") : "";
      outcomes.push({
        change,
        status: "failed",
        error: `catalog role could not be prepared: ${failedCatalog.get(catalog)}`,
      });
    }
    const runnable = changes.filter((c) => !blocked.includes(c));
    const installAgent =
      request.installAgent !== false && state.clusters.get(clusterName)?.settings.installAgent;
    if (installAgent && runnable.some((c) => c.kind === "create")) {
      try {
        if (await ensureAgent(clients.eks, clusterName)) agentInstalled.push(clusterName);
      } catch (error) {
        findings.push({
          code: "APPLY_FAILED",
          severity: "warning",
          clusterName,
          message: `Installing eks-pod-identity-agent in ${clusterName} failed: ${errorMessage(error)}`,
        });
      }
    }
    outcomes.push(...(await applyChanges(clients.eks, runnable, { ...applyOptions, limit: writeLimit })));
  };

  // read, plan and apply cluster by cluster, so writes overlap the reads of the other clusters
  const parts: PartialPlan[] = [];
  await Promise.all(
    [...state.clusters.values()]
      .filter((c) => c.eligible)
      .map(async (c) => {
        let actual: AssociationInfo[];
        try {
          actual = await readAssociations(clients.eks, c.cluster.name, limit);
        } catch (error) {
          // without its actual state a cluster cannot be planned; the others go on
          c.eligible = false;
          c.reason = "inventory failed";
          findings.push({
            code: "APPLY_FAILED",
            severity: "error",
            clusterName: c.cluster.name,
            message: `Cluster ${c.cluster.name} was not reconciled: reading its associations failed (${errorMessage(error)})`,
          });
          return;
        }
        const part = planWithoutBreaker(state, actual, { ...planOptions, clusterName: c.cluster.name });
        parts.push(part);
        if (!request.dryRun) await applyCluster(c.cluster.name, part.changes);
      }),
  );
  // the breaker judges the deletions of the whole run at once
  const plan = withBreaker(parts, request.breaker ?? DEFAULT_BREAKER);
  findings.push(...plan.findings);
  if (!request.dryRun) {
    const deletions = plan.changes.filter((c) => c.kind === "delete");
    outcomes.push(...(await applyChanges(clients.eks, deletions, { ...applyOptions, limit: writeLimit })));
  }

  const changes = request.dryRun
    ? plan.changes.map((c) => report(c))
    : outcomes.map((o) => report(o.change, o));
  const succeeded = (kind: PlannedChange["kind"]) =>
    changes.filter((c) => c.kind === kind && c.status !== "failed" && c.status !== "planned").length;
  const failed = changes.filter((c) => c.status === "failed");
  for (const f of failed) {
    findings.push({
      code: "APPLY_FAILED",
      severity: "error",
      clusterName: f.clusterName,
      namespace: f.namespace,
      serviceAccount: f.serviceAccount,
      message: `${f.kind} of ${f.namespace}/${f.serviceAccount} in ${f.clusterName} failed: ${f.error}`,
    });
  }
  const summary: ReconcileSummary = {
    scope: request.scope,
    dryRun: request.dryRun,
    clusters: state.clusters.size,
    created: succeeded("create"),
    updated: succeeded("update"),
    deleted: succeeded("delete"),
    unchanged: plan.unchanged,
    failed: failed.length,
    conflicts: findings.filter((f) => f.code === "CONFLICT").length,
    breakerTripped: plan.breakerTripped,
    findingsBySeverity: countBySeverity(findings),
    agentInstalled,
    catalogRoles,
    changes,
    findings,
  };

  if (!request.dryRun) {
    for (const c of changes) {
      if (c.status === "failed") continue;
      const type =
        c.kind === "create"
          ? DETAIL_TYPES.associationCreated
          : c.kind === "update"
            ? DETAIL_TYPES.associationUpdated
            : DETAIL_TYPES.associationDeleted;
      deps.publisher.publish(type, { ...c });
      logger.info(`association ${c.kind}d`, {
        clusterName: c.clusterName,
        namespace: c.namespace,
        serviceAccount: c.serviceAccount,
        associationId: c.associationId,
        roleName: c.source,
      });
    }
  }
  for (const f of findings) deps.publisher.publish(DETAIL_TYPES.finding, { ...f });
  if (plan.breakerTripped)
    deps.publisher.publish(DETAIL_TYPES.breakerTripped, {
      scope: request.scope,
      managedInScope: plan.managedInScope,
    });
  const { changes: _changes, findings: _findings, ...counts } = summary;
  deps.publisher.publish(DETAIL_TYPES.reconcileCompleted, counts);
  await deps.publisher.flush();
  logger.info("reconcile completed", counts);
  return summary;
}
