import {
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  ResourceNotFoundException,
  UpdateAddonCommand,
} from "@aws-sdk/client-eks";
import { AutopilotError, errorMessage, ValidationError } from "../../core/errors.js";
import { undoPodTrust } from "../../core/migration/scope.js";
import { type ExecutionContext, executionArnOf, runKeyOf } from "../authority.js";
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
  if (record.undone || record.statements.length === 0) return;
  await withRoleLease(deps, ctx, record.roleArn, async () => {
    const undo = undoPodTrust(await currentTrust(deps, record.roleName), record.statements, record.written);
    if (!undo.ok) {
      report.incomplete.push({ what: `trust policy of ${record.roleName}`, difference: undo.difference });
      return;
    }
    if (undo.changed) await writeTrust(deps, record.roleName, undo.document);
    await deps.store.put(runKey, KEYS.edit(record.roleName), { ...record, undone: true });
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
  }
  report.restoredAddons.push(addonName);
}

/** Deletes the associations this run created: only the plan's slots, only tagged with this run and its role. */
async function undoAssociations(
  deps: MigrationDeps,
  plan: MigrationPlan,
  runName: string,
  report: RollbackReport,
) {
  for (const item of plan.ready.filter((i) => i.kind === "service-account" && !i.associated)) {
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
      try {
        await deps.clients.eks.send(
          new DeletePodIdentityAssociationCommand({
            clusterName: plan.clusterName,
            associationId: summary.associationId,
          }),
        );
        report.deletedAssociations.push(`${item.namespace}/${item.serviceAccount}`);
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
  }
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
): Promise<RollbackReport> {
  const report: RollbackReport = {
    runId: target.name,
    undoneRoles: [],
    deletedAssociations: [],
    restoredAddons: [],
    incomplete: [],
    complete: false,
  };
  const plan = await deps.store.getLarge<MigrationPlan>(target.runKey, KEYS.plan);
  for (const { data } of await deps.store.list<TrustEditRecord>(target.runKey, "edit#")) {
    try {
      await undoRole(deps, ctx, target.runKey, data, report);
    } catch (error) {
      report.incomplete.push({ what: `trust policy of ${data.roleName}`, difference: [errorMessage(error)] });
    }
  }
  if (plan) {
    for (const { sk, data } of await deps.store.list<AddonRecord>(target.runKey, "addon#")) {
      const addonName = sk.slice("addon#".length);
      try {
        await undoAddon(deps, plan.clusterName, addonName, data, report);
      } catch (error) {
        report.incomplete.push({ what: `add-on ${addonName}`, difference: [errorMessage(error)] });
      }
    }
    try {
      await undoAssociations(deps, plan, target.name, report);
    } catch (error) {
      report.incomplete.push({ what: "associations", difference: [errorMessage(error)] });
    }
    try {
      const agent = await undoAgent(deps, target, plan.clusterName);
      if (agent) report.agent = agent;
    } catch (error) {
      report.incomplete.push({ what: "add-on eks-pod-identity-agent", difference: [errorMessage(error)] });
    }
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
  return report;
}

/** The Rollback step of a run: undoes that same execution's edits. */
export async function rollbackOwnRun(deps: MigrationDeps, ctx: ExecutionContext<"run">) {
  const report = await compensate(deps, ctx, { runKey: ctx.runKey, name: ctx.name });
  return {
    complete: report.complete,
    undoneRoles: report.undoneRoles.length,
    deletedAssociations: report.deletedAssociations.length,
    ...(report.agent ? { agent: report.agent.action } : {}),
  };
}

/**
 * A rollback execution (`podid migrate rollback --cluster C --run ID`): the target must be a
 * finished execution of the run state machine for that cluster; what to undo comes from that
 * execution's own records and the live documents.
 */
export async function rollbackFinishedRun(deps: MigrationDeps, ctx: ExecutionContext<"rollback">) {
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
  const report = await compensate(deps, ctx, { runKey: runKeyOf(run), name: run.name });
  return {
    complete: report.complete,
    undoneRoles: report.undoneRoles.length,
    deletedAssociations: report.deletedAssociations.length,
    ...(report.agent ? { agent: report.agent.action } : {}),
  };
}
