import { ensureAgent } from "../../aws/apply.js";
import type { MigrationRequest } from "../../core/migration/input.js";
import { addPodIdentityTrust } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan } from "../plan.js";
import { editTrustPolicies } from "./edit-trust.js";
import { loadPlan } from "./load-plan.js";

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
  const edited = await editTrustPolicies(
    deps,
    payload.migrationId,
    plan.roleEdits,
    payload.request.maxConcurrency,
    "edit the trust policy of",
    (trust) => addPodIdentityTrust(trust, { sourceAccount: plan.accountId }),
  );
  for (const { roleEdit, result } of edited.filter((e) => e.result.changed)) {
    deps.logger.info("pod identity trust added", {
      roleName: roleEdit.roleName,
      sizeAfter: result.sizeAfter,
    });
  }
  const results = edited.map((e) => e.result.changed);
  return {
    rolesEdited: results.filter(Boolean).length,
    rolesUnchanged: results.filter((r) => !r).length,
    agentInstalled,
  };
}
