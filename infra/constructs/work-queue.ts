import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../../functions/core/metrics-names.js";
import { acknowledge } from "../nag.js";
import { countAlarm } from "./alarm.js";
import type { AutopilotFunction } from "./autopilot-function.js";

/** Props of the reconcile work queue. */
export interface WorkQueueProps {
  /** the queues' key */
  key: kms.IKey;
  /** the tables' key (one key per data class) */
  tableKey: kms.IKey;
  alarmTopic: sns.ITopic;
  /** the worker's timeout: the queue's visibility timeout is six times it (AWS guidance for SQS sources) */
  workerTimeout: Duration;
}

/**
 * The execution model of issue 10: an SQS FIFO work queue of "reconcile cluster C" items
 * (MessageGroupId = cluster, KMS-encrypted, a FIFO DLQ after 3 receives with an alarm), the
 * template index table and the deletion budget table (customer-managed key, PITR), and an alarm
 * on deletions held by the budget. `connect` wires the worker and the producers.
 */
export class WorkQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly index: dynamodb.TableV2;
  readonly budget: dynamodb.TableV2;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const encryption = sqs.QueueEncryption.KMS;
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetters", {
      fifo: true,
      encryption,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      "This is the work queue's dead-letter queue (it alarms); a DLQ has no DLQ of its own",
      "AwsSolutions-SQS3",
      "Serverless::Serverless-SQSRedrivePolicy",
    );
    this.queue = new sqs.Queue(this, "Queue", {
      fifo: true,
      contentBasedDeduplication: false,
      encryption,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });
    const table = (tableId: string, ttl?: string) =>
      new dynamodb.TableV2(this, tableId, {
        partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
        sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.tableKey),
        removalPolicy: RemovalPolicy.RETAIN,
        ...(ttl ? { timeToLiveAttribute: ttl } : {}),
      });
    this.index = table("TemplateIndex");
    this.budget = table("DeletionBudget", "expiresAt");

    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric) =>
      this.alarms.push(countAlarm(this, alarmId, props.alarmTopic, description, metric));
    alarm(
      "WorkDeadLetters",
      "Reconcile work items failed three times: a cluster is not being reconciled",
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
    );
    alarm(
      "DeletionsHeld",
      "The account-wide deletion budget held deletions: approve or reject them (podid deletions list)",
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: "DeletionsHeld",
        dimensionsMap: { service: METRICS_SERVICE },
        statistic: "Sum",
        period: Duration.minutes(5),
      }),
    );
  }

  /** The functions' environment: where the queue and the tables are. */
  get environment(): Record<string, string> {
    return {
      WORK_QUEUE_URL: this.queue.queueUrl,
      TEMPLATE_INDEX_TABLE: this.index.tableName,
      DELETION_BUDGET_TABLE: this.budget.tableName,
      // the account-wide pacing schedules are items `pk = pacing` of the budget table
      PACING_TABLE: this.budget.tableName,
    };
  }

  /**
   * Lets a function take slots of the account-wide pacing schedules (functions/aws/shared-pacing.ts):
   * UpdateItem on the budget table's items whose partition key is `pacing`, nothing else of it.
   */
  grantPacing(f: AutopilotFunction): void {
    f.role.addToPolicy(
      new iam.PolicyStatement({
        sid: "TakePacingSlots",
        actions: ["dynamodb:UpdateItem"],
        resources: [this.budget.tableArn],
        conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["pacing"] } },
      }),
    );
    this.budget.encryptionKey?.grantEncryptDecrypt(f.role);
  }

  /**
   * The worker consumes the queue (event source mapping with partial batch failures) and owns the
   * tables; producers send items; iam-event and the sweeper write the index; everyone reads roles
   * with GetAccountAuthorizationDetails (no resource-level permission exists for it).
   */
  connect(worker: AutopilotFunction, producers: AutopilotFunction[]): void {
    worker.fn.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
    acknowledge(
      worker.fn,
      "An SQS event source sends failed items to the queue's redrive DLQ (3 receives, alarmed); on-failure destinations apply to stream sources",
      "Serverless::Serverless-LambdaEventSourceMappingDestination",
    );
    for (const f of [worker, ...producers]) {
      this.queue.grantSendMessages(f.role);
      this.index.grantReadWriteData(f.role);
      f.role.addToPolicy(
        new iam.PolicyStatement({
          sid: "ReadAllRolesInOneCall",
          actions: ["iam:GetAccountAuthorizationDetails"],
          resources: ["*"],
        }),
      );
      acknowledge(
        f.role,
        "iam:GetAccountAuthorizationDetails supports no resource-level permissions; the index tables' grants include their indexes",
        "AwsSolutions-IAM5[Resource::*]",
      );
    }
    this.budget.grantReadWriteData(worker.role);
    for (const f of producers) this.grantPacing(f);
  }
}
