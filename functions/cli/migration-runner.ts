import { readFileSync } from "node:fs";
import { CreateStateMachineCommand, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { StateMachine } from "aws-local-stepfunctions";
import type { FinalizeReport } from "../migration/actions/finalize.js";
import type { MigrationReport } from "../migration/actions/report.js";
import type { RollbackReport } from "../migration/actions/rollback.js";
import {
  type ApprovalDecision,
  approvalDecisionSchema,
  approvalOutput,
  rejectionCause,
} from "../migration/approval.js";
import { type Phase, runKeyOf } from "../migration/authority.js";
import { LAMBDA_LIMIT_MS } from "../migration/chunks.js";
import type { MigrationDeps } from "../migration/deps.js";
import { type MigrationTask, migrationTaskSchema, runMigrationTask } from "../migration/index.js";
import { KEYS } from "../migration/plan.js";

type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export type { ApprovalDecision } from "../migration/approval.js";

/** Options of a local execution of one of the migration state machines. */
export interface LocalRunOptions {
  phase?: Phase;
  definition: Record<string, unknown>;
  deps: MigrationDeps;
  input: unknown;
  /** the execution name (the run ID) */
  migrationId: string;
  /** soak length in milliseconds instead of the input's soakSeconds (tests: 0) */
  soakMs?: number;
  /** how often the approval gate looks for a decision */
  approvalPollMs?: number;
  /**
   * approve at the gate without waiting (`podid migrate run --approval none` on the local
   * account only); the definition still has the gate and the decision is recorded
   */
  autoApprove?: boolean;
  /** called before each task runs: where tests inject faults */
  beforeTask?: (stateName: string, task: MigrationTask) => Promise<void> | void;
  /** called after a task did its work, before its result is returned (a crash after the work) */
  afterTask?: (stateName: string, task: MigrationTask) => Promise<void> | void;
  onWaitingForApproval?: (migrationId: string) => void;
  /**
   * how a task runs: in-process by default; tests pass the built Lambda bundle's handler. The
   * context's remaining time is the task state's TimeoutSeconds (60 when absent, as the local
   * engine applies it), at most Lambda's 15 minutes, from the start of the invocation.
   */
  invoke?: (task: MigrationTask, context: LocalLambdaContext) => Promise<unknown>;
}

/** The part of a Lambda context a migration task reads. */
export interface LocalLambdaContext {
  getRemainingTimeInMillis(): number;
}

/** How a local execution ended. */
export interface LocalRunResult<R = MigrationReport> {
  status: "succeeded" | "failed";
  executionArn: string;
  runKey: string;
  /** the full report the Report step stored, when it ran */
  report?: R;
  error?: { name: string; cause: string };
  /** largest state seen between steps, in bytes (the 256 KB payload limit) */
  maxStateBytes: number;
  tasks: string[];
}

/** The definitions `npm run build` exported from the CDK constructs, by phase. */
export function loadMigrationDefinition(
  phase: Phase = "run",
  dir = new URL("../state-machines/", import.meta.url),
): Record<string, unknown> {
  const file = { run: "migration", finalize: "migration-finalize", rollback: "migration-rollback" }[phase];
  return JSON.parse(readFileSync(new URL(`${file}.asl.json`, dir), "utf8")) as Record<string, unknown>;
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Registers the state machine in the account the SDK points at (the local account) and starts
 * an execution there, so the tasks' authority check (states:DescribeExecution: RUNNING, this
 * state machine) holds exactly as in Step Functions; then runs the definition with
 * aws-local-stepfunctions, whose context object carries that execution's ARN, and stops the
 * execution at the end. The approval gate, a `.waitForTaskToken` task, waits here for
 * `podid migrate approve --run ID`.
 */
export async function runLocally<R = MigrationReport>(options: LocalRunOptions): Promise<LocalRunResult<R>> {
  const { deps } = options;
  const phase = options.phase ?? "run";
  const machineArn = deps.stateMachines[phase];
  const created = await deps.clients.sfn.send(
    new CreateStateMachineCommand({
      name: machineArn.split(":").pop() ?? "",
      definition: JSON.stringify(options.definition),
      roleArn: `${machineArn
        .split(":stateMachine:")[0]!
        .replace(":states:", ":iam:")
        .replace(/:[a-z0-9-]+:(\d{12})$/, "::$1")}:role/pod-identity-autopilot-local-states`,
    }),
  );
  if (created.stateMachineArn !== machineArn)
    throw new Error(`the local state machine is ${created.stateMachineArn}, not ${machineArn}`);
  const started = await deps.clients.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: machineArn,
      name: options.migrationId,
      input: JSON.stringify(options.input),
    }),
  );
  const executionArn = started.executionArn ?? "";
  const runKey = runKeyOf({ executionArn, startDate: started.startDate ?? new Date(0) });
  const states = (options.definition.States ?? {}) as Record<
    string,
    { Type: string; Resource?: string; TimeoutSeconds?: number }
  >;
  let maxStateBytes = 0;
  const tasks: string[] = [];
  const run = (task: MigrationTask, timeoutSeconds = 60) => {
    const started = Date.now();
    const limitMs = Math.min(timeoutSeconds * 1000, LAMBDA_LIMIT_MS);
    const context: LocalLambdaContext = { getRemainingTimeInMillis: () => limitMs - (Date.now() - started) };
    return options.invoke
      ? options.invoke(task, context)
      : runMigrationTask(deps, task, () => context.getRemainingTimeInMillis());
  };
  const handlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== "Task") continue;
    retryIntervalOverrides[name] = 10;
    if (String(state.Resource).includes("waitForTaskToken")) {
      handlers[name] = async (input: JSONValue): Promise<JSONValue> => {
        const raw = input as { Payload?: MigrationTask };
        const payload = migrationTaskSchema.parse(raw.Payload ?? raw);
        tasks.push(name);
        // the local engine has no task tokens: the gate gets a local one (never sent to AWS)
        await run({ ...payload, taskToken: `local:${options.migrationId}` } as MigrationTask);
        if (options.autoApprove) {
          const decision: ApprovalDecision = {
            decision: "approved",
            by: "podid --approval none (local account)",
            at: deps.now().toISOString(),
          };
          await deps.store.put(runKey, KEYS.decision, decision);
          return approvalOutput(decision) as JSONValue;
        }
        options.onWaitingForApproval?.(options.migrationId);
        // what Step Functions gets from podid migrate approve|reject: SendTaskSuccess output or
        // SendTaskFailure cause (an unreadable record still decides, but states nothing)
        for (;;) {
          const raw = await deps.store.get<{ decision?: unknown; reason?: unknown }>(runKey, KEYS.decision);
          const decision = approvalDecisionSchema.safeParse(raw);
          if (raw?.decision === "approved")
            return (decision.success ? approvalOutput(decision.data) : { approved: true }) as JSONValue;
          if (raw?.decision === "rejected")
            throw namedError(
              "MigrationRejected",
              decision.success ? rejectionCause(decision.data) : "rejected (no readable decision record)",
            );
          await new Promise((r) => setTimeout(r, options.approvalPollMs ?? 1000));
        }
      };
      continue;
    }
    handlers[name] = async (input: JSONValue): Promise<JSONValue> => {
      maxStateBytes = Math.max(maxStateBytes, Buffer.byteLength(JSON.stringify(input)));
      const task = migrationTaskSchema.parse(input);
      tasks.push(name);
      await options.beforeTask?.(name, task);
      try {
        const out = await run(task, state.TimeoutSeconds);
        await options.afterTask?.(name, task);
        maxStateBytes = Math.max(maxStateBytes, Buffer.byteLength(JSON.stringify(out ?? null)));
        return out as JSONValue;
      } catch (error) {
        // as in Lambda: the error's name is what Catch and Retry match
        throw namedError((error as Error).name || "Error", (error as Error).message);
      }
    };
  }
  const machine = new StateMachine(structuredClone(options.definition) as never, {
    validationOptions: { checkArn: false },
  });
  const execution = machine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(options.soakMs !== undefined ? { waitTimeOverrides: { Soak: options.soakMs } } : {}),
      retryIntervalOverrides,
    },
    context: {
      Execution: { Id: executionArn, Name: options.migrationId, StartTime: started.startDate?.toISOString() },
      // the local engine has no task tokens of its own: the approval gate gets a local one
      Task: { Token: `local:${options.migrationId}` },
    } as never,
  });
  let status: "succeeded" | "failed" = "succeeded";
  let error: { name: string; cause: string } | undefined;
  try {
    await execution.result;
  } catch (thrown) {
    const e = thrown as { name?: string; message?: string; cause?: unknown };
    const cause = e.cause as { name?: string; message?: string } | undefined;
    status = "failed";
    error = { name: cause?.name ?? e.name ?? "Error", cause: cause?.message ?? e.message ?? "" };
  } finally {
    await deps.clients.sfn.send(new StopExecutionCommand({ executionArn })).catch(() => undefined);
  }
  const report = await deps.store.getLarge<R>(runKey, KEYS.report);
  return {
    status,
    executionArn,
    runKey,
    ...(report ? { report } : {}),
    ...(error ? { error } : {}),
    maxStateBytes,
    tasks,
  };
}

/** A local run of the migration run state machine. */
export function runMigrationLocally(options: Omit<LocalRunOptions, "phase">) {
  return runLocally<MigrationReport>({ ...options, phase: "run" });
}

/** A local finalize execution. */
export function finalizeLocally(options: Omit<LocalRunOptions, "phase">) {
  return runLocally<FinalizeReport & { outcome: string }>({ ...options, phase: "finalize" });
}

/** A local rollback execution of a finished run. */
export function rollbackLocally(options: Omit<LocalRunOptions, "phase">) {
  return runLocally<RollbackReport & { outcome: string }>({ ...options, phase: "rollback" });
}
