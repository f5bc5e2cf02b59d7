import { z } from "zod";
import { AutopilotError, ValidationError } from "../core/errors.js";
import {
  type FinalizeRequest,
  finalizeInputSchema,
  type MigrationRequest,
  migrationInputSchema,
  type RollbackRequest,
  rollbackInputSchema,
} from "../core/migration/input.js";
import type { MigrationDeps } from "./deps.js";
import type { ExecutionInfo } from "./ports.js";

/** A task asked to act for something that is not a running execution of its own state machine. */
export class NotAuthorizedError extends AutopilotError {
  override name = "NotAuthorized";
}

/** The phases, each its own state machine. */
export type Phase = "run" | "finalize" | "rollback";

type RequestOf = { run: MigrationRequest; finalize: FinalizeRequest; rollback: RollbackRequest };
const schemas = { run: migrationInputSchema, finalize: finalizeInputSchema, rollback: rollbackInputSchema };

/** For whom a task acts: re-read from Step Functions, never from the payload. */
export interface ExecutionContext<P extends Phase = Phase> {
  phase: P;
  executionArn: string;
  /** the execution name: the run ID operators use */
  name: string;
  /** key of every item this execution writes: its ARN and start time (names are reusable) */
  runKey: string;
  startDate: Date;
  request: RequestOf[P];
}

/** The key of the items an execution writes. */
export function runKeyOf(execution: Pick<ExecutionInfo, "executionArn" | "startDate">): string {
  return `${execution.executionArn}@${execution.startDate.getTime()}`;
}

/** The execution ARN of a state machine's execution by name. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
}

/**
 * The authority check every task makes: `executionArn` (the context object's `$$.Execution.Id`)
 * must be a RUNNING execution of this phase's state machine (states:DescribeExecution); the
 * request is that execution's input, validated, never the payload's.
 */
export async function authorize<P extends Phase>(
  deps: MigrationDeps,
  executionArn: string,
  phase: P,
): Promise<ExecutionContext<P>> {
  const expected = deps.stateMachines[phase];
  if (!executionArn.startsWith(`${expected.replace(":stateMachine:", ":execution:")}:`))
    throw new NotAuthorizedError(`${executionArn} is not an execution of ${expected}`);
  const execution = await deps.executions.describe(executionArn);
  if (!execution) throw new NotAuthorizedError(`execution ${executionArn} does not exist`);
  if (execution.stateMachineArn !== expected)
    throw new NotAuthorizedError(`execution ${executionArn} belongs to ${execution.stateMachineArn}`);
  if (execution.status !== "RUNNING")
    throw new NotAuthorizedError(`execution ${executionArn} is ${execution.status}, not RUNNING`);
  const parsed = schemas[phase].safeParse(execution.input);
  if (!parsed.success) throw new ValidationError(`invalid ${phase} input:\n${z.prettifyError(parsed.error)}`);
  return {
    phase,
    executionArn,
    name: execution.name,
    runKey: runKeyOf(execution),
    startDate: execution.startDate,
    request: parsed.data as RequestOf[P],
  };
}
