import {
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  ResourceNotFoundException,
  UpdateAddonCommand,
} from "@aws-sdk/client-eks";
import { AutopilotError, errorMessage, ValidationError } from "../../core/errors.js";
import type { ReadyItem } from "../../core/migration/preflight.js";
import { undoPodTrust } from "../../core/migration/scope.js";
import { type ExecutionContext, executionArnOf, runKeyOf } from "../authority.js";
import { type ChunkBudget, workInChunks } from "../chunks.js";
import type { MigrationDeps } from "../deps.js";
import { acquireClusterLease, withRoleLease } from "../leases.js";
import { type AddonRecord, KEYS, type MigrationPlan, type TrustEditRecord } from "../plan.js";
import { type AgentRollback, undoAgent } from "./agent.js";
import { currentTrust, writeTrust } from "./edit-trust.js";

/** A rollback that could not undo everything: the run ends `rollback-incomplete`, with an alarm. */
export class RollbackIncompleteError extends AutopilotError {
  override name = "RollbackIncomplete";
}

/** What a rollback undid, and what it could not. */
export interface RollbackReport {
  runId: string;
  undoneRoles: string[];
  deletedAssociations: string[];
  restoredAddons: string[];
  /** the Pod Identity agent add-on this run installed: removed, or kept and why */
  agent?: AgentRollback;
  /** each thing left as it is, with the exact difference */
  incomplete: { what: string; difference: string[] }[];
  complete: boolean;
}

async function undoRole(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  runKey: string,
  record: TrustEditRecord,
  report: RollbackReport,
) {
  if (record.statements.length === 0) return;
  if (record.undone) {
    // a redelivered chunk: this rollback undid it already (another rollback's undo is not ours)
    if (record.undoneBy === ctx.runKey) report.undoneRoles.push(record.roleName);
    return;
  }
  await withRoleLease(deps, ctx, record.roleArn, async () => {
    const undo = undoPodTrust(await currentTrust(deps, record.roleName), record.statements, record.written);
    if (!undo.ok) {
      report.incomplete.push({ what: `trust policy of ${record.roleName}`, difference: undo.difference });
      return;
    }
    if (undo.changed) await writeTrust(deps, record.roleName, undo.document);
    await deps.store.put(runKey, KEYS.edit(record.roleName), {
      ...record,
      undone: true,
      undoneBy: ctx.runKey,
    });
    report.undoneRoles.push(record.roleName);
  });
}

async function undoAddon(
  deps: MigrationDeps,
  clusterName: string,
  addonName: string,
  record: AddonRecord,
  report: RollbackReport,
) {
  const { addon } = await deps.clients.eks.send(new DescribeAddonCommand({ clusterName, addonName }));
  const current: { serviceAccount: string; roleArn: string }[] = [];
  for (const arn of addon?.podIdentityAssociations ?? []) {
    const { association } = await deps.clients.eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName, associationId: arn.split("/").pop() ?? "" }),
    );
    if (association?.serviceAccount && association.roleArn)
      current.push({ serviceAccount: association.serviceAccount, roleArn: association.roleArn });
  }
  const difference = record.added
    .filter((a) => !current.some((c) => c.serviceAccount === a.serviceAccount && c.roleArn === a.roleArn))
    .map(
      (a) =>
        `add-on ${addonName}: ${a.serviceAccount} no longer uses ${a.roleArn} (now ${current.find((c) => c.serviceAccount === a.serviceAccount)?.roleArn ?? "nothing"})`,
    );
  if (difference.length > 0) {
    report.incomplete.push({ what: `add-on ${addonName}`, difference });
    return;
  }
  const ours = new Set(record.added.map((a) => a.serviceAccount));
  const next = [
    ...current.filter((c) => !ours.has(c.serviceAccount)),
    ...record.before.filter((b) => ours.has(b.serviceAccount)),
  ];
  if (record.added.length > 0) {
    await deps.clients.eks.send(
      new UpdateAddonCommand({
        clusterName,
        addonName,
        podIdentityAssociations: next,
        resolveConflicts: "PRESERVE",
      }),
    );
    report.restoredAddons.push(addonName);
  }
}

/**
 * Deletes the association this run created for one plan slot: only tagged with this run and
 * still on its role. The intent is recorded (under `record`) before the delete, so a chunk
 * redelivered after the delete still reports it.
 */
async function undoAssociation(
  deps: MigrationDeps,
  plan: MigrationPlan,
  runName: string,
  item: ReadyItem,
  report: RollbackReport,
  record: (report: RollbackReport) => Promise<void>,
) {
  const page = await deps.clients.eks.send(
    new ListPodIdentityAssociationsCommand({
      clusterName: plan.clusterName,
      namespace: item.namespace,
      serviceAccount: item.serviceAccount,
    }),
  );
  for (const summary of page.associations ?? []) {
    if (!summary.associationId || summary.ownerArn) continue;
    const { association } = await deps.clients.eks.send(
      new DescribePodIdentityAssociationCommand({
        clusterName: plan.clusterName,
        associationId: summary.associationId,
      }),
    );
    if (association?.tags?.["pod-identity/migration"] !== runName) continue;
    if (association.roleArn !== item.roleArn) {
      report.incomplete.push({
        what: `association ${item.namespace}/${item.serviceAccount}`,
        difference: [
          `this run created it for ${item.roleArn}; it now uses ${association.roleArn}: left as it is`,
        ],
      });
      continue;
    }
    await record({ ...report, deletedAssociations: [`${item.namespace}/${item.serviceAccount}`] });
    try {
      await deps.clients.eks.send(
        new DeletePodIdentityAssociationCommand({
          clusterName: plan.clusterName,
          associationId: summary.associationId,
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    report.deletedAssociations.push(`${item.namespace}/${item.serviceAccount}`);
  }
}

const emptyReport = (runId: string): RollbackReport => ({
  runId,
  undoneRoles: [],
  deletedAssociations: [],
  restoredAddons: [],
  incomplete: [],
  complete: false,
});

/** What was undone for one thing, kept under the rollback's own key (a chunk's result). */
type UndoRecord = Omit<RollbackReport, "runId" | "complete">;

function hasContent(r: UndoRecord): boolean {
  return (
    r.undoneRoles.length + r.deletedAssociations.length + r.restoredAddons.length + r.incomplete.length > 0
  );
}

/**
 * Undoes one thing into a fresh partial report and records it under `key` of the rollback's own
 * run key; an error is recorded as incomplete with its message. A redelivered chunk that finds
 * nothing left to do keeps the record an earlier attempt wrote.
 */
async function undoOne(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  key: string,
  what: string,
  runId: string,
  undo: (report: RollbackReport, record: (r: RollbackReport) => Promise<void>) => Promise<void>,
): Promise<{ outcome: string }> {
  const part = emptyReport(runId);
  const record = async (r: UndoRecord) => {
    await deps.store.put(ctx.runKey, key, {
      undoneRoles: r.undoneRoles,
      deletedAssociations: r.deletedAssociations,
      restoredAddons: r.restoredAddons,
      incomplete: r.incomplete,
    } satisfies UndoRecord);
  };
  try {
    await undo(part, record);
  } catch (error) {
    part.incomplete.push({ what, difference: [errorMessage(error)] });
  }
  if (hasContent(part)) await record(part);
  return { outcome: part.incomplete.length > 0 ? "incomplete" : hasContent(part) ? "undone" : "unchanged" };
}

/**
 * Compensating rollback of a run: removes exactly the trust statements it added (never a
 * snapshot), gives add-on service accounts back their previous role, deletes the associations it
 * created. Anything that no longer is what the run wrote is left as it is and reported with the
 * difference; then the rollback throws RollbackIncomplete (a failed rollback never reports success).
 */
async function compensate(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  target: { runKey: string; name: string },
  budget: ChunkBudget,
): Promise<{ done: false; processed: number; total: number } | { done: true; report: RollbackReport }> {
  const plan = await deps.store.getLarge<MigrationPlan>(target.runKey, KEYS.plan);
  const edits = await deps.store.list<TrustEditRecord>(target.runKey, "edit#");
  const batchSize = "maxConcurrency" in ctx.request ? ctx.request.maxConcurrency : 4;
  const roles = await workInChunks(
    deps,
    ctx.runKey,
    KEYS.progress("rollback-roles"),
    edits.map((e) => e.data),
    { budget, batchSize },
    (data) =>
      undoOne(
        deps,
        ctx,
        KEYS.undo("role", data.roleName),
        `trust policy of ${data.roleName}`,
        target.name,
        (part) => undoRole(deps, ctx, target.runKey, data, part),
      ),
  );
  const items = plan ? plan.ready.filter((i) => i.kind === "service-account" && !i.associated) : [];
  const pending = { done: false as const, processed: roles.processed, total: roles.total + items.length };
  if (!roles.done || budget.spent()) return pending;
  if (plan) {
    for (const { sk, data } of await deps.store.list<AddonRecord>(target.runKey, "addon#")) {
      const addonName = sk.slice("addon#".length);
      // an add-on restored by an earlier chunk is not restored again (it would read as changed)
      if (await deps.store.get(ctx.runKey, KEYS.undo("addon", addonName))) continue;
      await undoOne(deps, ctx, KEYS.undo("addon", addonName), `add-on ${addonName}`, target.name, (part) =>
        undoAddon(deps, plan.clusterName, addonName, data, part),
      );
    }
  }
  const associations = await workInChunks(
    deps,
    ctx.runKey,
    KEYS.progress("rollback-associations"),
    items,
    { budget, batchSize },
    (item) =>
      undoOne(
        deps,
        ctx,
        KEYS.undo("assoc", `${item.namespace}/${item.serviceAccount}`),
        `association ${item.namespace}/${item.serviceAccount}`,
        target.name,
        (part, record) => undoAssociation(deps, plan!, target.name, item, part, record),
      ),
  );
  if (!associations.done)
    return { done: false, processed: roles.total + associations.processed, total: pending.total };
  // the report, from this rollback's own records: roles, then add-ons, then associations
  const report = emptyReport(target.name);
  for (const prefix of ["undo#role#", "undo#addon#", "undo#assoc#"]) {
    for (const { data } of await deps.store.list<UndoRecord>(ctx.runKey, prefix)) {
      report.undoneRoles.push(...data.undoneRoles);
      report.restoredAddons.push(...data.restoredAddons);
      report.deletedAssociations.push(...data.deletedAssociations);
      report.incomplete.push(...data.incomplete);
    }
  }
  // the agent add-on last (only once no association remains); its outcome is recorded, so a
  // redelivered chunk reports what the first attempt did
  if (plan) {
    const agentKey = KEYS.undo("agent", "eks-pod-identity-agent");
    let agent = await deps.store.get<AgentRollback>(ctx.runKey, agentKey);
    try {
      agent ??= await undoAgent(deps, target, plan.clusterName);
      if (agent) await deps.store.put(ctx.runKey, agentKey, agent);
    } catch (error) {
      report.incomplete.push({ what: "add-on eks-pod-identity-agent", difference: [errorMessage(error)] });
    }
    if (agent) report.agent = agent;
  }
  report.complete = report.incomplete.length === 0;
  await deps.store.putLarge(ctx.runKey, KEYS.rollback, report);
  deps.logger.info("migration rollback", {
    runId: target.name,
    complete: report.complete,
    incomplete: report.incomplete.length,
  });
  if (!report.complete) {
    deps.recordOutcome?.("rollback-incomplete");
    throw new RollbackIncompleteError(
      `rollback of ${target.name} is incomplete: ${report.incomplete
        .slice(0, 5)
        .map((i) => `${i.what}: ${i.difference.join("; ")}`)
        .join(" | ")}`,
    );
  }
  return { done: true, report };
}

/** What a rollback chunk returns to the state machine (small). */
function chunkResult(result: Awaited<ReturnType<typeof compensate>>) {
  if (!result.done) return result;
  return {
    done: true,
    complete: result.report.complete,
    undoneRoles: result.report.undoneRoles.length,
    deletedAssociations: result.report.deletedAssociations.length,
    ...(result.report.agent ? { agent: result.report.agent.action } : {}),
  };
}

/** The Rollback step of a run: undoes that same execution's edits. */
export async function rollbackOwnRun(deps: MigrationDeps, ctx: ExecutionContext<"run">, budget: ChunkBudget) {
  return chunkResult(await compensate(deps, ctx, { runKey: ctx.runKey, name: ctx.name }, budget));
}

/**
 * A rollback execution (`podid migrate rollback --cluster C --run ID`): the target must be a
 * finished execution of the run state machine for that cluster; what to undo comes from that
 * execution's own records and the live documents.
 */
export async function rollbackFinishedRun(
  deps: MigrationDeps,
  ctx: ExecutionContext<"rollback">,
  budget: ChunkBudget,
) {
  const arn = executionArnOf(deps.stateMachines.run, ctx.request.runId);
  const run = await deps.executions.describe(arn);
  if (!run || run.stateMachineArn !== deps.stateMachines.run)
    throw new ValidationError(`no migration run ${ctx.request.runId}`);
  if (run.status === "RUNNING")
    throw new ValidationError(
      `run ${ctx.request.runId} is still running: it rolls itself back if a step fails`,
    );
  if ((run.input as { clusterName?: unknown } | undefined)?.clusterName !== ctx.request.clusterName)
    throw new ValidationError(
      `run ${ctx.request.runId} is not a migration of cluster ${ctx.request.clusterName}`,
    );
  await acquireClusterLease(deps, ctx, ctx.request.clusterName);
  return chunkResult(await compensate(deps, ctx, { runKey: runKeyOf(run), name: run.name }, budget));
}
