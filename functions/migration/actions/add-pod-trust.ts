import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import { ensureAgent } from "../../aws/apply.js";
import { decodeTrust } from "../../aws/inventory.js";
import { AutopilotError } from "../../core/errors.js";
import type { MigrationRequest } from "../../core/migration/input.js";
import { addPodIdentityTrust } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan } from "../plan.js";
import { loadPlan } from "./load-plan.js";

/** Reads a role's current trust policy (decoded). */
export async function currentTrust(deps: MigrationDeps, roleName: string): Promise<string> {
  const { Role } = await deps.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
  return decodeTrust(Role?.AssumeRolePolicyDocument ?? "");
}

/**
 * Stage 5: one writer per role (all its service accounts in one edit), the original document
 * snapshotted before the first change; installs the agent add-on where it is missing.
 */
export async function addPodTrust(
  deps: MigrationDeps,
  payload: { migrationId: string; request: MigrationRequest },
) {
  const plan: MigrationPlan = await loadPlan(deps, payload.migrationId);
  let agentInstalled = false;
  if (plan.agent === "install") {
    agentInstalled = await ensureAgent(deps.clients.eks, plan.clusterName);
    await deps.store.put(payload.migrationId, KEYS.agent, { installed: agentInstalled });
  }
  const limit = pLimit(payload.request.maxConcurrency);
  const results = await Promise.all(
    plan.roleEdits.map((edit) =>
      limit(async () => {
        const trust = await currentTrust(deps, edit.roleName);
        // the first snapshot wins: a retried step never overwrites the original
        await deps.store.put(
          payload.migrationId,
          KEYS.role(edit.roleName),
          { original: trust },
          { onlyIfAbsent: true },
        );
        const added = addPodIdentityTrust(trust, { sourceAccount: plan.accountId });
        if (!added.ok)
          throw new AutopilotError(`cannot edit the trust policy of ${edit.roleName}: ${added.reason}`);
        if (!added.changed) return false;
        await deps.clients.iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: edit.roleName,
            PolicyDocument: JSON.stringify(added.document),
          }),
        );
        deps.logger.info("pod identity trust added", { roleName: edit.roleName, sizeAfter: added.sizeAfter });
        return true;
      }),
    ),
  );
  return {
    rolesEdited: results.filter(Boolean).length,
    rolesUnchanged: results.filter((r) => !r).length,
    agentInstalled,
  };
}
