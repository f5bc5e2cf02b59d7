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

export interface PlanOptions {
  /** take over unmanaged associations that the tags claim (default: leave them, with a finding) */
  adoptUnmanaged?: boolean;
  /** only changes involving this role (as desired source or actual source tag) */
  roleName?: string;
  /** only this cluster (the worker plans one cluster at a time) */
  clusterName?: string;
}

/**
 * A plan: creates and updates, and apart from them the deletions, which the account-wide
 * deletion budget judges before any is made.
 */
export interface Plan {
  changes: PlannedChange[];
  deletions: Extract<PlannedChange, { kind: "delete" }>[];
  unchanged: number;
  findings: Finding[];
  /** managed associations in scope (the budget's base) */
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
 * nor one with an ownerArn; never changes opted-out or not-ready clusters; held slots and the
 * associations of frozen templates stay as they are.
 */
export function planChanges(
  state: DesiredState,
  allActual: AssociationInfo[],
  options: PlanOptions = {},
): Plan {
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
