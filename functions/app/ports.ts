/**
 * Ports of the reconcile use cases: what they need from the world, as interfaces. Adapters over
 * the AWS SDK live in functions/aws/; tests substitute in-memory ones. Nothing here imports a client.
 */
import type { AdmissionPolicy } from "../core/admission.js";
import type { CatalogRequest } from "../core/catalog-requests.js";
import type { Finding } from "../core/findings.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../core/model.js";
import type { PlannedChange } from "../core/plan.js";

/** One unit of work on the queue: reconcile this cluster. Nothing else travels with it. */
export interface WorkItem {
  clusterName: string;
  /** what asked for it (logs only; never authority) */
  trigger: "cluster-event" | "iam-event" | "sweep" | "operator" | "requeue";
}

/**
 * The SQS FIFO work queue: `MessageGroupId` = cluster (one item of a cluster at a time); an item
 * sent before the start of a completed reconcile of its cluster is coalesced by the worker.
 */
export interface WorkQueue {
  enqueue(items: WorkItem[]): Promise<{ sent: number }>;
}

/** A role as the template index keeps it: what IAM said, and when it was read. */
export interface IndexedRole extends RoleInfo {
  /** ISO time of the IAM read that produced this item */
  readAt: string;
}

/** A cluster as the index remembers it (written by the worker after DescribeCluster). */
export interface IndexedCluster {
  name: string;
  arn: string;
  tags: Record<string, string>;
  status: string;
  /** managed associations of the cluster by source role (the pod-identity/source tag) */
  managedBySource: Record<string, number>;
  readAt: string;
  /** when the last completed reconcile of the cluster started (its reads all came after) */
  reconciledFrom?: string;
}

/**
 * The template index (DynamoDB): template roles (any `pod-identity/` tag, or the catalog path),
 * and per cluster the managed associations by source role. Kept current by iam-event (one role,
 * re-read from IAM) and rebuilt by each sweep.
 */
export interface TemplateIndex {
  roles(): Promise<IndexedRole[]>;
  role(name: string): Promise<IndexedRole | undefined>;
  putRole(role: IndexedRole): Promise<void>;
  deleteRole(name: string): Promise<void>;
  /** replaces every role item with `roles` (the sweep's full read) and records when */
  replaceRoles(roles: IndexedRole[], readAt: Date): Promise<void>;
  /** when the roles were last rebuilt from a full read; undefined for an index never built */
  builtAt(): Promise<string | undefined>;
  clusters(): Promise<IndexedCluster[]>;
  cluster(name: string): Promise<IndexedCluster | undefined>;
  /** the rows of the named clusters (absent when the index has none), in as few reads as it can */
  clustersNamed(names: readonly string[]): Promise<Map<string, IndexedCluster>>;
  putCluster(cluster: IndexedCluster): Promise<void>;
  deleteCluster(name: string): Promise<void>;
}

/** Outcome of drawing on the deletion budget. */
export interface BudgetGrant {
  granted: number;
  limit: number;
  used: number;
  window: string;
}

/** A deletion the budget did not cover, held for an operator. */
export interface HeldDeletion {
  /** `<cluster>/<associationId>` */
  id: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  associationId: string;
  roleArn: string;
  source?: string;
  reason: string;
  heldAt: string;
  status: "held" | "approved" | "rejected";
}

/** The account-wide deletion budget (DynamoDB, atomic conditional updates) and its held deletions. */
export interface DeletionBudget {
  /** takes up to `wanted` deletions from the current window's budget; `managed` sizes the window's limit */
  take(wanted: number, managed: number, now: Date): Promise<BudgetGrant>;
  held(clusterName?: string): Promise<HeldDeletion[]>;
  hold(items: HeldDeletion[]): Promise<void>;
  /** operator decision; the caller enqueues the cluster so the worker acts on it */
  decide(id: string, status: "approved" | "rejected"): Promise<HeldDeletion | undefined>;
  release(id: string): Promise<void>;
}

/** EKS as the worker sees it. */
export interface ClusterApi {
  listClusters(): Promise<string[]>;
  describeCluster(name: string): Promise<ClusterInfo | undefined>;
  readAssociations(clusterName: string): Promise<AssociationInfo[]>;
  describeAssociation(clusterName: string, associationId: string): Promise<AssociationInfo | undefined>;
  apply(changes: PlannedChange[]): Promise<ApplyOutcome[]>;
  ensureAgent(clusterName: string): Promise<boolean>;
}

/** Outcome of one applied change. */
export interface ApplyOutcome {
  change: PlannedChange;
  status: "done" | "converged" | "failed";
  associationId?: string;
  error?: string;
}

/** What ensuring the shared catalog roles did. */
export interface CatalogRolesResult {
  created: string[];
  updated: string[];
  failed: { name: string; error: string }[];
  findings: Finding[];
}

/** IAM reads: one role, or every role with tags and trust (GetAccountAuthorizationDetails). */
export interface RoleDirectory {
  /** undefined when the role does not exist */
  readRole(name: string): Promise<RoleInfo | undefined>;
  readAllRoles(): Promise<RoleInfo[]>;
  /**
   * brings the shared catalog roles up to what `requests` ask, and the `existing` entries' roles
   * nobody here asks for any more; only `covered` clusters' grants change
   */
  ensureCatalogRoles(
    accountId: string,
    partition: string,
    requests: Map<string, CatalogRequest>,
    covered: Set<string>,
    existing?: readonly string[],
  ): Promise<CatalogRolesResult>;
}

/** Product events and findings. */
export interface Publisher {
  publish(detailType: string, detail: Record<string, unknown>): void;
  flush(): Promise<unknown>;
}

/** Metrics the use cases emit (Powertools Metrics behind it). */
export interface MetricsPort {
  count(name: string, value: number): void;
}

/** A structured logger (Powertools Logger fits). */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Settings of the reconcile worker, from the deployment (never from a payload). */
export interface ReconcileSettings {
  accountId: string;
  dryRun: boolean;
  adoptUnmanaged: boolean;
  installAgent: boolean;
  budget: { floor: number; fraction: number };
  /** the stack's template and cluster admission (default: DEFAULT_ADMISSION) */
  admission?: AdmissionPolicy;
}

/** Findings are plain data; re-exported for the use cases. */
export type { Finding };
