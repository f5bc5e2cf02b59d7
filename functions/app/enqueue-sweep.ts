import type { AdmissionPolicy } from "../core/admission.js";
import { computeDesired } from "../core/desired.js";
import { DETAIL_TYPES } from "../core/events.js";
import { countFindings } from "./finding-metrics.js";
import type {
  ClusterApi,
  Log,
  MetricsPort,
  Publisher,
  RoleDirectory,
  TemplateIndex,
  WorkQueue,
} from "./ports.js";
import { indexedRole, isIndexedRole } from "./template-roles.js";

/** What the scheduled sweep needs. */
export interface EnqueueSweepDeps {
  roles: RoleDirectory;
  index: TemplateIndex;
  clusters: ClusterApi;
  queue: WorkQueue;
  publisher: Publisher;
  metrics: MetricsPort;
  log: Log;
  now: () => Date;
}

/** What a sweep started. */
export interface SweepStarted {
  roles: number;
  templates: number;
  clusters: string[];
  enqueued: number;
}

/**
 * The schedule: rebuild the template index from one full IAM read, publish the templates'
 * findings once, and enqueue every cluster. Nothing of the read travels in the messages.
 */
export async function enqueueSweep(
  deps: EnqueueSweepDeps,
  accountId: string,
  admission?: AdmissionPolicy,
): Promise<SweepStarted> {
  // items carry the time the read started: older than anything an iam-event read meanwhile
  const now = deps.now();
  const [all, names, known] = await Promise.all([
    deps.roles.readAllRoles(),
    deps.clusters.listClusters(),
    deps.index.clusters(),
  ]);
  const kept = all.filter(isIndexedRole).map((r) => indexedRole(r, now));
  await deps.index.replaceRoles(kept, now);
  // a cluster the index knows but EKS does not list any more is enqueued too: its worker takes its
  // grants out of the shared catalog roles, then forgets it
  const live = new Set(names);
  const gone = known.map((c) => c.name).filter((name) => !live.has(name));
  const state = computeDesired({ clusters: [], roles: kept, accountId, ...(admission ? { admission } : {}) });
  for (const f of state.findings) deps.publisher.publish(DETAIL_TYPES.finding, { ...f });
  countFindings(deps.metrics, state.findings);
  await deps.publisher.flush();
  const clusters = [...new Set([...names, ...gone])].sort();
  const { sent } = await deps.queue.enqueue(
    clusters.map((clusterName) => ({ clusterName, trigger: "sweep" })),
  );
  deps.log.info("sweep enqueued", { roles: all.length, templates: kept.length, clusters: clusters.length });
  return { roles: all.length, templates: state.templates.length, clusters, enqueued: sent };
}
