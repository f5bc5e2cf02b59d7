import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { z } from "zod";
import type { MetricsPort, ReconcileSettings } from "../app/ports.js";
import type { ReconcileClusterDeps } from "../app/reconcile-cluster.js";
import { DEFAULT_BUDGET } from "../core/budget.js";
import { admissionFromEnv } from "./admission-settings.js";
import type { ApplyOptions } from "./apply.js";
import { type AwsClients, endpointSettings, isLocalRun } from "./clients.js";
import { EksClusterApi } from "./cluster-api.js";
import { DynamoDeletionBudget } from "./deletion-budget.js";
import { DynamoLeases, dynamoRoleLock, type LeaseOptions, type RoleLock } from "./leases.js";
import { pacingEnvSchema } from "./pacing.js";
import { iamRoleCheck } from "./role-check.js";
import { IamRoleDirectory } from "./role-directory.js";
import { createRuntime, type Runtime } from "./runtime.js";
import { pacedClients } from "./shared-pacing.js";
import { DynamoTemplateIndex } from "./template-index.js";
import { WorkConfigurationError } from "./work-errors.js";
import { SqsWorkQueue } from "./work-queue.js";

/**
 * Catalog role leases (in the template index table): an edit is a dozen paced IAM calls, so a
 * minute covers it; a worker waits up to 20 s for another's edit, then its item is retried.
 */
export const CATALOG_LEASE: LeaseOptions = {
  seconds: 60,
  waitMs: 20_000,
  now: () => new Date(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** The worker's lock of catalog roles: leases in the template index table. */
export function catalogRoleLock(
  db: DynamoDBClient,
  indexTable: string,
  options: LeaseOptions = CATALOG_LEASE,
): RoleLock {
  return dynamoRoleLock(new DynamoLeases(db, indexTable), "reconcile-worker", options);
}

/**
 * The reconcile use cases' EKS, IAM and DynamoDB adapters, wired as deployed: a role EKS cannot
 * see yet is retried only while IAM says it is propagation, and catalog roles, shared by clusters
 * whose workers run at once, have one writer per role (the lease).
 */
export function reconcileAdapters(
  clients: Pick<AwsClients, "eks" | "iam">,
  db: DynamoDBClient,
  tables: { index: string; budget: string },
  options: { accountId?: string; budget: { floor: number; fraction: number }; apply?: Partial<ApplyOptions> },
) {
  return {
    clusters: new EksClusterApi(clients.eks, {
      roleCheck: iamRoleCheck(clients.iam, options.accountId),
      ...options.apply,
    }),
    roles: new IamRoleDirectory(clients.iam, catalogRoleLock(db, tables.index)),
    index: new DynamoTemplateIndex(db, tables.index),
    budget: new DynamoDeletionBudget(db, tables.budget, options.budget),
  };
}

/** Environment of the work-queue functions (validated once per cold start). */
export const workEnvSchema = z.object({
  WORK_QUEUE_URL: z.string().min(1),
  TEMPLATE_INDEX_TABLE: z.string().min(1),
  DELETION_BUDGET_TABLE: z.string().min(1),
  DELETION_BUDGET_FLOOR: z.coerce.number().int().min(0).default(DEFAULT_BUDGET.floor),
  DELETION_BUDGET_FRACTION: z.coerce.number().min(0).max(1).default(DEFAULT_BUDGET.fraction),
  ...pacingEnvSchema.shape,
});
export type WorkEnv = z.infer<typeof workEnvSchema>;

/** The use cases' metrics port over Powertools Metrics (counts, the runtime's namespace and service). */
export function metricsPort(metrics: Metrics): MetricsPort {
  return { count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value) };
}

/** Ports and settings of the work-queue use cases, built once per execution environment. */
export interface WorkRuntime {
  base: Runtime;
  env: WorkEnv;
  deps: ReconcileClusterDeps & { queue: SqsWorkQueue };
  settings: () => Promise<ReconcileSettings>;
}

/** Builds the work runtime; a bad configuration is a readable error at cold start. */
export function createWorkRuntime(source: NodeJS.ProcessEnv = process.env): WorkRuntime {
  const base = createRuntime(source);
  const parsed = workEnvSchema.safeParse(source);
  if (!parsed.success)
    throw new WorkConfigurationError(`invalid function configuration: ${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  // endpoint overrides count only locally (PODID_LOCAL=1), as for every other client
  const common = {
    region: source.AWS_REGION ?? source.AWS_DEFAULT_REGION ?? "us-east-1",
    ...endpointSettings(isLocalRun(source)),
  };
  const db = new DynamoDBClient(common);
  // every EKS and IAM call takes a slot of the account-wide schedule of its family
  pacedClients(db, env, { eks: base.deps.clients.eks, iam: base.deps.clients.iam });
  const sqs = new SQSClient(common);
  const deps = {
    ...reconcileAdapters(
      base.deps.clients,
      db,
      { index: env.TEMPLATE_INDEX_TABLE, budget: env.DELETION_BUDGET_TABLE },
      {
        ...(base.env.ACCOUNT_ID ? { accountId: base.env.ACCOUNT_ID } : {}),
        budget: { floor: env.DELETION_BUDGET_FLOOR, fraction: env.DELETION_BUDGET_FRACTION },
      },
    ),
    queue: new SqsWorkQueue(sqs, env.WORK_QUEUE_URL),
    publisher: base.deps.publisher,
    metrics: metricsPort(base.metrics),
    log: base.logger,
    now: () => new Date(),
  };
  const admission = admissionFromEnv(source);
  let accountId: Promise<string> | undefined;
  const settings = async (): Promise<ReconcileSettings> => {
    accountId ??= base.env.ACCOUNT_ID
      ? Promise.resolve(base.env.ACCOUNT_ID)
      : base.deps.clients.sts.send(new GetCallerIdentityCommand({})).then((o) => o.Account ?? "");
    return {
      accountId: await accountId,
      dryRun: base.env.DRY_RUN,
      adoptUnmanaged: base.env.ADOPT_UNMANAGED,
      installAgent: base.env.INSTALL_AGENT,
      budget: { floor: env.DELETION_BUDGET_FLOOR, fraction: env.DELETION_BUDGET_FRACTION },
      admission,
    };
  };
  return { base, env, deps, settings };
}
