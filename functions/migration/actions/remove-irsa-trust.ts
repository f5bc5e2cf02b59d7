import type { MigrationRequest } from "../../core/migration/input.js";
import { removeIrsaTrust as removeTrust } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS } from "../plan.js";
import { editTrustPolicies } from "./edit-trust.js";
import { loadPlan } from "./load-plan.js";

/** Stage 9 (only when asked): removes this cluster's sub values of the migrated service accounts. */
export async function removeIrsaTrust(
  deps: MigrationDeps,
  payload: { migrationId: string; request: MigrationRequest },
) {
  const plan = await loadPlan(deps, payload.migrationId);
  const edited = await editTrustPolicies(
    deps,
    payload.migrationId,
    plan.roleEdits,
    payload.request.maxConcurrency,
    "remove IRSA trust from",
    (trust, roleEdit) => removeTrust(trust, plan.providerArn, roleEdit.subjects),
  );
  for (const { roleEdit, result } of edited.filter((e) => e.result.changed)) {
    await deps.store.put(payload.migrationId, KEYS.irsaRemoved(roleEdit.roleName), {
      subjects: result.removedSubjects,
      sizeAfter: result.sizeAfter,
    });
  }
  return { rolesEdited: edited.filter((e) => e.result.removedSubjects.length > 0).length };
}
