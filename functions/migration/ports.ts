import type { CredentialUse } from "../core/migration/finalize.js";

/** An execution as Step Functions describes it (DescribeExecution). */
export interface ExecutionInfo {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE" | string;
  input: unknown;
  startDate: Date;
}

/** Reads executions (states:DescribeExecution); undefined when it does not exist. */
export interface ExecutionsPort {
  describe(executionArn: string): Promise<ExecutionInfo | undefined>;
}

/** Credential requests on a role seen in CloudTrail between two times (LookupEvents). */
export interface EvidencePort {
  credentialUses(roleArn: string, from: Date, to: Date): Promise<CredentialUse[]>;
}

/** The three state machines of the migration, by phase. */
export interface StateMachineArns {
  run: string;
  finalize: string;
  rollback: string;
}
