import { BusyError, errorMessage } from "../core/errors.js";
import { readBatchIndex } from "./batch-index.js";
import type { ReconcileSettings, WorkQueue } from "./ports.js";
import { type ClusterResult, type ReconcileClusterDeps, reconcileCluster } from "./reconcile-cluster.js";

/** Clock skew allowed between SQS's SentTimestamp and the worker's clock. */
export const SKEW_MS = 2000;

/**
 * True when every item was sent before the last completed reconcile of its cluster started
 * (allowing for clock skew): that reconcile read the world after their triggers wrote, so they
 * ask for nothing new. This is how a burst of triggers for one cluster coalesces.
 */
export function alreadyCovered(sentAtMs: number[], reconciledFrom: string | undefined): boolean {
  if (!reconciledFrom || sentAtMs.length === 0) return false;
  const from = Date.parse(reconciledFrom);
  return sentAtMs.every((t) => Number.isFinite(t) && t < from - SKEW_MS);
}

/**
 * Handles the items of one cluster in a batch (FIFO: the group's earlier items are done):
 * acknowledged without work when already covered, else one reconcile for all of them.
 */
export async function handleClusterItems(
  deps: ReconcileClusterDeps,
  settings: ReconcileSettings,
  clusterName: string,
  sentAtMs: number[],
): Promise<{ status: "coalesced" } | { status: "reconciled"; result: ClusterResult }> {
  const row = await deps.index.cluster(clusterName);
  if (alreadyCovered(sentAtMs, row?.reconciledFrom)) return { status: "coalesced" };
  return { status: "reconciled", result: await reconcileCluster(deps, settings, clusterName) };
}

/** What the worker did with one cluster's items. */
export type ClusterWorkOutcome =
  | { status: "coalesced" }
  | { status: "reconciled"; result: ClusterResult }
  | { status: "requeued"; reason: string };

/**
 * {@link handleClusterItems}, and when another writer holds something the reconcile shares (a
 * catalog role's lease held by another cluster's worker) a fresh item for the cluster goes to the
 * back of its queue group and these items are done: the retry comes behind the queue, not after
 * the visibility timeout, and contention never counts towards the dead-letter queue.
 */
export async function handleClusterWork(
  deps: ReconcileClusterDeps & { queue: WorkQueue },
  settings: ReconcileSettings,
  clusterName: string,
  sentAtMs: number[],
): Promise<ClusterWorkOutcome> {
  try {
    return await handleClusterItems(deps, settings, clusterName, sentAtMs);
  } catch (error) {
    if (!(error instanceof BusyError)) throw error;
    await deps.queue.enqueue([{ clusterName, trigger: "requeue" }]);
    deps.log.warn("cluster requeued: a shared resource is busy", { clusterName, reason: error.message });
    return { status: "requeued", reason: error.message };
  }
}

/** The items of one cluster in a batch (from `groupWorkRecords`). */
export interface ClusterItems {
  messageIds: string[];
  sentAtMs: number[];
}

/** What the worker did with one batch. */
export interface WorkBatchResult {
  /** message ids to report as batchItemFailures (received again; FIFO holds the group's later items) */
  failures: string[];
  coalesced: number;
  requeued: number;
  outcomes: Map<string, ClusterWorkOutcome | { status: "failed"; error: string }>;
}

/**
 * One worker invocation: the index is read once for the whole batch ({@link readBatchIndex}),
 * then every cluster of the batch is handled at once ({@link handleClusterWork}); a cluster that
 * fails reports all its items as failures. An index that cannot be read fails every item: nothing
 * is planned from a read that did not happen.
 */
export async function handleWorkBatch(
  deps: ReconcileClusterDeps & { queue: WorkQueue },
  settings: ReconcileSettings,
  groups: ReadonlyMap<string, ClusterItems>,
): Promise<WorkBatchResult> {
  const result: WorkBatchResult = { failures: [], coalesced: 0, requeued: 0, outcomes: new Map() };
  const fail = (clusterName: string, items: ClusterItems, error: unknown) => {
    deps.log.error("reconcile failed", { clusterName, error: errorMessage(error) });
    result.failures.push(...items.messageIds);
    result.outcomes.set(clusterName, { status: "failed", error: errorMessage(error) });
  };
  if (groups.size === 0) return result;
  let index: Awaited<ReturnType<typeof readBatchIndex>>;
  try {
    index = await readBatchIndex(deps.index, [...groups.keys()]);
  } catch (error) {
    for (const [clusterName, items] of groups) fail(clusterName, items, error);
    return result;
  }
  const batchDeps = { ...deps, index };
  await Promise.all(
    [...groups].map(async ([clusterName, items]) => {
      try {
        const out = await handleClusterWork(batchDeps, settings, clusterName, items.sentAtMs);
        result.outcomes.set(clusterName, out);
        if (out.status === "coalesced") result.coalesced += items.messageIds.length;
        if (out.status === "requeued") result.requeued += items.messageIds.length;
      } catch (error) {
        fail(clusterName, items, error);
      }
    }),
  );
  return result;
}
