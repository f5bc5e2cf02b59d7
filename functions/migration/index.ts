import { z } from "zod";
import { migrationInputSchema } from "../core/migration/input.js";
import { addPodTrust } from "./actions/add-pod-trust.js";
import { associate } from "./actions/associate.js";
import { discover } from "./actions/discover.js";
import { preflight } from "./actions/preflight.js";
import { removeIrsaTrust } from "./actions/remove-irsa-trust.js";
import { report } from "./actions/report.js";
import { requestApproval } from "./actions/request-approval.js";
import { rollback } from "./actions/rollback.js";
import { validate } from "./actions/validate.js";
import { verify } from "./actions/verify.js";
import { createMigrationDeps, type MigrationDeps } from "./deps.js";

const migrationId = z.string().min(1).max(256);
const request = migrationInputSchema;
const withRequest = { migrationId, request };

/** Every task of the migration state machine, discriminated by `action`. */
export const migrationTaskSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("validate"), migrationId, input: z.unknown() }),
  z.object({ action: z.literal("discover"), ...withRequest }),
  z.object({ action: z.literal("preflight"), ...withRequest }),
  z.object({
    action: z.literal("request-approval"),
    migrationId,
    taskToken: z.string().min(1),
    clusterName: z.string(),
  }),
  z.object({ action: z.literal("add-pod-trust"), ...withRequest }),
  z.object({ action: z.literal("associate"), ...withRequest }),
  z.object({ action: z.literal("verify"), migrationId }),
  z.object({ action: z.literal("remove-irsa-trust"), ...withRequest }),
  z.object({ action: z.literal("rollback"), migrationId }),
  z.object({
    action: z.literal("report"),
    ...withRequest,
    outcome: z.enum(["succeeded", "dry-run", "nothing-to-do", "rejected", "rolled-back", "failed"]),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullish(),
    rollback: z.any().nullish(),
  }),
]);
export type MigrationTask = z.infer<typeof migrationTaskSchema>;

/** Runs one task; exported for the local runner and tests, which pass their own dependencies. */
export async function runMigrationTask(deps: MigrationDeps, task: MigrationTask): Promise<unknown> {
  switch (task.action) {
    case "validate":
      return validate(task);
    case "discover":
      return await discover(deps, task);
    case "preflight":
      return await preflight(deps, task);
    case "request-approval":
      return await requestApproval(deps, task);
    case "add-pod-trust":
      return await addPodTrust(deps, task);
    case "associate":
      return await associate(deps, task);
    case "verify":
      return await verify(deps, task);
    case "remove-irsa-trust":
      return await removeIrsaTrust(deps, task);
    case "rollback":
      return await rollback(deps, task);
    case "report":
      return await report(deps, {
        ...task,
        // the state machine starts both as {} (Step Functions has no "absent" for a path)
        error: task.error && Object.keys(task.error).length > 0 ? task.error : undefined,
        rollback: task.rollback && Object.keys(task.rollback).length > 0 ? task.rollback : undefined,
      });
    default: {
      const never: never = task;
      return never;
    }
  }
}

let deps: MigrationDeps | undefined;

/** The migration state machine's task function. */
export const handler = async (event: unknown) => {
  deps ??= createMigrationDeps();
  const parsed = migrationTaskSchema.safeParse(event);
  if (!parsed.success) {
    // a task payload the state machine would never send: fail the task, loudly
    const reason = z.prettifyError(parsed.error);
    deps.logger.error("invalid migration task", { reason });
    const error = new Error(reason);
    error.name = "InvalidMigrationTask";
    throw error;
  }
  return await runMigrationTask(deps, parsed.data);
};
