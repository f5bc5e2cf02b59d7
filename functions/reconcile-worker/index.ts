import type { SQSBatchResponse } from "aws-lambda";
import { handleWorkBatch } from "../app/work-items.js";
import { groupWorkRecords, sqsEventSchema } from "../app/work-records.js";
import { createWorkRuntime, type WorkRuntime } from "../aws/work-runtime.js";

let runtime: WorkRuntime | undefined;

/**
 * The queue worker (SQS event source mapping, ReportBatchItemFailures): one read of the index for
 * the batch, one reconcile per cluster in it, however many items named it, none when a completed reconcile already started after
 * they were sent; a cluster whose shared resource is busy is requeued; a cluster that fails reports
 * all its items as failures (FIFO: its later items wait); malformed items are acknowledged with a
 * logged reason.
 */
export const handler = async (event: unknown): Promise<SQSBatchResponse> => {
  runtime ??= createWorkRuntime();
  const rt = runtime;
  const parsed = sqsEventSchema.safeParse(event);
  if (!parsed.success) {
    rt.base.logger.warn("event rejected: not an SQS batch");
    return { batchItemFailures: [] };
  }
  const { groups, rejected } = groupWorkRecords(parsed.data.Records);
  for (const r of rejected) rt.base.logger.warn("work item rejected", { ...r });
  const settings = await rt.settings();
  const { failures, coalesced, requeued } = await handleWorkBatch(rt.deps, settings, groups);
  rt.deps.metrics.count("WorkItemsRejected", rejected.length);
  rt.deps.metrics.count("WorkItemsCoalesced", coalesced);
  rt.deps.metrics.count("WorkItemsRequeued", requeued);
  rt.deps.metrics.count("WorkItemsFailed", failures.length);
  await rt.deps.publisher.flush();
  rt.base.metrics.publishStoredMetrics();
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};
