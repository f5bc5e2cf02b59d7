import { randomUUID } from "node:crypto";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { WorkItem, WorkQueue } from "../app/ports.js";
import { AutopilotError } from "../core/errors.js";

/** SQS refused some entries of a batch; the trigger fails and is retried by its own source. */
export class EnqueueError extends AutopilotError {
  override name = "EnqueueError";
}

/** The body of a work item (the cluster name and, for logs, what asked; nothing else). */
export function workBody(item: WorkItem): string {
  return JSON.stringify({ clusterName: item.clusterName, trigger: item.trigger });
}

/**
 * The SQS FIFO work queue (shapes: botocore sqs/2012-11-05 SendMessageBatch):
 * MessageGroupId = cluster, so one cluster's items are handled one at a time, in order.
 */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(items: WorkItem[]): Promise<{ sent: number }> {
    const unique = [...new Map(items.map((i) => [i.clusterName, i])).values()];
    let sent = 0;
    for (let i = 0; i < unique.length; i += 10) {
      const batch = unique.slice(i, i + 10);
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((item, n) => ({
            Id: String(n),
            MessageBody: workBody(item),
            MessageGroupId: item.clusterName,
            // one id per send: the SDK's retries of this request never duplicate it; triggers
            // that pile up for one cluster are coalesced by the worker (see work-items.ts)
            MessageDeduplicationId: randomUUID(),
          })),
        }),
      );
      if (out.Failed && out.Failed.length > 0) {
        const first = out.Failed[0];
        throw new EnqueueError(
          `${out.Failed.length} work item(s) not enqueued: ${first?.Code ?? "?"} ${first?.Message ?? ""}`,
        );
      }
      sent += out.Successful?.length ?? 0;
    }
    return { sent };
  }
}
