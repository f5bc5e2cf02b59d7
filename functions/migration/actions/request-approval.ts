import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, planHash } from "../plan.js";
import { loadPlan } from "./load-plan.js";

/**
 * Stage 3: records the task token of the approval gate (`.waitForTaskToken`) with the digest of
 * the plan it asks approval for, so `podid migrate approve --run ID` can show that plan and
 * refuse anything else. The token is never logged.
 */
export async function requestApproval(deps: MigrationDeps, ctx: ExecutionContext<"run">, taskToken: string) {
  const plan = await loadPlan(deps, ctx.runKey);
  const hash = planHash(plan);
  await deps.store.put(ctx.runKey, KEYS.approval, {
    taskToken,
    planHash: hash,
    executionArn: ctx.executionArn,
    requestedAt: deps.now().toISOString(),
  });
  deps.logger.info("approval requested", {
    clusterName: plan.clusterName,
    migrationId: ctx.name,
    planHash: hash,
  });
  return { waiting: true };
}
