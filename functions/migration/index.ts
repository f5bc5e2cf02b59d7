import type { Context } from "aws-lambda";
import { z } from "zod";
import { addPodTrust } from "./actions/add-pod-trust.js";
import { associate } from "./actions/associate.js";
import { discover } from "./actions/discover.js";
import { finalize } from "./actions/finalize.js";
import { preflight } from "./actions/preflight.js";
import { type MigrationOutcome, report } from "./actions/report.js";
import { requestApproval } from "./actions/request-approval.js";
import { rollbackFinishedRun, rollbackOwnRun } from "./actions/rollback.js";
import { verify } from "./actions/verify.js";
import { authorize, type Phase } from "./authority.js";
import { ChunkBudget, type RemainingTime } from "./chunks.js";
import { createMigrationDeps, type MigrationDeps } from "./deps.js";

/** `$$.Execution.Id`: who the task acts for (checked with states:DescribeExecution). */
const executionArn = z.string().min(1).max(2048);
const phase = z.enum(["run", "finalize", "rollback"]);
const outcomes = [
  "succeeded",
  "dry-run",
  "nothing-to-do",
  "rejected",
  "rolled-back",
  "rollback-incomplete",
  "failed",
] as const;
const step = <A extends string>(action: A) =>
  z.object({ action: z.literal(action), phase, executionArn }).strict();

/**
 * Every task of the three migration state machines, discriminated by `action`. A task names only
 * its execution; everything else (request, plan, records) is re-read for that execution.
 */
export const migrationTaskSchema = z.discriminatedUnion("action", [
  step("validate"),
  step("discover"),
  step("preflight"),
  step("request-approval").extend({ taskToken: z.string().min(1).max(4096) }),
  step("add-pod-trust"),
  step("associate"),
  step("verify"),
  step("rollback"),
  step("finalize"),
  step("report").extend({
    outcome: z.enum(outcomes),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullish(),
  }),
]);
export type MigrationTask = z.infer<typeof migrationTaskSchema>;

/** Which actions each state machine's executions may ask for. */
const ALLOWED: Record<Phase, MigrationTask["action"][]> = {
  run: [
    "validate",
    "discover",
    "preflight",
    "request-approval",
    "add-pod-trust",
    "associate",
    "verify",
    "rollback",
    "report",
  ],
  finalize: ["validate", "finalize", "report"],
  rollback: ["validate", "rollback", "report"],
};

/** Runs one task; exported for the local runner and tests, which pass their own dependencies. */
export async function runMigrationTask(
  deps: MigrationDeps,
  task: MigrationTask,
  remaining?: RemainingTime,
): Promise<unknown> {
  if (!ALLOWED[task.phase].includes(task.action)) {
    const error = new Error(`a ${task.phase} execution has no ${task.action} step`);
    error.name = "InvalidMigrationTask";
    throw error;
  }
  const ctx = await authorize(deps, task.executionArn, task.phase);
  // chunked steps stop taking new work once the invocation's time is nearly used
  const budget = remaining
    ? new ChunkBudget(remaining, deps.chunkMarginMs)
    : ChunkBudget.fromClock(deps.now, deps.chunkMarginMs);
  switch (task.action) {
    case "validate":
      return { migrationId: ctx.name, request: ctx.request };
    case "discover":
      return await discover(deps, ctx as never);
    case "preflight":
      return await preflight(deps, ctx as never);
    case "request-approval":
      return await requestApproval(deps, ctx as never, task.taskToken);
    case "add-pod-trust":
      return await addPodTrust(deps, ctx as never);
    case "associate":
      return await associate(deps, ctx as never, budget);
    case "verify":
      return await verify(deps, ctx as never, budget);
    case "rollback":
      return ctx.phase === "run"
        ? await rollbackOwnRun(deps, ctx as never, budget)
        : await rollbackFinishedRun(deps, ctx as never, budget);
    case "finalize":
      return await finalize(deps, ctx as never, budget);
    case "report": {
      const error = task.error && Object.keys(task.error).length > 0 ? task.error : undefined;
      return await report(deps, ctx, task.outcome as MigrationOutcome, error ?? undefined);
    }
    default: {
      const never: never = task;
      return never;
    }
  }
}

let deps: MigrationDeps | undefined;

/** The migration state machines' task function. */
export const handler = async (event: unknown, context?: Pick<Context, "getRemainingTimeInMillis">) => {
  deps ??= createMigrationDeps();
  const parsed = migrationTaskSchema.safeParse(event);
  if (!parsed.success) {
    // a task payload the state machines would never send: fail the task, loudly (no token logged)
    const reason = z.prettifyError(parsed.error);
    deps.logger.error("invalid migration task", { reason });
    const error = new Error(reason);
    error.name = "InvalidMigrationTask";
    throw error;
  }
  const remaining = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis() : undefined;
  return await runMigrationTask(deps, parsed.data, remaining);
};
