import { errorMessage } from "../../core/errors.js";
import type { MigrationItem } from "../../core/migration/discover.js";
import { type RecordedApproval, recordedApproval } from "../approval.js";
import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { releaseClusterLease } from "../leases.js";
import { KEYS, type MigrationPlan, type TrustEditRecord } from "../plan.js";
import { agentStatus } from "./agent.js";
import type { FinalizeReport } from "./finalize.js";
import type { RollbackReport } from "./rollback.js";

/** How a run ended. */
export type MigrationOutcome =
  | "succeeded"
  | "dry-run"
  | "nothing-to-do"
  | "rejected"
  | "rolled-back"
  | "rollback-incomplete"
  | "failed";

/** Per service account, what happened. */
export interface ServiceAccountReport {
  namespace: string;
  serviceAccount: string;
  role: string;
  kind: "service-account" | "addon";
  addon?: string;
  /**
   * `rollback-incomplete`: this run's changes for it may not all be undone (see the report's
   * `undone.incomplete`); `already-migrated`: the run found it associated and changed nothing for it
   */
  outcome:
    | "migrated"
    | "already-migrated"
    | "planned"
    | "refused"
    | "rolled-back"
    | "rollback-incomplete"
    | "not-attempted";
  reasons?: string[];
}

/** The full report of a run (stored; the execution state keeps only a summary). */
export interface MigrationReport {
  migrationId: string;
  clusterName: string;
  outcome: MigrationOutcome;
  dryRun: boolean;
  serviceAccounts: ServiceAccountReport[];
  wildcards: MigrationPlan["wildcards"];
  notFound: string[];
  roles: {
    roleName: string;
    serviceAccounts: number;
    sizeBefore: number;
    sizeAfterAdd: number;
    statementsAdded: number;
    /** service accounts whose Pod Identity trust is aws:SourceAccount only (session tags disabled) */
    unscoped: string[];
  }[];
  agent: MigrationPlan["agent"] | "unknown";
  /** who approved or rejected the run, as the approving client stated it (see its `authority`) */
  approval?: RecordedApproval;
  error?: { name?: string; cause?: string };
  undone?: RollbackReport;
  nextSteps: string[];
}

/** Outcome of a finalize or rollback execution's report step. */
export type PhaseOutcome = "succeeded" | "incomplete" | "failed" | "rollback-incomplete";

function entry(i: MigrationItem, outcome: ServiceAccountReport["outcome"]): ServiceAccountReport {
  return {
    namespace: i.namespace,
    serviceAccount: i.serviceAccount,
    role: i.roleName,
    kind: i.kind,
    ...(i.addonName ? { addon: i.addonName } : {}),
    outcome,
  };
}

async function runReport(
  deps: MigrationDeps,
  ctx: ExecutionContext<"run">,
  outcome: MigrationOutcome,
  error: { Error?: string; Cause?: string } | undefined,
): Promise<MigrationReport> {
  const plan = await deps.store.getLarge<MigrationPlan>(ctx.runKey, KEYS.plan);
  const undone = await deps.store.getLarge<RollbackReport>(ctx.runKey, KEYS.rollback);
  const edits = await deps.store.list<TrustEditRecord>(ctx.runKey, "edit#");
  const approval = recordedApproval(await deps.store.get<unknown>(ctx.runKey, KEYS.decision));
  const readyOutcome = (associated: boolean): ServiceAccountReport["outcome"] => {
    if (outcome === "dry-run") return associated ? "already-migrated" : "planned";
    if (outcome === "succeeded") return associated ? "already-migrated" : "migrated";
    // a service account found associated was not changed by this run: nothing of it was undone
    if (outcome === "rolled-back") return associated ? "already-migrated" : "rolled-back";
    if (outcome === "rollback-incomplete") return associated ? "already-migrated" : "rollback-incomplete";
    return "not-attempted";
  };
  const serviceAccounts: ServiceAccountReport[] = [
    ...(plan?.ready ?? []).map((i) => entry(i, readyOutcome(i.associated))),
    ...(plan?.refused ?? []).map((i) => ({ ...entry(i, "refused"), reasons: i.reasons })),
  ].sort((a, b) => `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`));
  const nextSteps: string[] = [];
  const roles = (plan?.roleEdits ?? []).map((e) => ({
    roleName: e.roleName,
    serviceAccounts: e.subjects.length,
    sizeBefore: e.sizeBefore,
    sizeAfterAdd: e.sizeAfterAdd,
    statementsAdded:
      edits.find((r) => r.data.roleName === e.roleName && r.data.written)?.data.statements.length ?? 0,
    unscoped: e.unscoped ?? [],
  }));
  if (outcome === "succeeded") {
    const byNamespace = new Map<string, string[]>();
    for (const sa of serviceAccounts.filter((s) => s.outcome === "migrated" && s.kind === "service-account"))
      byNamespace.set(sa.namespace, [...(byNamespace.get(sa.namespace) ?? []), sa.serviceAccount]);
    for (const [ns, accounts] of [...byNamespace].slice(0, 50)) {
      nextSteps.push(
        `Restart the workloads in namespace ${ns} that use ${accounts.slice(0, 20).join(", ")}${accounts.length > 20 ? ` and ${accounts.length - 20} more` : ""}: running pods keep their IRSA credentials until restarted.`,
      );
    }
    const addons = [
      ...new Set(serviceAccounts.filter((s) => s.outcome === "migrated" && s.addon).map((s) => s.addon)),
    ];
    for (const a of addons)
      nextSteps.push(`Add-on ${a} now uses Pod Identity; EKS restarts its pods with the update.`);
    for (const r of roles.filter((r) => r.unscoped.length > 0))
      nextSteps.push(
        `Role ${r.roleName}: ${r.unscoped.join(", ")} have session tags disabled, so their Pod Identity trust is limited by aws:SourceAccount and the association alone.`,
      );
    // the restart advice holds only with the agent running (it serves the credentials on each node)
    if (plan && plan.agent !== "built-in") {
      const status = await agentStatus(deps, plan.clusterName).catch((e) => `unknown (${errorMessage(e)})`);
      if (status === undefined)
        nextSteps.unshift(
          "The cluster has no eks-pod-identity-agent add-on: pods restarted now get no Pod Identity credentials. Install the agent before restarting.",
        );
      else if (status !== "ACTIVE")
        nextSteps.unshift(
          `The eks-pod-identity-agent add-on is ${status}: restart the workloads below only once it is ACTIVE (it serves Pod Identity credentials on each node).`,
        );
    }
    if (serviceAccounts.some((s) => s.outcome === "migrated" || s.outcome === "already-migrated"))
      nextSteps.push(
        `IRSA trust is still in place. Once the pods run on Pod Identity, run: podid migrate finalize --cluster ${ctx.request.clusterName} (it removes this cluster's IRSA trust only where CloudTrail shows no IRSA use).`,
      );
  }
  if (outcome === "dry-run") nextSteps.push("Run without --dry-run to migrate the planned service accounts.");
  if (plan?.wildcards.some((w) => w.matchedRequested.length === 0))
    nextSteps.push(
      "Roles with wildcard subs were not migrated: name their service accounts with --service-account namespace/name.",
    );
  if (outcome === "rolled-back")
    nextSteps.push("This run's own changes were undone: fix the cause above and run again.");
  if (outcome === "rollback-incomplete")
    nextSteps.push(
      "The rollback is INCOMPLETE: what is listed under 'not undone' was left as it is, either changed by someone else after this run wrote it or failing with the error shown. Reconcile it by hand.",
    );
  if (undone?.agent?.action === "kept")
    nextSteps.push(
      `The eks-pod-identity-agent add-on this run asked to install was kept: ${undone.agent.reason}.`,
    );
  if (outcome === "rejected")
    nextSteps.push(
      error?.Error === "States.Timeout"
        ? "Nobody approved or rejected the run within the approval timeout: nothing changed."
        : "The run was rejected at its approval gate: nothing changed.",
    );
  return {
    migrationId: ctx.name,
    clusterName: ctx.request.clusterName,
    outcome,
    dryRun: ctx.request.dryRun,
    serviceAccounts,
    wildcards: plan?.wildcards ?? [],
    notFound: plan?.notFound ?? [],
    roles,
    agent: plan?.agent ?? "unknown",
    ...(approval ? { approval } : {}),
    ...(error ? { error: { name: error.Error, cause: error.Cause } } : {}),
    ...(undone ? { undone } : {}),
    nextSteps,
  };
}

/**
 * The last step of every execution: builds the full report from the execution's own records,
 * stores it (of any size), releases the cluster lease, records the outcome metric, and returns a
 * small summary for the execution state.
 */
export async function report(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  outcome: MigrationOutcome,
  error: { Error?: string; Cause?: string } | undefined,
) {
  let summary: Record<string, unknown>;
  if (ctx.phase === "run") {
    const full = await runReport(deps, ctx as ExecutionContext<"run">, outcome, error);
    await deps.store.putLarge(ctx.runKey, KEYS.report, full);
    summary = {
      migrationId: full.migrationId,
      clusterName: full.clusterName,
      outcome,
      serviceAccounts: full.serviceAccounts.length,
      refused: full.serviceAccounts.filter((s) => s.outcome === "refused").length,
      ...(full.undone ? { rollbackComplete: full.undone.complete } : {}),
    };
  } else if (ctx.phase === "finalize") {
    const full = await deps.store.getLarge<FinalizeReport>(ctx.runKey, KEYS.finalize);
    const complete = outcome === "succeeded" && full?.complete === true;
    outcome = complete ? "succeeded" : outcome === "succeeded" ? "failed" : outcome;
    summary = {
      runId: ctx.name,
      clusterName: (ctx.request as { clusterName: string }).clusterName,
      outcome: complete ? "succeeded" : "incomplete",
      removed: full?.decisions.filter((d) => d.removed).length ?? 0,
      kept: full?.decisions.filter((d) => !d.removed).length ?? 0,
      ...(error ? { error: { name: error.Error, cause: error.Cause } } : {}),
    };
    await deps.store.putLarge(ctx.runKey, KEYS.report, { ...(full ?? {}), ...summary });
  } else {
    const full = await deps.store.getLarge<RollbackReport>(ctx.runKey, KEYS.rollback);
    summary = {
      runId: ctx.name,
      clusterName: (ctx.request as { clusterName: string }).clusterName,
      outcome: outcome === "succeeded" && full?.complete ? "succeeded" : outcome,
      ...(error ? { error: { name: error.Error, cause: error.Cause } } : {}),
    };
    await deps.store.putLarge(ctx.runKey, KEYS.report, { ...(full ?? {}), ...summary });
  }
  await releaseClusterLease(deps, ctx, (ctx.request as { clusterName: string }).clusterName);
  deps.recordOutcome?.(String(summary.outcome));
  return summary;
}
