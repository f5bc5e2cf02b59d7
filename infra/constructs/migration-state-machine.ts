import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { ILogGroup } from "aws-cdk-lib/aws-logs";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { MAX_SOAK_SECONDS } from "../../functions/core/migration/input.js";
import { acknowledgeTaskRole } from "../nag.js";

/** Props of the migration state machines. */
export interface MigrationStateMachineProps {
  /** the migration function: one action per task */
  migration: IFunction;
  logGroup: ILogGroup;
  /** how long an approval may wait */
  approvalTimeout?: Duration;
  /** names: `<prefix>-migration`, `<prefix>-migration-finalize`, `<prefix>-migration-rollback` */
  namePrefix?: string;
  /** metric namespace and service dimension of the outcome metrics (the rollback-incomplete alarm) */
  metrics?: { namespace: string; service: string };
}

/** The run state machine's timeout: longest approval plus longest soak plus a day for the steps. */
export function runTimeout(approvalTimeout: Duration): Duration {
  return Duration.seconds(approvalTimeout.toSeconds() + MAX_SOAK_SECONDS + 86_400);
}

type Phase = "run" | "finalize" | "rollback";

/**
 * Timeout of each migration task: a minute over Lambda's 15 (the function's timeout), so the
 * function's own timeout is what fails a task; explicit because an absent TimeoutSeconds is 60 s
 * in the States Language specification (and in aws-local-stepfunctions, which runs `podid migrate`).
 */
export const MIGRATION_TASK_TIMEOUT = Duration.minutes(16);

/**
 * The migration, as three state machines whose tasks act only for their own RUNNING execution:
 * - run: validate ▸ discover ▸ preflight ▸ (dry run stops) ▸ approval (always, when anything
 *   would change) ▸ add scoped Pod Identity trust ▸ associate ▸ soak ▸ verify ▸ report. Never
 *   removes IRSA trust. A failure after approval rolls back this run's own edits; a rollback that
 *   cannot finish ends `RollbackIncomplete` (alarmed), never as success.
 * - finalize: validate ▸ finalize (CloudTrail evidence, removal where quiet) ▸ report.
 * - rollback: validate ▸ undo a finished run's own edits ▸ report.
 * Bulky state lives in the migration table; the execution state stays small.
 */
export class MigrationStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly finalize: sfn.StateMachine;
  readonly rollback: sfn.StateMachine;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MigrationStateMachineProps) {
    super(scope, id);
    const approvalTimeout = props.approvalTimeout ?? Duration.days(7);
    const name = (suffix: string) =>
      props.namePrefix ? { stateMachineName: `${props.namePrefix}-${suffix}` } : {};
    this.stateMachine = this.machine("Run", this.runDefinition(props.migration, approvalTimeout), {
      timeout: runTimeout(approvalTimeout),
      comment:
        "Staged IRSA to EKS Pod Identity migration of one cluster: approval, soak, compensating rollback",
      ...name("migration"),
      ...props,
    });
    this.finalize = this.machine("Finalize", this.finalizeDefinition(props.migration), {
      timeout: Duration.days(1),
      comment: "Removes one cluster's IRSA trust where CloudTrail shows no IRSA use",
      ...name("migration-finalize"),
      ...props,
    });
    this.rollback = this.machine("Rollback", this.rollbackDefinition(props.migration), {
      timeout: Duration.days(1),
      comment: "Undoes a finished migration run's own edits",
      ...name("migration-rollback"),
      ...props,
    });
    if (props.metrics) {
      this.alarms.push(
        new cloudwatch.Alarm(this, "RollbackIncompleteAlarm", {
          alarmDescription:
            "A migration rollback could not undo everything (documents changed by someone else): see the run's report",
          metric: new cloudwatch.Metric({
            namespace: props.metrics.namespace,
            metricName: "MigrationsRollbackIncomplete",
            dimensionsMap: { service: props.metrics.service },
            statistic: "Sum",
            period: Duration.minutes(5),
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      for (const [id, machine] of [
        ["Run", this.stateMachine],
        ["Finalize", this.finalize],
        ["Rollback", this.rollback],
      ] as const) {
        this.alarms.push(
          new cloudwatch.Alarm(this, `${id}TimedOutAlarm`, {
            alarmDescription: `A migration ${id.toLowerCase()} execution timed out (no report, no rollback)`,
            metric: machine.metricTimedOut({ period: Duration.minutes(5), statistic: "Sum" }),
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
      }
    }
  }

  private machine(
    id: string,
    definition: sfn.IChainable,
    options: {
      timeout: Duration;
      comment: string;
      stateMachineName?: string;
      logGroup: ILogGroup;
      migration: IFunction;
    },
  ): sfn.StateMachine {
    const machine = new sfn.StateMachine(this, id === "Run" ? "StateMachine" : `${id}StateMachine`, {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: options.timeout,
      tracingEnabled: true,
      // execution data stays out of the logs: task tokens are never logged
      logs: { destination: options.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: options.comment,
      ...(options.stateMachineName ? { stateMachineName: options.stateMachineName } : {}),
    });
    acknowledgeTaskRole(machine, options.migration);
    return machine;
  }

  private tasks(fn: IFunction, phase: Phase, scope: string) {
    const task = (
      name: string,
      action: string,
      resultPath: string | typeof sfn.JsonPath.DISCARD,
      extra: Record<string, unknown> = {},
    ) =>
      new tasks.LambdaInvoke(this, `${scope}${name}`, {
        stateName: name,
        lambdaFunction: fn,
        // a task names only its execution; the function re-reads everything else
        payload: sfn.TaskInput.fromObject({
          action,
          phase,
          executionArn: sfn.JsonPath.stringAt("$$.Execution.Id"),
          ...extra,
        }),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: true,
        taskTimeout: sfn.Timeout.duration(MIGRATION_TASK_TIMEOUT),
      });
    const outcome = (name: string, value: string) =>
      new sfn.Pass(this, `${scope}${name}`, {
        stateName: name,
        result: sfn.Result.fromString(value),
        resultPath: "$.outcome",
      });
    const report = task("Report", "report", "$.report", {
      outcome: sfn.JsonPath.stringAt("$.outcome"),
      error: sfn.JsonPath.objectAt("$.error"),
    });
    report.addRetry({
      errors: ["States.ALL"],
      maxAttempts: 3,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    const leaseRetry = (t: tasks.LambdaInvoke) =>
      t.addRetry({
        errors: ["LeaseBusy"],
        maxAttempts: 20,
        interval: Duration.seconds(30),
        backoffRate: 1.5,
        maxDelay: Duration.minutes(10),
      });
    const validate = task("Validate", "validate", "$.run");
    validate.addCatch(
      new sfn.Fail(this, `${scope}InvalidInput`, {
        stateName: "InvalidInput",
        error: "InvalidMigrationInput",
        causePath: "$.error.Cause",
      }),
      { errors: ["ValidationError", "NotAuthorized"], resultPath: "$.error" },
    );
    const init = new sfn.Pass(this, `${scope}Init`, {
      stateName: "Init",
      parameters: { "run.$": "$.run", error: {}, outcome: "failed" },
    });
    // a chunked task returns `done: false` while work is left: it is called again (its progress
    // is in the migration table, under the execution's own key; the state keeps only counts)
    const untilDone = (t: sfn.TaskStateBase, name: string, resultPath: string, then: sfn.IChainable) =>
      t.next(
        new sfn.Choice(this, `${scope}${name}Done`, { stateName: `${name}Done?` })
          .when(
            sfn.Condition.and(
              sfn.Condition.isPresent(`${resultPath}.done`),
              sfn.Condition.booleanEquals(`${resultPath}.done`, false),
            ),
            t,
          )
          .otherwise(then),
      );
    return { task, outcome, report, validate, init, leaseRetry, untilDone };
  }

  private runDefinition(fn: IFunction, approvalTimeout: Duration): sfn.IChainable {
    const { task, outcome, report, validate, init, leaseRetry, untilDone } = this.tasks(fn, "run", "");
    const ended = new sfn.Choice(this, "Ended")
      .when(
        sfn.Condition.stringEquals("$.outcome", "rolled-back"),
        new sfn.Fail(this, "RolledBack", {
          error: "MigrationRolledBack",
          cause: "a step failed; this run's own changes were undone (see the report)",
        }),
      )
      .when(
        sfn.Condition.stringEquals("$.outcome", "rollback-incomplete"),
        new sfn.Fail(this, "RollbackIncomplete", {
          error: "MigrationRollbackIncomplete",
          cause: "a step failed and the rollback could NOT undo everything (see the report's 'not undone')",
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
          cause: "discovery, preflight or approval failed; nothing changed (see the report)",
        }),
      )
      .otherwise(new sfn.Succeed(this, "Done", { outputPath: "$.report" }));
    report.next(ended);

    const rollback = leaseRetry(task("Rollback", "rollback", "$.rollback"));
    rollback.addRetry({ errors: ["RollbackIncomplete"], maxAttempts: 0 });
    rollback.addRetry({
      errors: ["States.ALL"],
      maxAttempts: 3,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    const incomplete = outcome("SetRollbackIncomplete", "rollback-incomplete").next(report);
    rollback.addCatch(incomplete, { resultPath: "$.rollbackError" });
    untilDone(rollback, "Rollback", "$.rollback", outcome("SetRolledBack", "rolled-back").next(report));
    const failedEarly = outcome("SetFailed", "failed").next(report);

    // a cluster another run holds: retried for a while (hours in Step Functions), then refused
    const discover = leaseRetry(task("Discover", "discover", "$.discovery"));
    const preflight = task("Preflight", "preflight", "$.preflight");
    for (const t of [discover, preflight]) t.addCatch(failedEarly, { resultPath: "$.error" });

    const mutating = (t: tasks.LambdaInvoke) => leaseRetry(t).addCatch(rollback, { resultPath: "$.error" });
    const addTrust = mutating(task("AddPodIdentityTrust", "add-pod-trust", "$.trust"));
    const associate = mutating(task("CreateAssociations", "associate", "$.associations"));
    const soak = new sfn.Wait(this, "Soak", { time: sfn.WaitTime.secondsPath("$.run.request.soakSeconds") });
    const verify = mutating(task("Verify", "verify", "$.verification"));
    const succeeded = outcome("SetSucceeded", "succeeded").next(report);

    // approval is not an option of the input: every run that would change something waits here
    const approval = new tasks.LambdaInvoke(this, "WaitForApproval", {
      lambdaFunction: fn,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        action: "request-approval",
        phase: "run",
        executionArn: sfn.JsonPath.stringAt("$$.Execution.Id"),
        taskToken: sfn.JsonPath.taskToken,
      }),
      resultPath: "$.approval",
      taskTimeout: sfn.Timeout.duration(approvalTimeout),
    });
    approval.addCatch(outcome("SetRejected", "rejected").next(report), {
      errors: ["MigrationRejected", "States.Timeout"],
      resultPath: "$.error",
    });
    approval.addCatch(failedEarly, { resultPath: "$.error" });
    approval.next(addTrust);
    addTrust.next(associate);
    untilDone(associate, "CreateAssociations", "$.associations", soak.next(verify));
    untilDone(verify, "Verify", "$.verification", succeeded);

    return validate
      .next(init)
      .next(discover)
      .next(preflight)
      .next(
        new sfn.Choice(this, "DryRun?")
          .when(
            sfn.Condition.booleanEquals("$.run.request.dryRun", true),
            outcome("SetDryRun", "dry-run").next(report),
          )
          .when(
            sfn.Condition.numberEquals("$.preflight.ready", 0),
            outcome("SetNothingToDo", "nothing-to-do").next(report),
          )
          .otherwise(approval),
      );
  }

  private finalizeDefinition(fn: IFunction): sfn.IChainable {
    const { task, outcome, report, validate, init, leaseRetry, untilDone } = this.tasks(
      fn,
      "finalize",
      "Finalize",
    );
    report.next(
      new sfn.Choice(this, "FinalizeEnded")
        .when(
          sfn.Condition.stringEquals("$.report.outcome", "succeeded"),
          new sfn.Succeed(this, "FinalizeDone", { stateName: "Done", outputPath: "$.report" }),
        )
        .otherwise(
          new sfn.Fail(this, "FinalizeIncomplete", {
            stateName: "Incomplete",
            error: "FinalizeIncomplete",
            cause:
              "some service accounts keep their IRSA trust (still in use, undecided, or failed): see the report",
          }),
        ),
    );
    const work = leaseRetry(task("Finalize", "finalize", "$.finalize"));
    work.addCatch(outcome("SetFailed", "failed").next(report), { resultPath: "$.error" });
    // CloudTrail per role, then removal per role, in resumable chunks: again while not done
    untilDone(work, "Finalize", "$.finalize", outcome("SetSucceeded", "succeeded").next(report));
    return validate.next(init).next(work);
  }

  private rollbackDefinition(fn: IFunction): sfn.IChainable {
    const { task, outcome, report, validate, init, leaseRetry, untilDone } = this.tasks(
      fn,
      "rollback",
      "Undo",
    );
    report.next(
      new sfn.Choice(this, "UndoEnded")
        .when(
          sfn.Condition.stringEquals("$.report.outcome", "succeeded"),
          new sfn.Succeed(this, "UndoDone", { stateName: "Done", outputPath: "$.report" }),
        )
        .otherwise(
          new sfn.Fail(this, "UndoIncomplete", {
            stateName: "RollbackIncomplete",
            error: "MigrationRollbackIncomplete",
            cause: "the rollback could not undo everything, or failed: see the report",
          }),
        ),
    );
    const work = leaseRetry(task("Rollback", "rollback", "$.rollback"));
    work.addRetry({ errors: ["RollbackIncomplete", "ValidationError"], maxAttempts: 0 });
    work.addRetry({ errors: ["States.ALL"], maxAttempts: 3, interval: Duration.seconds(5), backoffRate: 2 });
    work.addCatch(outcome("SetIncomplete", "rollback-incomplete").next(report), {
      errors: ["RollbackIncomplete"],
      resultPath: "$.error",
    });
    work.addCatch(outcome("SetFailed", "failed").next(report), { resultPath: "$.error" });
    untilDone(work, "Rollback", "$.rollback", outcome("SetSucceeded", "succeeded").next(report));
    return validate.next(init).next(work);
  }
}
