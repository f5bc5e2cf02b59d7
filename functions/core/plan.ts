import type { DesiredState } from "./desired.js";
import type { Finding } from "./findings.js";
import { type AssociationInfo, type DesiredAssociation, slotKey } from "./model.js";
import { roleNameKey, sameRoleArn, sameRoleName } from "./role-identity.js";
import { MANAGED_BY_VALUE, TAG } from "./tags.js";

/** One change to make. */
export type PlannedChange =
  | { kind: "create"; desired: DesiredAssociation }
  | {
      kind: "update";
      desired: DesiredAssociation;
      actual: AssociationInfo;
      changes: string[];
      adopt: boolean;
    }
  | { kind: "delete"; actual: AssociationInfo; reason: string };

/** What the reconciler would do, and why not more. */
export interface Plan {
  changes: PlannedChange[];
  unchanged: number;
  findings: Finding[];
  breakerTripped: boolean;
  /** managed associations in scope (the breaker's base) */
  managedInScope: number;
}

/** Deletion circuit breaker: at most max(floor, fraction × managed) deletions in one run. */
export interface BreakerSettings {
  floor: number;
  fraction: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { floor: 5, fraction: 0.1 };

export interface PlanOptions {
  breaker?: BreakerSettings;
  /** take over unmanaged associations that the tags claim (default: leave them, with a finding) */
  adoptUnmanaged?: boolean;
  /** only changes involving this role (as desired source or actual source tag) */
  roleName?: string;
  /** only this cluster (reconcile plans cluster by cluster as their reads complete) */
  clusterName?: string;
}

/** A plan before the breaker: creates and updates, and the deletions the breaker will judge. */
export interface PartialPlan {
  changes: PlannedChange[];
  deletions: Extract<PlannedChange, { kind: "delete" }>[];
  unchanged: number;
  findings: Finding[];
  managedInScope: number;
}

/** Whether the automation owns an association: tagged managed-by, and not owned by an add-on. */
export function isManaged(a: AssociationInfo): boolean {
  return a.tags[TAG.managedBy] === MANAGED_BY_VALUE && !a.ownerArn;
}

function differences(d: DesiredAssociation, a: AssociationInfo): string[] {
  const changes: string[] = [];
  if (!sameRoleArn(d.roleArn, a.roleArn)) changes.push("roleArn");
  if (d.disableSessionTags !== a.disableSessionTags) changes.push("disableSessionTags");
  if ((d.targetRoleArn ?? "") !== (a.targetRoleArn ?? "")) changes.push("targetRoleArn");
  if (!sameRoleName(a.tags[TAG.source], d.source)) changes.push("source");
  return changes;
}

/**
 * Plans the changes that bring `actual` (every association of the clusters in scope, described)
 * to the desired state. Never touches an association without the managed-by tag (unless adopting)
 * nor one with an ownerArn; never changes opted-out or not-ready clusters; held slots stay as they
 * are; too many deletions trip the breaker and no deletion happens at all.
 */
export function planChanges(state: DesiredState, actual: AssociationInfo[], options: PlanOptions = {}): Plan {
  return withBreaker(planWithoutBreaker(state, actual, options), options.breaker ?? DEFAULT_BREAKER);
}

/** The plan's creates, updates and candidate deletions, the breaker not yet applied. */
export function planWithoutBreaker(
  state: DesiredState,
  allActual: AssociationInfo[],
  options: PlanOptions = {},
): PartialPlan {
  const findings: Finding[] = [];
  const changes: PlannedChange[] = [];
  const deletions: Extract<PlannedChange, { kind: "delete" }>[] = [];
  let unchanged = 0;
  const actual = options.clusterName
    ? allActual.filter((a) => a.clusterName === options.clusterName)
    : allActual;
  const scopeClusters = new Set(actual.map((a) => a.clusterName));
  if (options.clusterName) scopeClusters.add(options.clusterName);
  else for (const name of state.clusters.keys()) scopeClusters.add(name);
  const seen = new Set<string>();
  const inRole = (source: string | undefined) =>
    options.roleName === undefined || sameRoleName(source, options.roleName);
  let managedInScope = 0;

  for (const a of actual) {
    const key = slotKey(a);
    seen.add(key);
    const d = state.desired.get(key);
    const cluster = state.clusters.get(a.clusterName);
    const eligible = cluster?.eligible ?? false;
    if (a.ownerArn) {
      if (d && inRole(d.source)) {
        findings.push({
          code: "ADDON_OWNED",
          severity: "warning",
          clusterName: a.clusterName,
          namespace: a.namespace,
          serviceAccount: a.serviceAccount,
          roleName: d.source,
          message: `${a.namespace}/${a.serviceAccount} in ${a.clusterName} belongs to an EKS add-on (${a.ownerArn}); ${d.source} is not applied there`,
        });
      }
      continue;
    }
    if (!isManaged(a)) {
      if (!d || !inRole(d.source)) continue;
      if (options.adoptUnmanaged && eligible && !state.held.has(key)) {
        changes.push({
          kind: "update",
          desired: d,
          actual: a,
          changes: [...differences(d, a), "adopt"],
          adopt: true,
        });
      } else {
        findings.push({
          code: "UNMANAGED_EXISTS",
          severity: "warning",
          clusterName: a.clusterName,
          namespace: a.namespace,
          serviceAccount: a.serviceAccount,
          roleName: d.source,
          message: `${a.namespace}/${a.serviceAccount} in ${a.clusterName} already has an association not made by pod-identity-autopilot (${a.associationId}); it is left alone`,
        });
      }
      continue;
    }
    const source = a.tags[TAG.source];
    if (!inRole(source) && !(d && inRole(d.source))) continue;
    managedInScope++;
    // a template that cannot be applied freezes what it sources (no update, no delete)
    const frozen = source !== undefined && state.frozenSources?.has(roleNameKey(source));
    if (!eligible || state.held.has(key) || frozen) {
      unchanged++;
      continue;
    }
    if (d) {
      const diff = differences(d, a);
      if (diff.length === 0) unchanged++;
      else changes.push({ kind: "update", desired: d, actual: a, changes: diff, adopt: false });
    } else {
      deletions.push({
        kind: "delete",
        actual: a,
        reason: source ? `no template claims it any more (was ${source})` : "no template claims it",
      });
    }
  }

  for (const [key, d] of state.desired) {
    if (seen.has(key) || !scopeClusters.has(d.clusterName) || !inRole(d.source)) continue;
    if (state.clusters.get(d.clusterName)?.eligible) changes.push({ kind: "create", desired: d });
  }

  return { changes, deletions, unchanged, findings, managedInScope };
}

/**
 * The deletion circuit breaker over whole runs: at most max(floor, fraction × managed in scope)
 * deletions, else none at all and a finding.
 */
export function withBreaker(
  parts: PartialPlan | PartialPlan[],
  breaker: BreakerSettings = DEFAULT_BREAKER,
): Plan {
  const list = Array.isArray(parts) ? parts : [parts];
  const changes = list.flatMap((p) => p.changes);
  const deletions = list.flatMap((p) => p.deletions);
  const findings = list.flatMap((p) => p.findings);
  const managedInScope = list.reduce((n, p) => n + p.managedInScope, 0);
  let unchanged = list.reduce((n, p) => n + p.unchanged, 0);
  const limit = Math.max(breaker.floor, Math.floor(breaker.fraction * managedInScope));
  const breakerTripped = deletions.length > limit;
  if (breakerTripped) {
    findings.push({
      code: "BREAKER_TRIPPED",
      severity: "error",
      message: `${deletions.length} deletions planned, more than the limit of ${limit} (max(${breaker.floor}, ${Math.round(breaker.fraction * 100)}% of ${managedInScope} managed)); no association is deleted in this run`,
    });
    unchanged += deletions.length;
  } else {
    changes.push(...deletions);
  }
  return { changes, unchanged, findings, breakerTripped, managedInScope };
}
