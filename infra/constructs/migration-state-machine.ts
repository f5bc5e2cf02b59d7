import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ILogGroup } from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { acknowledgeTaskRole } from "../nag.js";

/** Props of the migration state machine. */
export interface MigrationStateMachineProps {
  /** the migration function: one action per task */
  migration: IFunction;
  logGroup: ILogGroup;
  /** how long an approval may wait */
  approvalTimeout?: Duration;
  stateMachineName?: string;
}

/**
 * IRSA → Pod Identity, staged: validate ▸ discover ▸ preflight ▸ (dry run stops) ▸ approval ▸ add
 * Pod Identity trust ▸ associate ▸ soak ▸ verify ▸ remove IRSA trust (when asked) ▸ report. Any
 * failure after the first change rolls back. Bulky state lives in the migration table, so the
 * execution state stays small whatever the number of service accounts.
 */
export class MigrationStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: MigrationStateMachineProps) {
    super(scope, id);
    const fn = props.migration;
    const common = {
      migrationId: sfn.JsonPath.stringAt("$.migrationId"),
      request: sfn.JsonPath.objectAt("$.request"),
    };
    const task = (
      name: string,
      action: string,
      resultPath: string | typeof sfn.JsonPath.DISCARD,
      extra: Record<string, unknown> = common,
    ) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject({ action, ...extra }),
        payloadResponseOnly: true,
        // "$" is the default: left out, so every engine reads it the same way
        ...(resultPath === "$" ? {} : { resultPath }),
        retryOnServiceExceptions: true,
      });
    const outcome = (name: string, value: string) =>
      new sfn.Pass(this, name, { result: sfn.Result.fromString(value), resultPath: "$.outcome" });

    // report, then end according to the outcome
    const report = task("Report", "report", "$.report", {
      ...common,
      outcome: sfn.JsonPath.stringAt("$.outcome"),
      error: sfn.JsonPath.objectAt("$.error"),
      rollback: sfn.JsonPath.objectAt("$.rollback"),
    });
    const ended = new sfn.Choice(this, "Ended")
      .when(
        sfn.Condition.stringEquals("$.outcome", "rolled-back"),
        new sfn.Fail(this, "RolledBack", {
          error: "MigrationRolledBack",
          cause: "a step failed; every change was undone (see the Report step)",
        }),
      )
      .when(
        sfn.Condition.stringEquals("$.outcome", "rejected"),
        new sfn.Fail(this, "Rejected", {
          error: "MigrationRejected",
          cause: "the approval was rejected; nothing changed",
        }),
      )
      .when(
        sfn.Condition.stringEquals("$.outcome", "failed"),
        new sfn.Fail(this, "Failed", {
          error: "MigrationFailed",
          cause: "discovery or preflight failed; nothing changed (see the Report step)",
        }),
      )
      .otherwise(new sfn.Succeed(this, "Done", { outputPath: "$.report" }));
    report.next(ended);

    const rollback = task("Rollback", "rollback", "$.rollback", {
      migrationId: sfn.JsonPath.stringAt("$.migrationId"),
    });
    rollback.addRetry({
      errors: ["States.TaskFailed"],
      maxAttempts: 3,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    rollback.next(outcome("SetRolledBack", "rolled-back")).next(report);
    const failedEarly = outcome("SetFailed", "failed").next(report);

    const validateInput = task("Validate", "validate", "$", {
      input: sfn.JsonPath.entirePayload,
      migrationId: sfn.JsonPath.executionName,
    });
    validateInput.addCatch(
      new sfn.Fail(this, "InvalidInput", { error: "InvalidMigrationInput", causePath: "$.error.Cause" }),
      {
        errors: ["ValidationError"],
        resultPath: "$.error",
      },
    );
    const init = new sfn.Pass(this, "Init", {
      parameters: {
        "migrationId.$": "$.migrationId",
        "request.$": "$.request",
        error: {},
        rollback: {},
        outcome: "failed",
      },
    });
    const discover = task("Discover", "discover", "$.discovery");
    const preflight = task("Preflight", "preflight", "$.preflight");
    for (const t of [discover, preflight]) t.addCatch(failedEarly, { resultPath: "$.error" });

    const mutating = (t: tasks.LambdaInvoke) => t.addCatch(rollback, { resultPath: "$.error" });
    const addTrust = mutating(task("AddPodIdentityTrust", "add-pod-trust", "$.trust"));
    const associate = mutating(task("CreateAssociations", "associate", "$.associations"));
    const soak = new sfn.Wait(this, "Soak", { time: sfn.WaitTime.secondsPath("$.request.soakSeconds") });
    const verify = mutating(
      task("Verify", "verify", "$.verification", { migrationId: sfn.JsonPath.stringAt("$.migrationId") }),
    );
    const removeIrsa = mutating(task("RemoveIrsaTrust", "remove-irsa-trust", "$.irsa"));
    const succeeded = outcome("SetSucceeded", "succeeded").next(report);

    const approval = new tasks.LambdaInvoke(this, "WaitForApproval", {
      lambdaFunction: fn,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        action: "request-approval",
        migrationId: sfn.JsonPath.stringAt("$.migrationId"),
        clusterName: sfn.JsonPath.stringAt("$.request.clusterName"),
        taskToken: sfn.JsonPath.taskToken,
      }),
      resultPath: "$.approval",
      taskTimeout: sfn.Timeout.duration(props.approvalTimeout ?? Duration.days(7)),
    });
    approval.addCatch(outcome("SetRejected", "rejected").next(report), {
      errors: ["MigrationRejected", "States.Timeout"],
      resultPath: "$.error",
    });
    approval.addCatch(failedEarly, { resultPath: "$.error" });

    const changes = addTrust
      .next(associate)
      .next(soak)
      .next(verify)
      .next(
        new sfn.Choice(this, "RemoveIrsaTrust?")
          .when(sfn.Condition.booleanEquals("$.request.removeIrsaTrust", true), removeIrsa.next(succeeded))
          .otherwise(succeeded),
      );
    approval.next(addTrust);

    const definition = validateInput
      .next(init)
      .next(discover)
      .next(preflight)
      .next(
        new sfn.Choice(this, "DryRun?")
          .when(
            sfn.Condition.booleanEquals("$.request.dryRun", true),
            outcome("SetDryRun", "dry-run").next(report),
          )
          .when(
            sfn.Condition.numberEquals("$.preflight.ready", 0),
            outcome("SetNothingToDo", "nothing-to-do").next(report),
          )
          .when(sfn.Condition.stringEquals("$.request.approval", "task-token"), approval)
          .otherwise(changes),
      );

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.days(8),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: "Staged IRSA to EKS Pod Identity migration of one cluster, with approval, soak and rollback",
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
    });
    acknowledgeTaskRole(this.stateMachine, fn);
  }
}
