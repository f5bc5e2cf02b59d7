import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as cloudwatchActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../../functions/aws/runtime.js";
import { CATALOG_ROLE_PATH } from "../../functions/core/catalog.js";
import { EKS_EVENT_NAMES, IAM_EVENT_NAMES } from "../../functions/core/events.js";
import { AUTOPILOT_BUS_NAME, type AutopilotConfig, regionalPacingRates } from "../config.js";
import { AutopilotFunction } from "../constructs/autopilot-function.js";
import { catalogRoleStatements } from "../constructs/catalog-roles.js";
import { ClusterWaitLoop } from "../constructs/cluster-wait-loop.js";
import { MigrationStateMachine, runTimeout } from "../constructs/migration-state-machine.js";
import { Observability } from "../constructs/observability.js";
import { SecurityHardening, sourceAccountOnly } from "../constructs/security-hardening.js";
import { StateMachineAlarms } from "../constructs/state-machine-alarms.js";
import { admissionEnvironment, passRoleStatement } from "../constructs/template-authority.js";
import { WorkQueue } from "../constructs/work-queue.js";
import { acknowledge } from "../nag.js";

/** Props of the regional stack. */
export interface PodIdentityAutopilotStackProps extends StackProps {
  config: AutopilotConfig;
}

/** The CloudTrail event pattern of DESIGN.md for a service, failed calls excluded. */
export function cloudTrailPattern(
  source: string,
  eventSource: string,
  eventNames: readonly string[],
): events.EventPattern {
  return {
    source: [source],
    detailType: ["AWS API Call via CloudTrail"],
    detail: {
      eventSource: [eventSource],
      eventName: [...eventNames],
      errorCode: [{ exists: false }],
    },
  };
}

/**
 * The regional deployment: the four functions, the EventBridge rules and schedule, the cluster
 * wait loop, dead-letter queues and the alarm topic.
 */
export class PodIdentityAutopilotStack extends Stack {
  readonly functions: Record<
    "clusterEvent" | "iamEvent" | "sweeper" | "reconcileWorker" | "migration",
    AutopilotFunction
  >;
  readonly bus: events.EventBus;
  readonly waitLoop: ClusterWaitLoop;
  readonly migration: MigrationStateMachine;
  readonly migrationTable: dynamodb.TableV2;
  readonly alarmTopic: sns.Topic;
  readonly deadLetterQueue: sqs.Queue;
  readonly observability: Observability;
  readonly work: WorkQueue;

  constructor(scope: Construct, id: string, props: PodIdentityAutopilotStackProps) {
    super(scope, id, props);
    const { config } = props;
    const retention = config.logRetentionDays as logs.RetentionDays;

    this.bus = new events.EventBus(this, "Bus", { eventBusName: AUTOPILOT_BUS_NAME });
    const key = new kms.Key(this, "Key", {
      enableKeyRotation: true,
      description: "pod-identity-autopilot queues and topic",
    });
    // issue 13: log groups under a CMK, function roles that cannot change the product itself
    const hardening = new SecurityHardening(this, "SecurityHardening", { keys: [key] });
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
    });
    key.grantEncryptDecrypt(sourceAccountOnly("events.amazonaws.com", this.account));
    acknowledge(
      this.deadLetterQueue,
      "This queue is the dead-letter queue; it has none of its own",
      "Serverless-SQSRedrivePolicy",
    );
    this.alarmTopic = new sns.Topic(this, "AlarmTopic", {
      displayName: "pod-identity-autopilot alarms",
      masterKey: key,
      enforceSSL: true,
    });
    key.grantEncryptDecrypt(sourceAccountOnly("cloudwatch.amazonaws.com", this.account));
    if (config.alarmEmail) {
      // an alarm e-mail SNS cannot deliver is kept in the dead-letter queue (which itself alarms)
      key.grantEncryptDecrypt(sourceAccountOnly("sns.amazonaws.com", this.account));
      this.alarmTopic.addSubscription(
        new subscriptions.EmailSubscription(config.alarmEmail, { deadLetterQueue: this.deadLetterQueue }),
      );
    }

    const waitLoopName = `${this.stackName}-cluster-wait`;
    const waitLoopArn = this.formatArn({
      service: "states",
      resource: "stateMachine",
      resourceName: waitLoopName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.work = new WorkQueue(this, "WorkQueue", {
      key,
      tableKey: hardening.tableKey,
      alarmTopic: this.alarmTopic,
      workerTimeout: Duration.minutes(5),
    });
    const reconcilerEnv = {
      ...this.work.environment,
      DELETION_BUDGET_FLOOR: String(config.deletionLimitFloor),
      DELETION_BUDGET_FRACTION: String(config.deletionLimitFraction),
      PACING_SHARE: String(config.pacingShare),
      PACING_RATES: regionalPacingRates(config),
      EVENT_BUS_NAME: this.bus.eventBusName,
      DRY_RUN: String(config.dryRun),
      ADOPT_UNMANAGED: String(config.adoptUnmanaged),
      INSTALL_AGENT: String(config.installAgent),
      ACCOUNT_ID: this.account,
      ...admissionEnvironment(config),
    };
    this.migrationTable = new dynamodb.TableV2(this, "MigrationTable", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // one key per data class: the table's data (trust snapshots) never shares the queue/topic key
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(hardening.tableKey),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // the state machines' ARNs from their names (a Ref would make a cycle: they invoke the function)
    const machineArn = (suffix: string) =>
      this.formatArn({
        service: "states",
        resource: "stateMachine",
        resourceName: `${this.stackName}-${suffix}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const migrationEnv = {
      MIGRATION_TABLE: this.migrationTable.tableName,
      MIGRATION_STATE_MACHINE_ARN: machineArn("migration"),
      MIGRATION_FINALIZE_STATE_MACHINE_ARN: machineArn("migration-finalize"),
      MIGRATION_ROLLBACK_STATE_MACHINE_ARN: machineArn("migration-rollback"),
      MIGRATION_CLUSTER_LEASE_SECONDS: String(runTimeout(Duration.days(7)).toSeconds()),
      TRUST_POLICY_SIZE_LIMIT: String(config.trustPolicySizeLimit),
    };
    const fn = (
      id: string,
      name: string,
      description: string,
      timeout: Duration,
      extra: Partial<{ env: Record<string, string>; memory: number; reserved: number }> = {},
    ) =>
      new AutopilotFunction(this, id, {
        name,
        description,
        timeout,
        environment: { ...reconcilerEnv, ...(extra.env ?? {}) },
        deadLetterQueue: this.deadLetterQueue,
        logRetention: retention,
        ...(extra.memory ? { memorySize: extra.memory } : {}),
        ...(extra.reserved !== undefined ? { reservedConcurrentExecutions: extra.reserved } : {}),
      });
    this.functions = {
      clusterEvent: fn(
        "ClusterEvent",
        "cluster-event",
        "Onboards and re-plans EKS clusters on CloudTrail events",
        Duration.minutes(5),
        {
          env: { WAIT_STATE_MACHINE_ARN: waitLoopArn },
        },
      ),
      iamEvent: fn(
        "IamEvent",
        "iam-event",
        "Re-plans a role's pod identity associations on IAM events",
        Duration.minutes(10),
      ),
      // the sweep only rebuilds the index and enqueues: one at a time
      sweeper: fn(
        "Sweeper",
        "sweeper",
        "Rebuilds the template index and enqueues every cluster",
        Duration.minutes(15),
        {
          memory: 1024,
          reserved: 1,
        },
      ),
      reconcileWorker: fn(
        "ReconcileWorker",
        "reconcile-worker",
        "Reconciles one cluster per work item (SQS FIFO, one cluster at a time)",
        Duration.minutes(5),
        { memory: 1024 },
      ),
      migration: fn(
        "Migration",
        "migration",
        "Tasks of the IRSA to Pod Identity migration (run, finalize, rollback)",
        Duration.minutes(15),
        { env: migrationEnv },
      ),
    };

    const waitLogs = new logs.LogGroup(this, "WaitLoopLogs", {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.waitLoop = new ClusterWaitLoop(this, "ClusterWaitLoop", {
      clusterEvent: this.functions.clusterEvent.fn,
      logGroup: waitLogs,
      stateMachineName: waitLoopName,
    });
    const migrationLogs = new logs.LogGroup(this, "MigrationLogs", {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.migration = new MigrationStateMachine(this, "MigrationStateMachine", {
      migration: this.functions.migration.fn,
      logGroup: migrationLogs,
      approvalTimeout: Duration.days(7),
      namePrefix: this.stackName,
      metrics: { namespace: METRICS_NAMESPACE, service: METRICS_SERVICE },
    });
    for (const alarm of this.migration.alarms)
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
    this.grantMigration(
      this.functions.migration,
      [
        migrationEnv.MIGRATION_STATE_MACHINE_ARN,
        migrationEnv.MIGRATION_FINALIZE_STATE_MACHINE_ARN,
        migrationEnv.MIGRATION_ROLLBACK_STATE_MACHINE_ARN,
      ],
      config.protectedRoles,
    );
    this.functions.clusterEvent.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "StartClusterWaitLoop",
        actions: ["states:StartExecution"],
        resources: [waitLoopArn],
      }),
    );

    const targetOptions = {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
    };
    new events.Rule(this, "EksEventsRule", {
      description: "EKS CloudTrail events that change which clusters exist or what they ask for",
      eventPattern: cloudTrailPattern("aws.eks", "eks.amazonaws.com", EKS_EVENT_NAMES),
      targets: [new targets.LambdaFunction(this.functions.clusterEvent.fn, targetOptions)],
    });
    new events.Rule(this, "IamEventsRule", {
      description: "IAM CloudTrail events forwarded from us-east-1",
      eventBus: this.bus,
      eventPattern: cloudTrailPattern("aws.iam", "iam.amazonaws.com", IAM_EVENT_NAMES),
      targets: [new targets.LambdaFunction(this.functions.iamEvent.fn, targetOptions)],
    });
    new events.Rule(this, "SweepSchedule", {
      description: "Scheduled sweep: rebuilds the template index and enqueues every cluster",
      schedule: events.Schedule.expression(config.sweepSchedule),
      targets: [new targets.LambdaFunction(this.functions.sweeper.fn, targetOptions)],
    });
    this.work.connect(this.functions.reconcileWorker, [
      this.functions.clusterEvent,
      this.functions.iamEvent,
      this.functions.sweeper,
    ]);
    // the migration's EKS, IAM and LookupEvents calls share the account-wide pacing schedules
    this.work.grantPacing(this.functions.migration);

    this.grantReconciler(
      [
        this.functions.clusterEvent,
        this.functions.iamEvent,
        this.functions.sweeper,
        this.functions.reconcileWorker,
      ],
      config,
    );

    new StateMachineAlarms(this, "StateMachineAlarms", {
      alarmTopic: this.alarmTopic,
      machines: [
        { id: "ClusterWaitLoop", machine: this.waitLoop.stateMachine, purpose: "onboarding a new cluster" },
        ...(
          [
            ["MigrationRun", this.migration.stateMachine, "a migration run"],
            ["MigrationFinalize", this.migration.finalize, "a migration finalize"],
            ["MigrationRollback", this.migration.rollback, "a migration rollback"],
          ] as const
        ).map(([id, machine, purpose]) => ({ id, machine, purpose, timedOutAlarmed: true })),
      ],
    });
    this.observability = new Observability(this, "Observability", {
      functions: Object.fromEntries(Object.entries(this.functions).map(([k, v]) => [k, v.fn])),
      sweeper: this.functions.sweeper.fn,
      deadLetterQueues: [this.deadLetterQueue],
      alarmTopic: this.alarmTopic,
      stateMachines: {
        "cluster wait": this.waitLoop.stateMachine,
        "migration run": this.migration.stateMachine,
        "migration finalize": this.migration.finalize,
        "migration rollback": this.migration.rollback,
      },
    });
  }

  private arn(service: string, resource: string): string {
    return `arn:${this.partition}:${service}:${this.region}:${this.account}:${resource}`;
  }

  /** What the migration function may do: read, edit trust policies, associate, update add-ons. */
  private grantMigration(f: AutopilotFunction, machines: string[], protectedRoles: string[]): void {
    const clusters = this.arn("eks", "cluster/*");
    const associations = this.arn("eks", "podidentityassociation/*/*");
    const addons = this.arn("eks", "addon/*/*/*");
    const fargate = this.arn("eks", "fargateprofile/*/*/*");
    const roles = `arn:${this.partition}:iam::${this.account}:role/*`;
    this.migrationTable.grantReadWriteData(f.role);
    for (const s of [
      new iam.PolicyStatement({
        sid: "ReadCluster",
        actions: [
          "eks:DescribeCluster",
          "eks:ListPodIdentityAssociations",
          "eks:DescribePodIdentityAssociation",
          "eks:ListAddons",
          "eks:DescribeAddon",
          "eks:ListFargateProfiles",
          "eks:DescribeFargateProfile",
        ],
        resources: [clusters, associations, addons, fargate],
      }),
      new iam.PolicyStatement({
        sid: "Associate",
        actions: [
          "eks:CreatePodIdentityAssociation",
          "eks:DeletePodIdentityAssociation",
          "eks:TagResource",
          "eks:UpdateAddon",
          "eks:CreateAddon",
        ],
        resources: [clusters, associations, addons],
      }),
      new iam.PolicyStatement({
        sid: "PassRolesToPodIdentity",
        actions: ["iam:PassRole"],
        resources: [roles],
        conditions: { StringEquals: { "iam:PassedToService": "pods.eks.amazonaws.com" } },
      }),
      // trust policy updates of workload roles happen here and nowhere else; IAM cannot say "only
      // roles discovered for a running execution": the function enforces that (authority check,
      // live re-discovery before each write); IAM denies the roles that must never be edited
      new iam.PolicyStatement({
        sid: "EditTrustPolicies",
        actions: ["iam:ListRoles", "iam:GetRole", "iam:UpdateAssumeRolePolicy"],
        resources: [roles],
      }),
      new iam.PolicyStatement({
        sid: "NeverEditProtectedRoles",
        effect: iam.Effect.DENY,
        actions: ["iam:UpdateAssumeRolePolicy"],
        resources: [
          `arn:${this.partition}:iam::${this.account}:role/cdk-*`,
          `arn:${this.partition}:iam::${this.account}:role/aws-reserved/*`,
          `arn:${this.partition}:iam::${this.account}:role/aws-service-role/*`,
          `arn:${this.partition}:iam::${this.account}:role/OrganizationAccountAccessRole`,
          `arn:${this.partition}:iam::${this.account}:role${CATALOG_ROLE_PATH}*`,
          ...Object.values(this.functions).map((x) => x.role.roleArn),
          ...protectedRoles.map(
            (r) => `arn:${this.partition}:iam::${this.account}:role/${r.replace(/^\//, "")}`,
          ),
        ],
      }),
      // the authority check: is this task's execution a RUNNING execution of our state machines?
      new iam.PolicyStatement({
        sid: "CheckOwnExecutions",
        actions: ["states:DescribeExecution"],
        resources: machines.map((m) => `${m.replace(":stateMachine:", ":execution:")}:*`),
      }),
      // finalize's evidence; LookupEvents and DescribeAddonConfiguration have no resource-level permissions
      new iam.PolicyStatement({
        sid: "ReadEvidenceAndAddonConfiguration",
        actions: ["cloudtrail:LookupEvents", "eks:DescribeAddonConfiguration", "eks:DescribeAddonVersions"],
        resources: ["*"],
      }),
    ]) {
      f.role.addToPolicy(s);
    }
    acknowledge(
      f.role,
      "The migration works on the clusters, associations, add-ons and IRSA roles discovered at run time, so IAM cannot name them in advance: PassRole is limited to pods.eks.amazonaws.com, UpdateAssumeRolePolicy is denied on the stack's own, catalog, CDK, service-linked and configured protected roles, and the function acts only for a RUNNING execution of its own state machines and re-discovers each role live before editing it",
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:cluster/*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:podidentityassociation/*/*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:addon/*/*/*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:fargateprofile/*/*/*]`,
      "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]",
    );
    acknowledge(
      f.role,
      "The authority check reads executions of the migration's own three state machines (execution names are run IDs chosen at start); cloudtrail:LookupEvents and eks:DescribeAddonConfiguration/DescribeAddonVersions support no resource-level permissions",
      ...["migration", "migration-finalize", "migration-rollback"].map(
        (suffix) =>
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${this.region}:<AWS::AccountId>:execution:${this.stackName}-${suffix}:*]`,
      ),
      "AwsSolutions-IAM5[Resource::*]",
    );
  }

  /** What the reconciler functions may do: read, write associations and add-ons, manage catalog roles. */
  private grantReconciler(functions: AutopilotFunction[], config: AutopilotConfig): void {
    const clusters = this.arn("eks", "cluster/*");
    const associations = this.arn("eks", "podidentityassociation/*/*");
    const addons = this.arn("eks", "addon/*/*/*");
    const statements = [
      new iam.PolicyStatement({ sid: "ListClusters", actions: ["eks:ListClusters"], resources: ["*"] }),
      new iam.PolicyStatement({
        sid: "ReadClustersAndAssociations",
        actions: [
          "eks:DescribeCluster",
          "eks:ListPodIdentityAssociations",
          "eks:ListAddons",
          "eks:DescribePodIdentityAssociation",
          "eks:DescribeAddon",
        ],
        resources: [clusters, associations, addons],
      }),
      new iam.PolicyStatement({
        sid: "WriteAssociations",
        actions: [
          "eks:CreatePodIdentityAssociation",
          "eks:UpdatePodIdentityAssociation",
          "eks:DeletePodIdentityAssociation",
          "eks:TagResource",
        ],
        resources: [clusters, associations],
      }),
      new iam.PolicyStatement({
        sid: "InstallAgent",
        actions: ["eks:CreateAddon"],
        resources: [clusters, addons],
      }),
      passRoleStatement(this, config),
      new iam.PolicyStatement({
        sid: "ReadRoles",
        actions: ["iam:ListRoles", "iam:GetRole", "iam:ListRoleTags"],
        resources: [`arn:${this.partition}:iam::${this.account}:role/*`],
      }),
      ...catalogRoleStatements(this),
      new iam.PolicyStatement({
        sid: "PublishEvents",
        actions: ["events:PutEvents"],
        resources: [this.bus.eventBusArn],
      }),
    ];
    for (const f of functions) {
      for (const s of statements) f.role.addToPolicy(s);
      acknowledge(
        f.role,
        "Clusters, associations and add-ons are created after deployment: the reconciler acts on every one of this account and region's, and nothing else. Roles: role/* only for reads of role metadata (iam:ListRoles/GetRole/ListRoleTags); writes only to the catalog roles by name, with the catalog permissions boundary",
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:cluster/*]`,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:podidentityassociation/*/*]`,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:${this.region}:<AWS::AccountId>:addon/*/*/*]`,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]",
      );
      acknowledge(
        f.role,
        "iam:PassRole to pods.eks.amazonaws.com only for roles under the template path and the catalog path: templates are created after deployment, and IAM paths cannot change after a role is created, so no role can be moved into them",
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role${config.templatePath}*]`,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role${CATALOG_ROLE_PATH}*]`,
      );
    }
  }
}
