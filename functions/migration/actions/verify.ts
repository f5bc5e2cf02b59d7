import { AutopilotError } from "../../core/errors.js";
import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { associationOf } from "./associate.js";
import { loadPlan } from "./load-plan.js";

/** Raised when an association is missing or points elsewhere after the soak. */
export class VerificationError extends AutopilotError {
  override name = "VerificationError";
}

/** Stage 8: every association exists and points at its role (add-on ones owned by the add-on). */
export async function verify(deps: MigrationDeps, ctx: ExecutionContext<"run">) {
  const plan = await loadPlan(deps, ctx.runKey);
  const problems: string[] = [];
  for (const item of plan.ready) {
    const association = await associationOf(deps, plan.clusterName, item);
    const where = `${item.namespace}/${item.serviceAccount}`;
    if (!association) problems.push(`${where}: no association`);
    else if (association.roleArn !== item.roleArn)
      problems.push(`${where}: points at ${association.roleArn}, not ${item.roleArn}`);
    else if (item.kind === "addon" && !association.ownerArn)
      problems.push(`${where}: not owned by add-on ${item.addonName}`);
  }
  if (problems.length > 0)
    throw new VerificationError(`verification failed: ${problems.slice(0, 20).join("; ")}`);
  return { verified: plan.ready.length };
}
