/**
 * What the clusters of a run ask of the catalog: per entry, the requesting clusters (ARN and
 * tags, for per-cluster grants) and the (cluster, namespace, service account) bindings its role
 * must trust; and which clusters the run speaks for (whose grants and bindings it may replace).
 */
import type { CatalogCluster } from "./catalog-policy.js";
import type { TrustBinding } from "./catalog-trust.js";
import type { DesiredState } from "./desired.js";

/** One entry's requests in a run. */
export interface CatalogRequest {
  clusters: CatalogCluster[];
  bindings: TrustBinding[];
}

/**
 * Requests per entry from a desired state. Covered clusters are the eligible and the opted-out
 * ones (an opted-out cluster loses its catalog access); a cluster that is not ACTIVE or whose
 * inventory failed is not covered, so what it had is kept.
 */
export function catalogRequests(state: Pick<DesiredState, "desired" | "clusters">): {
  requests: Map<string, CatalogRequest>;
  covered: Set<string>;
} {
  const requests = new Map<string, CatalogRequest>();
  const covered = new Set<string>();
  for (const c of state.clusters.values()) {
    if (c.eligible || c.settings.optOut) covered.add(c.cluster.arn);
  }
  for (const d of state.desired.values()) {
    if (!d.catalog) continue;
    const cluster = state.clusters.get(d.clusterName);
    if (!cluster?.eligible) continue;
    const request = requests.get(d.catalog) ?? { clusters: [], bindings: [] };
    if (!request.clusters.some((c) => c.arn === cluster.cluster.arn))
      request.clusters.push({
        arn: cluster.cluster.arn,
        name: cluster.cluster.name,
        tags: cluster.cluster.tags,
      });
    request.bindings.push({
      clusterArn: cluster.cluster.arn,
      namespace: d.namespace,
      serviceAccount: d.serviceAccount,
    });
    requests.set(d.catalog, request);
  }
  return { requests, covered };
}
