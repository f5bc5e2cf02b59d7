import { enqueueSweep } from "../../functions/app/enqueue-sweep.js";
import type { ReconcileSettings } from "../../functions/app/ports.js";
import type { ClusterResult } from "../../functions/app/reconcile-cluster.js";
import { refreshTemplate } from "../../functions/app/refresh-template.js";
import { handleClusterItems } from "../../functions/app/work-items.js";
import { type memoryWorld, SETTINGS } from "./memory-ports.js";

type World = ReturnType<typeof memoryWorld>;

/**
 * Drains the memory queue with `workers` concurrent workers (one message in flight per cluster,
 * as the FIFO event source mapping delivers them); returns every cluster result.
 */
export async function drainMemory(world: World, workers = 4, settings: ReconcileSettings = SETTINGS) {
  const results: ClusterResult[] = [];
  const worker = async () => {
    for (;;) {
      const m = world.queue.receive();
      if (!m) {
        if (world.queue.inFlight.size === 0 && world.queue.pending.length === 0) return;
        await new Promise((r) => setImmediate(r));
        continue;
      }
      try {
        const out = await handleClusterItems(world.deps, settings, m.item.clusterName, m.sentAt);
        if (out.status === "reconciled") results.push(out.result);
        world.queue.ack(m);
      } catch (error) {
        world.queue.redeliver(m);
        throw error;
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
