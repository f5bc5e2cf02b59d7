import { describe, expect, it } from "vitest";
import { synthTemplates } from "../support/synth.js";

type Resource = { Type: string; Properties: Record<string, any> };

/** The logical id a `{ Ref }` names, or undefined. */
const refOf = (v: unknown): string | undefined => (v as { Ref?: string } | undefined)?.Ref;

describe("alarms that can fire: every state machine alarms when an execution fails or times out", () => {
  it("each AWS::StepFunctions::StateMachine has ExecutionsFailed and ExecutionsTimedOut alarms on the alarm topic", () => {
    // Prepare
    const templates = synthTemplates();

    // Act: per stack, the state machines and the AWS/States alarms with their StateMachineArn and actions
    for (const [stack, t] of Object.entries(templates)) {
      const resources = Object.entries(t.Resources) as [string, Resource][];
      const machines = resources
        .filter(([, r]) => r.Type === "AWS::StepFunctions::StateMachine")
        .map(([id]) => id);
      const topics = new Set(resources.filter(([, r]) => r.Type === "AWS::SNS::Topic").map(([id]) => id));
      const alarms = resources
        .filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.Namespace === "AWS/States")
        .map(([, r]) => ({
          metric: r.Properties.MetricName as string,
          machine: refOf(
            (r.Properties.Dimensions as { Name: string; Value: unknown }[]).find(
              (d) => d.Name === "StateMachineArn",
            )?.Value,
          ),
          actions: ((r.Properties.AlarmActions ?? []) as unknown[]).map(refOf),
          threshold: r.Properties.Threshold as number,
          operator: r.Properties.ComparisonOperator as string,
        }));

      // Assess: no machine without both alarms, each firing on one execution and notifying a topic of the stack
      for (const machine of machines) {
        for (const metric of ["ExecutionsFailed", "ExecutionsTimedOut"]) {
          const found = alarms.filter((a) => a.machine === machine && a.metric === metric);
          expect(found, `${stack}: ${machine} has no ${metric} alarm`).toHaveLength(1);
          expect(found[0]!.threshold).toBe(1);
          expect(found[0]!.operator).toBe("GreaterThanOrEqualToThreshold");
          expect(found[0]!.actions.some((a) => a !== undefined && topics.has(a))).toBe(true);
        }
      }
    }
    expect(
      Object.values(templates).flatMap((t) =>
        Object.values(t.Resources).filter((r) => r.Type === "AWS::StepFunctions::StateMachine"),
      ).length,
    ).toBeGreaterThanOrEqual(4);
  });
});
