import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** The worker as the event source mapping invokes it. */
export type WorkerHandler = (
  event: { Records: SqsRecord[] },
  context: Record<string, unknown>,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/** An SQS event record as Lambda delivers it (shape: a real SQS event, `aws-lambda` SQSRecord). */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, never>;
  md5OfBody: string;
  eventSource: "aws:sqs";
  eventSourceARN: string;
  awsRegion: string;
}

/** What a drain did. */
export interface DrainResult {
  invocations: number;
  messages: number;
  /** items the worker reported as failed (each is received again, up to the redrive limit) */
  failedItems: number;
  /** the worker threw: the whole batch is received again */
  failedInvocations: number;
  /** messages in the DLQ after the drain */
  deadLettered: number;
  clusters: string[];
}

/**
 * Drains a FIFO work queue as Lambda's event source mapping does: receives batches of up to 10,
 * never more than one batch in flight per message group, invokes the worker, deletes what it
 * handled and makes its batchItemFailures visible again (SQS moves them to the DLQ after
 * maxReceiveCount receives). Ends when the queue and its in-flight messages are empty.
 */
export async function drainQueue(options: {
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl?: string;
  worker: WorkerHandler;
  pollers?: number;
  region?: string;
  /** seconds a received batch stays invisible (default 60; the stack uses six times the worker's timeout) */
  visibilityTimeout?: number;
  /**
   * the drain polls from the start, as the event source mapping always does, and ends only once
   * this has settled (the enqueue it drains) and the queue is empty
   */
  until?: Promise<unknown>;
}): Promise<DrainResult> {
  const { sqs, queueUrl } = options;
  const arn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;
  const result: DrainResult = {
    invocations: 0,
    messages: 0,
    failedItems: 0,
    failedInvocations: 0,
    deadLettered: 0,
    clusters: [],
  };
  let enqueued = options.until === undefined;
  const settle = () => {
    enqueued = true;
  };
  options.until?.then(settle, settle);
  const clusters = new Set<string>();
  const inFlight = new Set<string>();
  /** pollers waiting for an in-flight batch to end */
  const ended: (() => void)[] = [];
  const remaining = async () => {
    const a = (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      )
    ).Attributes;
    return (
      Number(a?.ApproximateNumberOfMessages ?? 0) +
      Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a?.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  };
  const release = (m: Message) =>
    sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: m.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  const poll = async (): Promise<void> => {
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ["All"],
          VisibilityTimeout: options.visibilityTimeout ?? 60,
        }),
      );
      const received = out.Messages ?? [];
      if (received.length === 0) {
        if (enqueued && inFlight.size === 0 && (await remaining()) === 0) return;
        // while batches are in flight, new messages come from their end (failures made visible,
        // items they enqueue): wait for one to end, at most 250 ms, rather than spin every 20 ms
        // (the event source mapping long-polls; a spin costs the workers CPU)
        await new Promise((r) => {
          const timer = setTimeout(r, inFlight.size > 0 ? 250 : 20);
          ended.push(() => {
            clearTimeout(timer);
            r(undefined);
          });
        });
        continue;
      }
      // one batch in flight per group: a group another poller holds goes back to the queue
      const mine: Message[] = [];
      const groups = new Set<string>();
      for (const m of received) {
        const g = m.Attributes?.MessageGroupId ?? "";
        if (inFlight.has(g) && !groups.has(g)) await release(m);
        else {
          groups.add(g);
          mine.push(m);
        }
      }
      for (const g of groups) inFlight.add(g);
      try {
        await invoke(mine);
      } finally {
        for (const g of groups) inFlight.delete(g);
        for (const wake of ended.splice(0)) wake();
      }
    }
  };
  const invoke = async (messages: Message[]) => {
    if (messages.length === 0) return;
    result.invocations++;
    result.messages += messages.length;
    for (const m of messages) clusters.add(m.Attributes?.MessageGroupId ?? "");
    const records: SqsRecord[] = messages.map((m) => ({
      messageId: m.MessageId ?? "",
      receiptHandle: m.ReceiptHandle ?? "",
      body: m.Body ?? "",
      attributes: { ...(m.Attributes ?? {}) },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: arn ?? "",
      awsRegion: options.region ?? "us-east-1",
    }));
    let failed: Set<string>;
    try {
      const response = await options.worker({ Records: records }, lambdaContext("reconcile-worker"));
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      result.failedInvocations++;
      failed = new Set(records.map((r) => r.messageId));
    }
    result.failedItems += failed.size;
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
    if (done.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    for (const m of messages.filter((m) => failed.has(m.MessageId ?? ""))) await release(m);
  };
  await Promise.all(Array.from({ length: options.pollers ?? 4 }, () => poll()));
  if (options.dlqUrl) {
    const a = (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: options.dlqUrl,
          AttributeNames: ["ApproximateNumberOfMessages"],
        }),
      )
    ).Attributes;
    result.deadLettered = Number(a?.ApproximateNumberOfMessages ?? 0);
  }
  result.clusters = [...clusters].sort();
  return result;
}

/** A Lambda context object as the runtime passes it (the fields handlers read). */
export function lambdaContext(functionName: string): Record<string, unknown> {
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 900_000,
  };
}
