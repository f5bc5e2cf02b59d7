import type { MigrationDeps } from "../deps.js";
import { KEYS } from "../plan.js";

/**
 * Stage 4: records the task token of the approval gate (`.waitForTaskToken`) so
 * `podid migrate approve|reject` can find it; the execution waits until one of them answers.
 */
export async function requestApproval(
  deps: MigrationDeps,
  payload: { migrationId: string; taskToken: string; clusterName: string },
) {
  await deps.store.put(payload.migrationId, KEYS.approval, {
    taskToken: payload.taskToken,
    requestedAt: new Date().toISOString(),
  });
  await deps.store.put(`pending#${payload.clusterName}`, "approval", {
    migrationId: payload.migrationId,
    taskToken: payload.taskToken,
  });
  deps.logger.info("approval requested", {
    clusterName: payload.clusterName,
    migrationId: payload.migrationId,
  });
  return { waiting: true };
}
