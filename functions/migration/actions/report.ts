import type { MigrationItem } from "../../core/migration/discover.js";
import type { MigrationRequest } from "../../core/migration/input.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan } from "../plan.js";
import type { RollbackReport } from "./rollback.js";

/** How a run ended. */
export type MigrationOutcome =
  | "succeeded"
  | "dry-run"
  | "nothing-to-do"
  | "rejected"
  | "rolled-back"
  | "failed";

/** Per service account, what happened. */
export interface ServiceAccountReport {
  namespace: string;
  serviceAccount: string;
  role: string;
  kind: "service-account" | "addon";
  addon?: string;
  outcome: "migrated" | "already-migrated" | "planned" | "refused" | "rolled-back" | "not-attempted";
  reasons?: string[];
}

/** Step 10: the report: per service account its outcome, and what the operator must do next. */
export async function report(
  deps: MigrationDeps,
  payload: {
    migrationId: string;
    request: MigrationRequest;
    outcome: MigrationOutcome;
    error?: { Error?: string; Cause?: string };
    rollback?: RollbackReport;
  },
) {
  const plan = await deps.store.get<MigrationPlan>(payload.migrationId, KEYS.plan);
  const { outcome } = payload;
  const readyOutcome = (associated: boolean): ServiceAccountReport["outcome"] => {
    if (outcome === "dry-run") return associated ? "already-migrated" : "planned";
    if (outcome === "succeeded") return associated ? "already-migrated" : "migrated";
    if (outcome === "rolled-back") return "rolled-back";
    return "not-attempted";
  };
  const entry = (i: MigrationItem, outcome: ServiceAccountReport["outcome"]): ServiceAccountReport => ({
    namespace: i.namespace,
    serviceAccount: i.serviceAccount,
    role: i.roleName,
    kind: i.kind,
    ...(i.addonName ? { addon: i.addonName } : {}),
    outcome,
  });
  const serviceAccounts: ServiceAccountReport[] = [
    ...(plan?.ready ?? []).map((i) => entry(i, readyOutcome(i.associated))),
    ...(plan?.refused ?? []).map((i) => ({ ...entry(i, "refused"), reasons: i.reasons })),
  ].sort((a, b) => `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`));
  const irsaRemoved = await deps.store.list<{ subjects: string[] }>(payload.migrationId, "irsa#");
  const nextSteps: string[] = [];
  if (outcome === "succeeded") {
    const byNamespace = new Map<string, string[]>();
    for (const sa of serviceAccounts.filter(
      (s) => s.outcome === "migrated" && s.kind === "service-account",
    )) {
      byNamespace.set(sa.namespace, [...(byNamespace.get(sa.namespace) ?? []), sa.serviceAccount]);
    }
    for (const [ns, accounts] of byNamespace) {
      nextSteps.push(
        `Restart the workloads in namespace ${ns} that use ${accounts.join(", ")}: running pods keep their IRSA credentials until restarted.`,
      );
    }
    const addons = [
      ...new Set(serviceAccounts.filter((s) => s.outcome === "migrated" && s.addon).map((s) => s.addon)),
    ];
    for (const a of addons)
      nextSteps.push(`Add-on ${a} now uses Pod Identity; EKS restarts its pods with the update.`);
    if (!payload.request.removeIrsaTrust && serviceAccounts.some((s) => s.outcome === "migrated")) {
      nextSteps.push(
        "Once the restarted pods work, run the migration again with --remove-irsa-trust to drop this cluster's IRSA trust for them.",
      );
    }
  }
  if (outcome === "dry-run") nextSteps.push("Run without --dry-run to migrate the planned service accounts.");
  if (plan?.wildcards.some((w) => w.matchedRequested.length === 0)) {
    nextSteps.push(
      "Roles with wildcard subs were not migrated: name their service accounts with --service-account namespace/name.",
    );
  }
  if (outcome === "rolled-back")
    nextSteps.push("Nothing changed in the end: fix the cause above and run again.");
  return {
    migrationId: payload.migrationId,
    clusterName: payload.request.clusterName,
    outcome,
    dryRun: payload.request.dryRun,
    serviceAccounts,
    wildcards: plan?.wildcards ?? [],
    notFound: plan?.notFound ?? [],
    roles: (plan?.roleEdits ?? []).map((e) => ({
      roleName: e.roleName,
      serviceAccounts: e.subjects.length,
      sizeBefore: e.sizeBefore,
      sizeAfterAdd: e.sizeAfterAdd,
      ...(e.sizeAfterRemove !== undefined ? { sizeAfterRemove: e.sizeAfterRemove } : {}),
      irsaTrustRemoved: irsaRemoved.some((r) => r.sk === KEYS.irsaRemoved(e.roleName)),
    })),
    agent: plan?.agent ?? "present",
    ...(payload.error ? { error: { name: payload.error.Error, cause: payload.error.Cause } } : {}),
    ...(payload.rollback ? { undone: payload.rollback } : {}),
    nextSteps,
  };
}

/** The report a run ends with. */
export type MigrationReport = Awaited<ReturnType<typeof report>>;
