import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  InvalidArn,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import type { ExecutionInfo, ExecutionsPort } from "../migration/ports.js";

/** states:DescribeExecution as the migration's authority check reads it. */
export function sfnExecutions(sfn: SFNClient): ExecutionsPort {
  return {
    async describe(executionArn: string): Promise<ExecutionInfo | undefined> {
      try {
        const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        let input: unknown;
        try {
          input = out.input === undefined ? undefined : (JSON.parse(out.input) as unknown);
        } catch {
          input = undefined;
        }
        return {
          executionArn: out.executionArn ?? executionArn,
          stateMachineArn: out.stateMachineArn ?? "",
          name: out.name ?? "",
          status: out.status ?? "UNKNOWN",
          input,
          startDate: out.startDate ?? new Date(0),
        };
      } catch (error) {
        if (error instanceof ExecutionDoesNotExist || error instanceof InvalidArn) return undefined;
        throw error;
      }
    },
  };
}
