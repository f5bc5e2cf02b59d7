import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";

/** One state machine to watch. */
export interface WatchedStateMachine {
  /** construct id of its alarms (e.g. `ClusterWaitLoop`) */
  id: string;
  machine: sfn.IStateMachine;
  /** what the machine does, for the alarm description */
  purpose: string;
  /** true when another construct already alarms on its ExecutionsTimedOut (no duplicate) */
  timedOutAlarmed?: boolean;
}

/** Props of {@link StateMachineAlarms}. */
export interface StateMachineAlarmsProps {
  machines: WatchedStateMachine[];
  alarmTopic: sns.ITopic;
}

/**
 * Alarms on AWS/States `ExecutionsFailed` (and `ExecutionsTimedOut` where nothing else watches
 * it) of each state machine, dimension `StateMachineArn`, notifying the alarm topic. Aborted
 * executions are not alarmed: only an operator's StopExecution aborts one.
 */
export class StateMachineAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: StateMachineAlarmsProps) {
    super(scope, id);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(a);
    };
    const period = Duration.minutes(5);
    for (const w of props.machines) {
      alarm(
        `${w.id}Failed`,
        `An execution failed: ${w.purpose} did not finish`,
        w.machine.metricFailed({ period, statistic: "Sum" }),
      );
      if (!w.timedOutAlarmed)
        alarm(
          `${w.id}TimedOut`,
          `An execution timed out: ${w.purpose} did not finish`,
          w.machine.metricTimedOut({ period, statistic: "Sum" }),
        );
    }
  }
}
