import { enqueueSweep } from "../../functions/app/enqueue-sweep.js";
import type { ReconcileSettings } from "../../functions/app/ports.js";
import type { ClusterResult } from "../../functions/app/reconcile-cluster.js";
import { refreshTemplate } from "../../functions/app/refresh-template.js";
import { handleWorkBatch } from "../../functions/app/work-items.js";
import { MemoryQueue, type memoryWorld, SETTINGS } from "./memory-ports.js";

type World = ReturnType<typeof memoryWorld>;

/**
 * Drains the memory queue with `workers` concurrent workers, each taking batches of up to
 * `groups` clusters (one batch in flight per cluster, as the FIFO event source mapping delivers
 * them) through the worker's use case; returns every cluster result. A failed item is redelivered
 * and fails the drain.
 */
export async function drainMemory(
  world: World,
  workers = 4,
  settings: ReconcileSettings = SETTINGS,
  groups = 3,
) {
  const results: ClusterResult[] = [];
  const worker = async () => {
    for (;;) {
      const batch = world.queue.receiveBatch(groups);
      if (batch.length === 0) {
        if (world.queue.inFlight.size === 0 && world.queue.pending.length === 0) return;
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const out = await handleWorkBatch(world.deps, settings, MemoryQueue.groups(batch));
      for (const m of batch) {
        const outcome = out.outcomes.get(m.item.clusterName);
        if (outcome?.status === "reconciled") results.push(outcome.result);
        if (outcome?.status === "failed") {
          world.queue.redeliver(m);
          throw new Error(`${m.item.clusterName}: ${outcome.error}`);
        }
        world.queue.ack(m);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return results;
}

/** The schedule's flow: rebuild the index, enqueue every cluster, drain. */
export async function sweep(world: World, workers = 4, settings: ReconcileSettings = SETTINGS) {
  world.advance(60_000);
  await enqueueSweep(world.deps, settings.accountId);
  return await drainMemory(world, workers, settings);
}

/** An IAM event for `roleName` (the refresh reads IAM; the event carries nothing else). */
export async function iamEvent(world: World, roleName: string, settings: ReconcileSettings = SETTINGS) {
  return await refreshTemplate(world.deps, settings.accountId, roleName);
}

/** Slots of a cluster as `ns/sa`. */
export function slotsOf(world: World, cluster: string): string[] {
  return [...world.eks.associations.values()]
    .filter((a) => a.clusterName === cluster)
    .map((a) => `${a.namespace}/${a.serviceAccount}`)
    .sort();
}
