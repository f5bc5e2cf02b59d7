import { randomUUID } from "node:crypto";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import pLimit from "p-limit";
import type { WorkItem, WorkQueue } from "../app/ports.js";
import { AutopilotError } from "../core/errors.js";

/** SendMessageBatch requests in flight at once (a sweep of 2,000 clusters is 200 batches). */
const SEND_CONCURRENCY = 8;

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

  /**
   * Sends in batches of ten, several batches at once: each cluster is in one batch only (items
   * are unique by cluster), so no group's order depends on which batch lands first. Every batch is
   * tried; an entry SQS refused fails the call afterwards (the trigger retries; a second item for
   * a cluster is coalesced by the worker).
   */
  async enqueue(items: WorkItem[]): Promise<{ sent: number }> {
    const unique = [...new Map(items.map((i) => [i.clusterName, i])).values()];
    const batches = Array.from({ length: Math.ceil(unique.length / 10) }, (_, b) =>
      unique.slice(b * 10, b * 10 + 10),
    );
    const limit = pLimit(SEND_CONCURRENCY);
    const outs = await Promise.all(
      batches.map((batch) =>
        limit(() =>
          this.sqs.send(
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
          ),
        ),
      ),
    );
    const failed = outs.flatMap((out) => out.Failed ?? []);
    if (failed.length > 0) {
      const first = failed[0];
      throw new EnqueueError(
        `${failed.length} work item(s) not enqueued: ${first?.Code ?? "?"} ${first?.Message ?? ""}`,
      );
    }
    return { sent: outs.reduce((n, out) => n + (out.Successful?.length ?? 0), 0) };
  }
}
