import { UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import { AutopilotError } from "../../core/errors.js";
import type { MigrationRequest } from "../../core/migration/input.js";
import { removeIrsaTrust as removeTrust } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS } from "../plan.js";
import { currentTrust } from "./add-pod-trust.js";
import { loadPlan } from "./load-plan.js";

/** Stage 9 (only when asked): removes this cluster's sub values of the migrated service accounts. */
export async function removeIrsaTrust(
  deps: MigrationDeps,
  payload: { migrationId: string; request: MigrationRequest },
) {
  const plan = await loadPlan(deps, payload.migrationId);
  const limit = pLimit(payload.request.maxConcurrency);
  const results = await Promise.all(
    plan.roleEdits.map((edit) =>
      limit(async () => {
        const trust = await currentTrust(deps, edit.roleName);
        await deps.store.put(
          payload.migrationId,
          KEYS.role(edit.roleName),
          { original: trust },
          { onlyIfAbsent: true },
        );
        const removed = removeTrust(trust, plan.providerArn, edit.subjects);
        if (!removed.ok)
          throw new AutopilotError(`cannot remove IRSA trust from ${edit.roleName}: ${removed.reason}`);
        if (!removed.changed) return { roleName: edit.roleName, removed: [] as string[] };
        await deps.clients.iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: edit.roleName,
            PolicyDocument: JSON.stringify(removed.document),
          }),
        );
        await deps.store.put(payload.migrationId, KEYS.irsaRemoved(edit.roleName), {
          subjects: removed.removedSubjects,
          sizeAfter: removed.sizeAfter,
        });
        return { roleName: edit.roleName, removed: removed.removedSubjects };
      }),
    ),
  );
  return { rolesEdited: results.filter((r) => r.removed.length > 0).length };
}
