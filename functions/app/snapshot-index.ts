import type { IndexedCluster, IndexedRole, TemplateIndex } from "./ports.js";

/** A write to a read-only index: a dry run that tried to change something (a bug, never input). */
export class ReadOnlyIndexError extends Error {
  override name = "ReadOnlyIndexError";
}

/**
 * A template index over one full IAM read, in memory and read-only: what a dry run plans from,
 * so a plan from a workstation reads IAM itself instead of trusting (or needing) the stack's table.
 */
export class SnapshotIndex implements TemplateIndex {
  private readonly byName: Map<string, IndexedRole>;

  constructor(
    roles: readonly IndexedRole[],
    private readonly readAt: Date,
  ) {
    this.byName = new Map(roles.map((r) => [r.name, r]));
  }

  async roles(): Promise<IndexedRole[]> {
    return [...this.byName.values()].map((r) => structuredClone(r));
  }
  async role(name: string): Promise<IndexedRole | undefined> {
    const role = this.byName.get(name);
    return role && structuredClone(role);
  }
  async builtAt(): Promise<string | undefined> {
    return this.readAt.toISOString();
  }
  async clusters(): Promise<IndexedCluster[]> {
    return [];
  }
  async cluster(): Promise<IndexedCluster | undefined> {
    return undefined;
  }
  async clustersNamed(): Promise<Map<string, IndexedCluster>> {
    return new Map();
  }
  putRole(): Promise<void> {
    return this.refuse("putRole");
  }
  deleteRole(): Promise<void> {
    return this.refuse("deleteRole");
  }
  replaceRoles(): Promise<void> {
    return this.refuse("replaceRoles");
  }
  putCluster(): Promise<void> {
    return this.refuse("putCluster");
  }
  deleteCluster(): Promise<void> {
    return this.refuse("deleteCluster");
  }

  private async refuse(operation: string): Promise<never> {
    throw new ReadOnlyIndexError(`the snapshot index is read-only (${operation} in a dry run)`);
  }
}
