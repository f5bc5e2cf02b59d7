import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../../functions/core/metrics-names.js";
import { countAlarm } from "./alarm.js";

/** Props of the dashboard and alarms. */
export interface ObservabilityProps {
  functions: Record<string, lambda.IFunction>;
  sweeper: lambda.IFunction;
  deadLetterQueues: sqs.IQueue[];
  alarmTopic: sns.ITopic;
  /** state machines whose failed and timed-out executions are graphed, by label */
  stateMachines?: Record<string, sfn.IStateMachine>;
}

/** A product metric, summed over five minutes. */
export function productMetric(name: string, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE },
    statistic: "Sum",
    period: Duration.minutes(5),
    ...(label ? { label } : {}),
  });
}

/**
 * The dashboard (associations created/updated/deleted, drift, findings by severity, deletions held,
 * migrations by outcome, errors and throttles, state machine executions failed or timed out) and
 * the alarms (sweeper errors, held deletions, critical findings, dead-letter queue depth), all
 * notifying the alarm topic.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) =>
      this.alarms.push(countAlarm(this, alarmId, props.alarmTopic, description, metric));
    alarm(
      "SweeperErrors",
      "The scheduled sweep failed: drift is not being repaired",
      props.sweeper.metricErrors({ period: Duration.minutes(5) }),
    );
    alarm(
      "CriticalFindings",
      "A trust policy or template has a critical finding",
      productMetric("FindingsCritical"),
    );
    for (const [i, q] of props.deadLetterQueues.entries()) {
      alarm(
        `DeadLetters${i === 0 ? "" : i}`,
        "Events or invocations failed and were parked in the dead-letter queue",
        q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
      );
    }

    const fns = Object.entries(props.functions);
    const machines = Object.entries(props.stateMachines ?? {});
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: "Associations",
            left: [
              productMetric("AssociationsCreated", "created"),
              productMetric("AssociationsUpdated", "updated"),
              productMetric("AssociationsDeleted", "deleted"),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: "Drift found",
            left: [
              productMetric("DriftFound", "changes planned"),
              productMetric("StaleSkipped", "stale, re-planned"),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: "Findings by severity",
            left: [
              productMetric("FindingsCritical", "critical"),
              productMetric("FindingsError", "error"),
              productMetric("FindingsWarning", "warning"),
            ],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: "Deletions held and failed changes",
            left: [
              productMetric("DeletionsHeld", "held by the budget"),
              productMetric("ApplyFailures", "failed changes"),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: "Migrations by outcome",
            left: [
              "Succeeded",
              "DryRun",
              "NothingToDo",
              "Rejected",
              "RolledBack",
              "RollbackIncomplete",
              "Failed",
              "Incomplete",
            ].map((o) => productMetric(`Migrations${o}`, o)),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: "Function errors and throttles",
            left: fns.map(([name, fn]) =>
              fn.metricErrors({ label: `${name} errors`, period: Duration.minutes(5) }),
            ),
            right: fns.map(([name, fn]) =>
              fn.metricThrottles({ label: `${name} throttles`, period: Duration.minutes(5) }),
            ),
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: "State machine executions failed or timed out",
            left: machines.map(([name, m]) =>
              m.metricFailed({ label: `${name} failed`, period: Duration.minutes(5), statistic: "Sum" }),
            ),
            right: machines.map(([name, m]) =>
              m.metricTimedOut({ label: `${name} timed out`, period: Duration.minutes(5), statistic: "Sum" }),
            ),
            width: 24,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
