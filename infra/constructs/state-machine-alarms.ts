import { Duration } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { countAlarm } from "./alarm.js";

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
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) =>
      this.alarms.push(countAlarm(this, alarmId, props.alarmTopic, description, metric));
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
