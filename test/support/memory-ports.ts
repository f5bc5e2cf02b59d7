/**
 * In-memory implementations of the reconcile ports, for unit, regression and concurrency tests.
 * Every port call can pass through `gate` (e.g. fast-check's scheduler), so the state change of a
 * call happens when the scheduler lets it run: reads and writes of concurrent workers interleave.
 */
import type {
  ApplyOutcome,
  BudgetGrant,
  ClusterApi,
  DeletionBudget,
  HeldDeletion,
  IndexedCluster,
  IndexedRole,
  ReconcileSettings,
  RoleDirectory,
  TemplateIndex,
  WorkItem,
  WorkQueue,
} from "../../functions/app/ports.js";
import type { ReconcileClusterDeps } from "../../functions/app/reconcile-cluster.js";
import { budgetLimit, budgetWindow } from "../../functions/core/budget.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../../functions/core/model.js";
import { slotKey } from "../../functions/core/model.js";
import type { PlannedChange } from "../../functions/core/plan.js";
import { MANAGED_BY_VALUE, TAG } from "../../functions/core/tags.js";
import { ACCOUNT } from "./fleet.js";

/** Runs a port call; a scheduler may delay it to interleave concurrent callers. */
export type Gate = <T>(label: string, call: () => T | Promise<T>) => Promise<T>;
export const openGate: Gate = async (_label, call) => await call();

/** A write the fake EKS applied, with the association as it was before. */
export interface EksWrite {
  op: "create" | "update" | "delete";
  by: "automation" | "human";
  before?: AssociationInfo;
  after?: AssociationInfo;
}

let ids = 0;

/** EKS: clusters and their associations; 409 on a taken slot, 404 on a missing association. */
export class MemoryEks implements ClusterApi {
  readonly clusters = new Map<string, ClusterInfo>();
  readonly associations = new Map<string, AssociationInfo>();
  readonly writes: EksWrite[] = [];
  constructor(private readonly gate: Gate = openGate) {}

  listClusters() {
    return this.gate("eks.listClusters", () => [...this.clusters.keys()].sort());
  }
  describeCluster(name: string) {
    return this.gate("eks.describeCluster", () => {
      const c = this.clusters.get(name);
      return c ? structuredClone(c) : undefined;
    });
  }
  readAssociations(clusterName: string) {
    return this.gate("eks.readAssociations", () =>
      [...this.associations.values()]
        .filter((a) => a.clusterName === clusterName)
        .map((a) => structuredClone(a)),
    );
  }
  describeAssociation(clusterName: string, associationId: string) {
    return this.gate("eks.describeAssociation", () => {
      const a = this.associations.get(associationId);
      return a && a.clusterName === clusterName ? structuredClone(a) : undefined;
    });
  }
  ensureAgent() {
    return this.gate("eks.ensureAgent", () => false);
  }
  async apply(changes: PlannedChange[]): Promise<ApplyOutcome[]> {
    return await Promise.all(changes.map((c) => this.gate(`eks.${c.kind}`, () => this.applyOne(c))));
  }

  /** The slot's association, if any. */
  inSlot(s: { clusterName: string; namespace: string; serviceAccount: string }): AssociationInfo | undefined {
    return [...this.associations.values()].find((a) => slotKey(a) === slotKey(s));
  }

  /** A person (or another tool) creates, repoints or deletes an association directly. */
  human(op: "create" | "update" | "delete", a: AssociationInfo): void {
    const before = this.associations.get(a.associationId);
    if (op === "delete") this.associations.delete(a.associationId);
    else this.associations.set(a.associationId, structuredClone(a));
    this.writes.push({
      op,
      by: "human",
      ...(before ? { before } : {}),
      ...(op !== "delete" ? { after: a } : {}),
    });
  }

  private applyOne(c: PlannedChange): ApplyOutcome {
    if (c.kind === "delete") {
      const before = this.associations.get(c.actual.associationId);
      if (!before) return { change: c, status: "converged", associationId: c.actual.associationId };
      this.associations.delete(before.associationId);
      this.writes.push({ op: "delete", by: "automation", before });
      return { change: c, status: "done", associationId: before.associationId };
    }
    const d = c.desired;
    const tags = { [TAG.managedBy]: MANAGED_BY_VALUE, [TAG.source]: d.source };
    const existing = this.inSlot(d);
    const target = c.kind === "update" ? this.associations.get(c.actual.associationId) : existing;
    if (c.kind === "create" && existing) {
      // 409: converge only on a managed association, as apply.ts does
      if (existing.tags[TAG.managedBy] !== MANAGED_BY_VALUE || existing.ownerArn)
        return {
          change: c,
          status: "failed",
          error: "an association not managed by pod-identity-autopilot exists",
        };
    }
    if (target) {
      const after: AssociationInfo = {
        ...target,
        roleArn: d.roleArn,
        disableSessionTags: d.disableSessionTags,
        tags: { ...target.tags, ...tags },
      };
      if (d.targetRoleArn) after.targetRoleArn = d.targetRoleArn;
      else delete after.targetRoleArn;
      this.associations.set(target.associationId, after);
      this.writes.push({ op: "update", by: "automation", before: target, after });
      return {
        change: c,
        status: c.kind === "create" ? "converged" : "done",
        associationId: target.associationId,
      };
    }
    const id = `a-${String(++ids).padStart(17, "0")}`;
    const after: AssociationInfo = {
      clusterName: d.clusterName,
      namespace: d.namespace,
      serviceAccount: d.serviceAccount,
      associationId: id,
      associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/${d.clusterName}/${id}`,
      roleArn: d.roleArn,
      tags,
      disableSessionTags: d.disableSessionTags,
      ...(d.targetRoleArn ? { targetRoleArn: d.targetRoleArn } : {}),
    };
    this.associations.set(id, after);
    this.writes.push({ op: "create", by: "automation", after });
    return { change: c, status: "done", associationId: id };
  }
}

/** IAM: roles by name. */
export class MemoryIam implements RoleDirectory {
  readonly roles = new Map<string, RoleInfo>();
  readonly calls = { getRole: 0, readAll: 0 };
  constructor(private readonly gate: Gate = openGate) {}
  readRole(name: string) {
    return this.gate("iam.getRole", () => {
      this.calls.getRole++;
      const r = this.roles.get(name);
      return r ? structuredClone(r) : undefined;
    });
  }
  readAllRoles() {
    return this.gate("iam.readAll", () => {
      this.calls.readAll++;
      return [...this.roles.values()].map((r) => structuredClone(r));
    });
  }
  async ensureCatalogRoles() {
    return { created: [], updated: [], failed: [], findings: [] };
  }
}

/** The template index. */
export class MemoryIndex implements TemplateIndex {
  readonly roleItems = new Map<string, IndexedRole>();
  readonly clusterItems = new Map<string, IndexedCluster>();
  built?: string;
  constructor(private readonly gate: Gate = openGate) {}
  roles() {
    return this.gate("index.roles", () => [...this.roleItems.values()].map((r) => structuredClone(r)));
  }
  role(name: string) {
    return this.gate("index.role", () => structuredClone(this.roleItems.get(name)));
  }
  putRole(role: IndexedRole) {
    return this.gate("index.putRole", () => void this.roleItems.set(role.name, structuredClone(role)));
  }
  deleteRole(name: string) {
    return this.gate("index.deleteRole", () => void this.roleItems.delete(name));
  }
  replaceRoles(roles: IndexedRole[], readAt: Date) {
    return this.gate("index.replaceRoles", () => {
      const at = readAt.toISOString();
      const keep = new Set(roles.map((r) => r.name));
      // as the DynamoDB adapter: never over an item read later than the full read
      for (const r of roles) {
        const known = this.roleItems.get(r.name);
        if (!known || known.readAt < at) this.roleItems.set(r.name, structuredClone(r));
      }
      for (const [name, r] of [...this.roleItems])
        if (!keep.has(name) && r.readAt < at) this.roleItems.delete(name);
      this.built = at;
    });
  }
  builtAt() {
    return this.gate("index.builtAt", () => this.built);
  }
  clusters() {
    return this.gate("index.clusters", () => [...this.clusterItems.values()].map((c) => structuredClone(c)));
  }
  cluster(name: string) {
    return this.gate("index.cluster", () => structuredClone(this.clusterItems.get(name)));
  }
  clustersNamed(names: readonly string[]) {
    return this.gate("index.clustersNamed", () => {
      const rows = new Map<string, IndexedCluster>();
      for (const name of names) {
        const row = this.clusterItems.get(name);
        if (row) rows.set(name, structuredClone(row));
      }
      return rows;
    });
  }
  putCluster(c: IndexedCluster) {
    return this.gate("index.putCluster", () => void this.clusterItems.set(c.name, structuredClone(c)));
  }
  deleteCluster(name: string) {
    return this.gate("index.deleteCluster", () => void this.clusterItems.delete(name));
  }
}

/** The deletion budget: a conditional update is atomic here as in DynamoDB. */
export class MemoryBudget implements DeletionBudget {
  readonly windows = new Map<string, { limit: number; used: number }>();
  readonly items = new Map<string, HeldDeletion>();
  constructor(
    private readonly settings: { floor: number; fraction: number },
    private readonly gate: Gate = openGate,
  ) {}
  take(wanted: number, managed: number, now: Date): Promise<BudgetGrant> {
    return this.gate("budget.take", () => {
      const window = budgetWindow(now);
      const w = this.windows.get(window) ?? { limit: budgetLimit(managed, this.settings), used: 0 };
      this.windows.set(window, w);
      const granted = Math.max(0, Math.min(wanted, w.limit - w.used));
      w.used += granted;
      return { granted, limit: w.limit, used: w.used, window };
    });
  }
  held(clusterName?: string) {
    return this.gate("budget.held", () =>
      [...this.items.values()]
        .filter((h) => !clusterName || h.clusterName === clusterName)
        .map((h) => ({ ...h })),
    );
  }
  hold(items: HeldDeletion[]) {
    return this.gate("budget.hold", () => {
      for (const i of items) if (!this.items.has(i.id)) this.items.set(i.id, { ...i });
    });
  }
  decide(id: string, status: "approved" | "rejected") {
    return this.gate("budget.decide", () => {
      const h = this.items.get(id);
      if (!h) return undefined;
      h.status = status;
      return { ...h };
    });
  }
  release(id: string) {
    return this.gate("budget.release", () => void this.items.delete(id));
  }
  /** deletions drawn from the budget in every window */
  drawn(): number {
    return [...this.windows.values()].reduce((n, w) => n + w.used, 0);
  }
}

/** A FIFO work queue: groups by cluster, one message in flight per group, in order. */
export class MemoryQueue implements WorkQueue {
  readonly pending: { id: number; item: WorkItem; sentAt: number }[] = [];
  readonly inFlight = new Set<string>();
  private next = 0;
  constructor(private readonly now: () => number = () => 0) {}
  async enqueue(items: WorkItem[]) {
    for (const item of items) this.pending.push({ id: ++this.next, item, sentAt: this.now() });
    return { sent: items.length };
  }
  /** Every pending message of the first group not in flight (a batch), now in flight. */
  receive(): { item: WorkItem; sentAt: number[]; ids: number[] } | undefined {
    const first = this.pending.find((m) => !this.inFlight.has(m.item.clusterName));
    if (!first) return undefined;
    const group = first.item.clusterName;
    const batch = this.pending.filter((m) => m.item.clusterName === group).slice(0, 10);
    for (const m of batch) this.pending.splice(this.pending.indexOf(m), 1);
    this.inFlight.add(group);
    return { item: first.item, sentAt: batch.map((m) => m.sentAt), ids: batch.map((m) => m.id) };
  }
  /** Up to `groups` groups' batches at once, as one event of the event source mapping. */
  receiveBatch(groups = 10): { item: WorkItem; sentAt: number[]; ids: number[] }[] {
    const batch: { item: WorkItem; sentAt: number[]; ids: number[] }[] = [];
    for (let m = this.receive(); m; m = batch.length < groups ? this.receive() : undefined) batch.push(m);
    return batch;
  }
  /** A received batch as the worker's use case takes it: each cluster's message ids and send times. */
  static groups(batch: { item: WorkItem; sentAt: number[]; ids: number[] }[]) {
    return new Map(
      batch.map((m) => [m.item.clusterName, { messageIds: m.ids.map(String), sentAtMs: m.sentAt }]),
    );
  }
  /** Done: the group is free again. */
  ack(m: { item: WorkItem }): void {
    this.inFlight.delete(m.item.clusterName);
  }
  /** Failed or redelivered: back at the head of the queue, in order. */
  redeliver(m: { item: WorkItem; sentAt: number[]; ids: number[] }): void {
    this.inFlight.delete(m.item.clusterName);
    this.pending.unshift(...m.ids.map((id, i) => ({ id, item: m.item, sentAt: m.sentAt[i]! })));
  }
}

/** Settings of the worker in tests. */
export const SETTINGS: ReconcileSettings = {
  accountId: ACCOUNT,
  dryRun: false,
  adoptUnmanaged: false,
  installAgent: false,
  budget: { floor: 5, fraction: 0.1 },
};

/** A world of memory ports and the worker's deps over it. */
export function memoryWorld(gate: Gate = openGate, budget = SETTINGS.budget) {
  const eks = new MemoryEks(gate);
  const iam = new MemoryIam(gate);
  const index = new MemoryIndex(gate);
  const deletionBudget = new MemoryBudget(budget, gate);
  let clock = Date.parse("2026-11-23T12:00:00Z");
  const queue = new MemoryQueue(() => clock);
  const deps: ReconcileClusterDeps & { queue: MemoryQueue } = {
    clusters: eks,
    roles: iam,
    index,
    budget: deletionBudget,
    queue,
    publisher: { publish() {}, flush: async () => undefined },
    metrics: { count() {} },
    log: { info() {}, warn() {}, error() {} },
    now: () => new Date(clock),
  };
  return {
    eks,
    iam,
    index,
    budget: deletionBudget,
    queue,
    deps,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}
