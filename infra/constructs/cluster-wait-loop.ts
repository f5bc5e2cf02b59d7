import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ILogGroup } from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { acknowledgeTaskRole } from "../nag.js";

/** Props of the cluster wait loop. */
export interface ClusterWaitLoopProps {
  /** the cluster-event function: serves `{action: "check"}` and `{action: "onboard"}` */
  clusterEvent: IFunction;
  /** seconds between status checks; onboarding happens at most this long after ACTIVE */
  pollSeconds?: number;
  /** give up after this long (cluster creation takes 10–15 minutes) */
  timeout?: Duration;
  logGroup: ILogGroup;
  /** fixed name, so the cluster-event function can reference it without a dependency cycle */
  stateMachineName?: string;
}

/**
 * EKS emits no "cluster became ACTIVE" event: CreateCluster starts this loop, which polls the
 * cluster's status and onboards it as soon as it is ACTIVE, and gives up when it fails or is deleted.
 */
export class ClusterWaitLoop extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ClusterWaitLoopProps) {
    super(scope, id);
    // LambdaInvoke already retries Lambda service exceptions; throttled invocations too:
    const retry = {
      errors: ["Lambda.TooManyRequestsException"],
      maxAttempts: 4,
      interval: Duration.seconds(2),
      backoffRate: 2,
    };
    const wait = new sfn.Wait(this, "WaitBeforeCheck", {
      time: sfn.WaitTime.duration(Duration.seconds(props.pollSeconds ?? 30)),
    });
    const check = new tasks.LambdaInvoke(this, "CheckCluster", {
      lambdaFunction: props.clusterEvent,
      payload: sfn.TaskInput.fromObject({ action: "check", "clusterName.$": "$.clusterName" }),
      payloadResponseOnly: true,
      resultPath: "$.check",
    }).addRetry(retry);
    const onboard = new tasks.LambdaInvoke(this, "OnboardCluster", {
      lambdaFunction: props.clusterEvent,
      payload: sfn.TaskInput.fromObject({ action: "onboard", "clusterName.$": "$.clusterName" }),
      payloadResponseOnly: true,
      // onboarding enqueues "reconcile cluster C"; the queue worker does the work
      resultSelector: { "status.$": "$.status", "clusterName.$": "$.clusterName" },
      resultPath: "$.onboard",
    })
      .addRetry(retry)
      .addRetry({
        errors: ["States.TaskFailed"],
        maxAttempts: 2,
        interval: Duration.seconds(10),
        backoffRate: 2,
      });
    const gaveUp = new sfn.Succeed(this, "GaveUp", {
      comment: "the cluster failed or was deleted before it became ACTIVE",
    });
    const done = new sfn.Succeed(this, "Onboarded");
    const status = new sfn.Choice(this, "ClusterStatus")
      .when(sfn.Condition.stringEquals("$.check.status", "ACTIVE"), onboard.next(done))
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals("$.check.status", "CREATING"),
          sfn.Condition.stringEquals("$.check.status", "UPDATING"),
        ),
        wait,
      )
      .otherwise(gaveUp);
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      definitionBody: sfn.DefinitionBody.fromChainable(wait.next(check).next(status)),
      timeout: props.timeout ?? Duration.minutes(45),
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: "Onboards a new EKS cluster to Pod Identity as soon as it is ACTIVE",
    });
    acknowledgeTaskRole(this.stateMachine, props.clusterEvent);
  }
}
