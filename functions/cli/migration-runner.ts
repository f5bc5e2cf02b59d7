import { readFileSync } from "node:fs";
import { StateMachine } from "aws-local-stepfunctions";

type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

import type { MigrationReport } from "../migration/actions/report.js";
import type { MigrationDeps } from "../migration/deps.js";
import { type MigrationTask, migrationTaskSchema, runMigrationTask } from "../migration/index.js";
import { KEYS } from "../migration/plan.js";

/** An approval decision recorded for a run waiting at its gate. */
export interface ApprovalDecision {
  decision: "approved" | "rejected";
  reason?: string;
}

/** Options of a local run of the migration state machine. */
export interface LocalRunOptions {
  definition: Record<string, unknown>;
  deps: MigrationDeps;
  input: unknown;
  migrationId: string;
  /** soak length in milliseconds instead of the input's soakSeconds (tests: 0) */
  soakMs?: number;
  /** how often the approval gate looks for a decision */
  approvalPollMs?: number;
  /** called before each task runs: where tests inject faults */
  beforeTask?: (stateName: string, task: MigrationTask) => Promise<void> | void;
  /** called after a task did its work, before its result is returned (a crash after the work) */
  afterTask?: (stateName: string, task: MigrationTask) => Promise<void> | void;
  onWaitingForApproval?: (migrationId: string) => void;
  /** how a task runs: in-process by default; tests pass the built Lambda bundle's handler */
  invoke?: (task: MigrationTask) => Promise<unknown>;
}

/** How a local run ended: the report when the Report step ran, the error when the execution failed. */
export interface LocalRunResult {
  status: "succeeded" | "failed";
  report?: MigrationReport;
  error?: { name: string; cause: string };
  /** largest state seen between steps, in bytes (the 256 KB payload limit) */
  maxStateBytes: number;
  tasks: string[];
}

/** The migration definition `npm run build` exported from the CDK construct. */
export function loadMigrationDefinition(
  path = new URL("../state-machines/migration.asl.json", import.meta.url),
): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Runs the migration state machine definition locally with aws-local-stepfunctions; its Lambda
 * tasks run in-process against whatever AWS the SDK points at. The approval gate, a
 * `.waitForTaskToken` task in Step Functions, waits here for `podid migrate approve|reject`.
 */
export async function runMigrationLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const { deps } = options;
  const states = (options.definition.States ?? {}) as Record<string, { Type: string; Resource?: string }>;
  let report: MigrationReport | undefined;
  let maxStateBytes = 0;
  const tasks: string[] = [];
  const handlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== "Task") continue;
    if (String(state.Resource).includes("waitForTaskToken")) {
      handlers[name] = async (input: JSONValue): Promise<JSONValue> => {
        const raw = input as { Payload?: { migrationId: string; clusterName: string } };
        const payload = raw.Payload ?? (raw as never as { migrationId: string; clusterName: string });
        tasks.push(name);
        await runMigrationTask(deps, {
          action: "request-approval",
          migrationId: payload.migrationId,
          clusterName: payload.clusterName,
          taskToken: `local:${payload.migrationId}`,
        });
        options.onWaitingForApproval?.(payload.migrationId);
        for (;;) {
          const decision = await deps.store.get<ApprovalDecision>(
            payload.migrationId,
            `${KEYS.approval}#decision`,
          );
          if (decision?.decision === "approved") return { approved: true };
          if (decision?.decision === "rejected")
            throw namedError("MigrationRejected", decision.reason ?? "rejected");
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
        const out = options.invoke ? await options.invoke(task) : await runMigrationTask(deps, task);
        await options.afterTask?.(name, task);
        if (task.action === "report") report = out as MigrationReport;
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
      retryIntervalOverrides: { Rollback: 0 },
    },
    // the local engine has no task tokens of its own: the approval gate gets a local one
    context: {
      Execution: { Name: options.migrationId, Id: `local:${options.migrationId}` },
      Task: { Token: `local:${options.migrationId}` },
    } as never,
  });
  try {
    await execution.result;
    return { status: "succeeded", ...(report ? { report } : {}), maxStateBytes, tasks };
  } catch (error) {
    const e = error as { name?: string; message?: string; cause?: unknown };
    const cause = e.cause as { name?: string; message?: string } | undefined;
    return {
      status: "failed",
      ...(report ? { report } : {}),
      error: { name: cause?.name ?? e.name ?? "Error", cause: cause?.message ?? e.message ?? "" },
      maxStateBytes,
      tasks,
    };
  }
}
