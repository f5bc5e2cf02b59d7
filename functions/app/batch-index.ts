import type { IndexedCluster, IndexedRole, TemplateIndex } from "./ports.js";

/**
 * The template index as one worker invocation reads it. The reads every cluster of the batch
 * starts with (the index's build time, its roles and the batch's own cluster rows) are made once,
 * together, when the invocation starts, instead of three reads per cluster; every other read and
 * every write goes to the index itself.
 *
 * Why this is as fresh as a read per cluster: the read starts after the batch was received, so
 * after every trigger of the batch wrote the index and sent its item (iam-event refreshes a role,
 * then enqueues), and the clusters of a batch all start when it does. A cluster's row has one
 * writer, that cluster's worker (one FIFO group, one batch in flight per group). A write through
 * this view ends the shared copy of what it wrote: later reads of it go to the index.
 */
export async function readBatchIndex(
  index: TemplateIndex,
  clusterNames: readonly string[],
): Promise<TemplateIndex> {
  const [builtAt, roles, rows] = await Promise.all([
    index.builtAt(),
    index.roles(),
    index.clustersNamed(clusterNames),
  ]);
  return new BatchIndex(index, { builtAt, roles, rows: new Map(clusterNames.map((n) => [n, rows.get(n)])) });
}

interface Shared {
  builtAt: string | undefined;
  roles: IndexedRole[];
  /** every cluster of the batch; undefined: the index has no row for it */
  rows: Map<string, IndexedCluster | undefined>;
}

class BatchIndex implements TemplateIndex {
  /** the roles and build time read at the start; gone once a role is written through the view */
  private shared: Omit<Shared, "rows"> | undefined;
  private readonly rows: Shared["rows"];

  constructor(
    private readonly index: TemplateIndex,
    shared: Shared,
  ) {
    // an index never built is built by the first reconcile that needs it: no shared copy then
    this.shared = shared.builtAt ? { builtAt: shared.builtAt, roles: shared.roles } : undefined;
    this.rows = shared.rows;
  }

  async roles(): Promise<IndexedRole[]> {
    return this.shared ? structuredClone(this.shared.roles) : await this.index.roles();
  }
  async builtAt(): Promise<string | undefined> {
    return this.shared ? this.shared.builtAt : await this.index.builtAt();
  }
  async cluster(name: string): Promise<IndexedCluster | undefined> {
    if (this.rows.has(name)) return structuredClone(this.rows.get(name));
    return await this.index.cluster(name);
  }
  async clustersNamed(names: readonly string[]): Promise<Map<string, IndexedCluster>> {
    return await this.index.clustersNamed(names);
  }
  async role(name: string): Promise<IndexedRole | undefined> {
    return await this.index.role(name);
  }
  async clusters(): Promise<IndexedCluster[]> {
    return await this.index.clusters();
  }
  async putRole(role: IndexedRole): Promise<void> {
    this.shared = undefined;
    await this.index.putRole(role);
  }
  async deleteRole(name: string): Promise<void> {
    this.shared = undefined;
    await this.index.deleteRole(name);
  }
  async replaceRoles(roles: IndexedRole[], readAt: Date): Promise<void> {
    this.shared = undefined;
    await this.index.replaceRoles(roles, readAt);
  }
  async putCluster(cluster: IndexedCluster): Promise<void> {
    this.rows.delete(cluster.name);
    await this.index.putCluster(cluster);
  }
  async deleteCluster(name: string): Promise<void> {
    this.rows.delete(name);
    await this.index.deleteCluster(name);
  }
}
