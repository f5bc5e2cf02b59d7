import { ValidationError } from "../../core/errors.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan } from "../plan.js";

/** The plan preflight stored for a run. */
export async function loadPlan(deps: MigrationDeps, migrationId: string): Promise<MigrationPlan> {
  const plan = await deps.store.get<MigrationPlan>(migrationId, KEYS.plan);
  if (!plan) throw new ValidationError(`no plan stored for migration ${migrationId}`);
  return plan;
}
