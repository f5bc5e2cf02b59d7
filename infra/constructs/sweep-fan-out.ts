import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ILogGroup } from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { acknowledgeTaskRole } from "../nag.js";

/** Props of the sweep fan-out. */
export interface SweepFanOutProps {
  sweeper: IFunction;
  logGroup: ILogGroup;
  /** clusters per unit of work, sized so one unit stays well inside a Lambda run at real API rates */
  clustersPerUnit?: number;
}

/**
 * The scheduled sweep of a large fleet: one task reads the cluster names and the roles once and
 * splits the clusters into units; a Map runs the units one after the other (the account's API
 * rate is shared anyway, and sweeps never overlap), each unit a sweeper invocation.
 */
export class SweepFanOut extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: SweepFanOutProps) {
    super(scope, id);
    const throttled = {
      errors: ["Lambda.TooManyRequestsException"],
      maxAttempts: 6,
      interval: Duration.seconds(5),
      backoffRate: 2,
    };
    const plan = new tasks.LambdaInvoke(this, "PlanSweep", {
      lambdaFunction: props.sweeper,
      payload: sfn.TaskInput.fromObject({
        action: "plan-sweep",
        clustersPerUnit: props.clustersPerUnit ?? 10,
      }),
      payloadResponseOnly: true,
      resultPath: "$.plan",
    }).addRetry(throttled);
    const unit = new tasks.LambdaInvoke(this, "SweepUnit", {
      lambdaFunction: props.sweeper,
      payloadResponseOnly: true,
      resultSelector: {
        "status.$": "$.status",
        "created.$": "$.summary.created",
        "updated.$": "$.summary.updated",
        "deleted.$": "$.summary.deleted",
        "failed.$": "$.summary.failed",
      },
    }).addRetry(throttled);
    const map = new sfn.Map(this, "SweepUnits", {
      itemsPath: "$.plan.units",
      maxConcurrency: 1,
      itemSelector: {
        "clusters.$": "$$.Map.Item.Value.clusters",
        "breakerFloor.$": "$$.Map.Item.Value.breakerFloor",
        "roles.$": "$.plan.roles",
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    map.itemProcessor(unit);
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(map).next(new sfn.Succeed(this, "Swept"))),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: "Scheduled sweep split into units of work (one sweeper invocation per batch of clusters)",
    });
    acknowledgeTaskRole(this.stateMachine, props.sweeper);
  }
}
