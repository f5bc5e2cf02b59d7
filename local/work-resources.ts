import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";

/** Names of the work queue, its DLQ and the tables in the local account (the stack names its own). */
export const LOCAL_WORK = {
  queueName: "pod-identity-autopilot-work.fifo",
  dlqName: "pod-identity-autopilot-work-dlq.fifo",
  indexTable: "pod-identity-autopilot-template-index",
  budgetTable: "pod-identity-autopilot-deletion-budget",
  /** receives before a work item moves to the DLQ (the stack uses the same) */
  maxReceiveCount: 3,
} as const;

/** Environment the work-queue functions need, for a local account at `endpoint`. */
export function localWorkEnv(endpoint: string, accountId = "123456789012"): Record<string, string> {
  return {
    WORK_QUEUE_URL: `${endpoint}/${accountId}/${LOCAL_WORK.queueName}`,
    WORK_DLQ_URL: `${endpoint}/${accountId}/${LOCAL_WORK.dlqName}`,
    TEMPLATE_INDEX_TABLE: LOCAL_WORK.indexTable,
    DELETION_BUDGET_TABLE: LOCAL_WORK.budgetTable,
    // the account-wide pacing schedules live in the budget table, as in the stack
    PACING_TABLE: LOCAL_WORK.budgetTable,
  };
}

function clients(endpoint: string) {
  const common = {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
  return { sqs: new SQSClient(common), db: new DynamoDBClient(common) };
}

/**
 * Creates the SQS FIFO work queue (with a FIFO DLQ, redrive after 3 receives) and the two
 * DynamoDB tables in the local account (moto serves SQS and DynamoDB; the front proxies them).
 * Idempotent; called at start and after every reset. No delivery delay locally: replay drains
 * only after every event has been handled.
 */
export async function ensureWorkResources(endpoint: string): Promise<void> {
  const { sqs, db } = clients(endpoint);
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: LOCAL_WORK.dlqName, Attributes: { FifoQueue: "true" } }),
  );
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;
  await sqs.send(
    new CreateQueueCommand({
      QueueName: LOCAL_WORK.queueName,
      Attributes: {
        FifoQueue: "true",
        VisibilityTimeout: "60",
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: LOCAL_WORK.maxReceiveCount,
        }),
      },
    }),
  );
  for (const table of [LOCAL_WORK.indexTable, LOCAL_WORK.budgetTable]) {
    try {
      await db.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: "pk", AttributeType: "S" },
            { AttributeName: "sk", AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: "pk", KeyType: "HASH" },
            { AttributeName: "sk", KeyType: "RANGE" },
          ],
        }),
      );
      if (table === LOCAL_WORK.budgetTable)
        await db.send(
          new UpdateTimeToLiveCommand({
            TableName: table,
            TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
          }),
        );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  sqs.destroy();
  db.destroy();
}
