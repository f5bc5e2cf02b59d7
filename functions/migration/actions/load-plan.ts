import { ValidationError } from "../../core/errors.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan } from "../plan.js";

/** The plan preflight stored under a run key. */
export async function loadPlan(deps: MigrationDeps, runKey: string): Promise<MigrationPlan> {
  const plan = await deps.store.getLarge<MigrationPlan>(runKey, KEYS.plan);
  if (!plan) throw new ValidationError(`no plan stored for run ${runKey}`);
  return plan;
}
