import { z } from "zod";

/** EKS cluster names: 1–100 characters, `^[0-9A-Za-z][A-Za-z0-9\-_]*` (botocore eks CreateCluster). */
export const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/** The fields of an SQS event record the worker uses (shape: Lambda's SQS event, `aws-lambda` SQSRecord). */
const recordSchema = z
  .object({
    messageId: z.string().min(1),
    body: z.string(),
    attributes: z
      .object({ MessageGroupId: z.string().optional(), SentTimestamp: z.string().optional() })
      .loose(),
    eventSource: z.literal("aws:sqs"),
  })
  .loose();
export const sqsEventSchema = z.object({ Records: z.array(recordSchema) }).loose();
export type WorkRecord = z.infer<typeof recordSchema>;

const bodySchema = z
  .object({
    clusterName: z.string().regex(CLUSTER_NAME),
    trigger: z.enum(["cluster-event", "iam-event", "sweep", "operator", "requeue"]).optional(),
  })
  .strict();

/**
 * Groups records by cluster (in order), so each cluster is reconciled once per batch; a record
 * whose body is not a work item, or whose group is not its cluster, is rejected with a reason.
 */
export function groupWorkRecords(records: WorkRecord[]): {
  groups: Map<string, { messageIds: string[]; sentAtMs: number[] }>;
  rejected: { messageId: string; reason: string }[];
} {
  const groups = new Map<string, { messageIds: string[]; sentAtMs: number[] }>();
  const rejected: { messageId: string; reason: string }[] = [];
  for (const r of records) {
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      rejected.push({ messageId: r.messageId, reason: "body is not JSON" });
      continue;
    }
    const item = bodySchema.safeParse(body);
    if (!item.success) {
      rejected.push({
        messageId: r.messageId,
        reason: `not a work item: ${z.prettifyError(item.error).slice(0, 200)}`,
      });
      continue;
    }
    const group = r.attributes.MessageGroupId;
    if (group !== undefined && group !== item.data.clusterName) {
      rejected.push({
        messageId: r.messageId,
        reason: `message group ${group} is not cluster ${item.data.clusterName}`,
      });
      continue;
    }
    const g = groups.get(item.data.clusterName) ?? { messageIds: [], sentAtMs: [] };
    g.messageIds.push(r.messageId);
    g.sentAtMs.push(Number(r.attributes.SentTimestamp ?? Number.NaN));
    groups.set(item.data.clusterName, g);
  }
  return { groups, rejected };
}
