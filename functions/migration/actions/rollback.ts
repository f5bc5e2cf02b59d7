import {
  DeletePodIdentityAssociationCommand,
  ResourceNotFoundException,
  UpdateAddonCommand,
} from "@aws-sdk/client-eks";
import { UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { readAssociations } from "../../aws/inventory.js";
import { errorMessage } from "../../core/errors.js";
import { policiesEqual } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan } from "../plan.js";
import { currentTrust } from "./edit-trust.js";

/** What a rollback undid, and the proof. */
export interface RollbackReport {
  restoredRoles: { roleName: string; changed: boolean; equal: boolean; error?: string }[];
  deletedAssociations: string[];
  restoredAddons: string[];
  failures: string[];
  complete: boolean;
}

async function deleteAssociation(
  deps: MigrationDeps,
  clusterName: string,
  associationId: string,
): Promise<boolean> {
  try {
    await deps.clients.eks.send(new DeletePodIdentityAssociationCommand({ clusterName, associationId }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** Associations in the cluster tagged with this migration (covers a crash between create and record). */
async function taggedAssociations(
  deps: MigrationDeps,
  clusterName: string,
  migrationId: string,
): Promise<string[]> {
  const associations = await readAssociations(deps.clients.eks, clusterName);
  return associations
    .filter((a) => !a.ownerArn && a.tags["pod-identity/migration"] === migrationId)
    .map((a) => a.associationId);
}

/**
 * Undoes a run: restores every touched role's original trust policy (proved equal with the
 * trust engine), deletes the associations this run created, restores add-on associations.
 * Idempotent: a second rollback finds nothing left to undo.
 */
export async function rollback(
  deps: MigrationDeps,
  payload: { migrationId: string },
): Promise<RollbackReport> {
  const report: RollbackReport = {
    restoredRoles: [],
    deletedAssociations: [],
    restoredAddons: [],
    failures: [],
    complete: true,
  };
  const plan = await deps.store.get<MigrationPlan>(payload.migrationId, KEYS.plan);
  for (const { sk, data } of await deps.store.list<{ original: string }>(payload.migrationId, "role#")) {
    const roleName = sk.slice("role#".length);
    try {
      const current = await currentTrust(deps, roleName);
      const changed = !policiesEqual(current, data.original);
      if (changed)
        await deps.clients.iam.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: data.original }),
        );
      const equal = policiesEqual(await currentTrust(deps, roleName), data.original);
      report.restoredRoles.push({ roleName, changed, equal });
      if (!equal)
        report.failures.push(`trust policy of ${roleName} is not equal to the original after restore`);
    } catch (error) {
      report.restoredRoles.push({ roleName, changed: false, equal: false, error: errorMessage(error) });
      report.failures.push(`restoring ${roleName}: ${errorMessage(error)}`);
    }
  }
  if (plan) {
    for (const { sk, data } of await deps.store.list<{
      podIdentityAssociations: { serviceAccount: string; roleArn: string }[];
    }>(payload.migrationId, "addon#")) {
      const addonName = sk.slice("addon#".length);
      try {
        await deps.clients.eks.send(
          new UpdateAddonCommand({
            clusterName: plan.clusterName,
            addonName,
            podIdentityAssociations: data.podIdentityAssociations,
            resolveConflicts: "PRESERVE",
          }),
        );
        report.restoredAddons.push(addonName);
      } catch (error) {
        report.failures.push(`restoring add-on ${addonName}: ${errorMessage(error)}`);
      }
    }
    try {
      const recorded = (
        await deps.store.list<{ associationId?: string }>(payload.migrationId, "assoc#")
      ).flatMap((r) => (r.data.associationId ? [r.data.associationId] : []));
      const tagged = await taggedAssociations(deps, plan.clusterName, payload.migrationId);
      for (const id of new Set([...recorded, ...tagged])) {
        if (await deleteAssociation(deps, plan.clusterName, id)) report.deletedAssociations.push(id);
      }
    } catch (error) {
      report.failures.push(`deleting associations: ${errorMessage(error)}`);
    }
  }
  report.complete = report.failures.length === 0;
  deps.logger.info("migration rolled back", { migrationId: payload.migrationId, ...report });
  return report;
}
