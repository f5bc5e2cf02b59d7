import { AutopilotError } from "../../core/errors.js";
import type { ReadyItem } from "../../core/migration/preflight.js";
import type { ExecutionContext } from "../authority.js";
import { type ChunkBudget, workInChunks } from "../chunks.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS } from "../plan.js";
import { associationOf } from "./associate.js";
import { loadPlan } from "./load-plan.js";

/** Raised when an association is missing or points elsewhere after the soak. */
export class VerificationError extends AutopilotError {
  override name = "VerificationError";
}

async function verifyItem(deps: MigrationDeps, clusterName: string, item: ReadyItem) {
  const association = await associationOf(deps, clusterName, item);
  const where = `${item.namespace}/${item.serviceAccount}`;
  if (!association) return { outcome: "problem", note: `${where}: no association` };
  if (association.roleArn !== item.roleArn)
    return { outcome: "problem", note: `${where}: points at ${association.roleArn}, not ${item.roleArn}` };
  if (item.kind === "addon" && !association.ownerArn)
    return { outcome: "problem", note: `${where}: not owned by add-on ${item.addonName}` };
  return { outcome: "verified" };
}

/**
 * Stage 8, in resumable chunks: every association exists and points at its role (add-on ones
 * owned by the add-on). Reads only; its position is recorded under the run's own key. Once every
 * item was looked at, throws VerificationError when any was wrong.
 */
export async function verify(deps: MigrationDeps, ctx: ExecutionContext<"run">, budget: ChunkBudget) {
  const plan = await loadPlan(deps, ctx.runKey);
  const chunk = await workInChunks(
    deps,
    ctx.runKey,
    KEYS.progress("verify"),
    plan.ready,
    { budget, batchSize: ctx.request.maxConcurrency },
    (item) => verifyItem(deps, plan.clusterName, item),
  );
  if (chunk.done && (chunk.counts.problem ?? 0) > 0)
    throw new VerificationError(`verification failed: ${chunk.notes.join("; ")}`);
  return {
    done: chunk.done,
    processed: chunk.processed,
    total: chunk.total,
    verified: chunk.counts.verified ?? 0,
  };
}
