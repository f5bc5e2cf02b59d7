import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type AccountSummary, planAccount, summarizeClusters } from "../../functions/app/plan-account.js";
import type {
  DeletionBudget,
  ReconcileSettings,
  TemplateIndex,
  WorkItem,
} from "../../functions/app/ports.js";
import { reconcileCluster } from "../../functions/app/reconcile-cluster.js";
import { refreshTemplate } from "../../functions/app/refresh-template.js";
import { indexedRole, isIndexedRole } from "../../functions/app/template-roles.js";
import type { ApplyOptions } from "../../functions/aws/apply.js";
import { memoryPublisher } from "../../functions/aws/events.js";
import { reconcileAdapters } from "../../functions/aws/work-runtime.js";
import { DEFAULT_ADMISSION } from "../../functions/core/admission.js";
import { DEFAULT_BUDGET } from "../../functions/core/budget.js";
import { localWorkEnv } from "../../local/work-resources.js";
import { ACCOUNT_ID, awsClientsFor, REGION } from "./local-account.js";

const quiet = { info() {}, warn() {}, error() {} };

/** What one run of {@link localReconciler} does (the deployment's settings otherwise). */
export interface LocalRun extends Partial<Omit<ReconcileSettings, "dryRun" | "accountId">> {
  dryRun?: boolean;
  /** only these clusters (default: every cluster of the account) */
  clusters?: string[];
  /**
   * iam-event's path instead of the sweep's: refresh this role in the index, then reconcile the
   * clusters that refresh enqueues
   */
  role?: string;
}

/**
 * The worker's use case in-process with the production adapters, over real SDK clients against
 * the local account: a run rebuilds the template index from one IAM read (as the scheduled sweep
 * does) and reconciles every cluster at once, as their queue items' workers would (catalog roles
 * under the deployed lease); a dry run is `podid plan`.
 */
export function localReconciler(
  endpoint: string,
  options: {
    maxAttempts?: number;
    apply?: Partial<ApplyOptions>;
    /** another account of the local account (its access key id); the stack's tables are in the default one */
    accountId?: string;
    /** the index and budget (default: the local account's DynamoDB tables) */
    index?: TemplateIndex;
    budget?: DeletionBudget;
    now?: () => Date;
  } = {},
) {
  const accountId = options.accountId ?? ACCOUNT_ID;
  const clients = awsClientsFor(endpoint, options.maxAttempts ?? 8, accountId);
  const env = localWorkEnv(endpoint, ACCOUNT_ID);
  const db = new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  const publisher = memoryPublisher();
  const tables = { index: env.TEMPLATE_INDEX_TABLE ?? "", budget: env.DELETION_BUDGET_TABLE ?? "" };
  // as deployed (role check, catalog role lease); the budget's settings are each run's
  const wired = (budget = DEFAULT_BUDGET) =>
    reconcileAdapters(clients, db, tables, {
      accountId,
      budget,
      ...(options.apply ? { apply: options.apply } : {}),
    });
  const { clusters, roles } = wired();
  const index = options.index ?? wired().index;
  const run = async (request: LocalRun = {}): Promise<AccountSummary> => {
    const settings = {
      accountId,
      adoptUnmanaged: request.adoptUnmanaged ?? false,
      installAgent: request.installAgent ?? true,
      budget: request.budget ?? DEFAULT_BUDGET,
      admission: request.admission ?? DEFAULT_ADMISSION,
    };
    const now = options.now ?? (() => new Date());
    if (request.dryRun)
      return await planAccount({ clusters, roles, log: quiet, now }, settings, request.clusters);
    const budget = options.budget ?? wired(settings.budget).budget;
    const deps = { clusters, roles, index, budget, publisher, metrics: { count() {} }, log: quiet, now };
    let names: string[];
    if (request.role) {
      const enqueued: WorkItem[] = [];
      const queue = { enqueue: async (items: WorkItem[]) => ({ sent: enqueued.push(...items) }) };
      await refreshTemplate({ ...deps, queue }, accountId, request.role, settings.admission);
      names = [...new Set(enqueued.map((i) => i.clusterName))].sort();
    } else {
      const read = now();
      await index.replaceRoles(
        (await roles.readAllRoles()).filter(isIndexedRole).map((r) => indexedRole(r, read)),
        read,
      );
      names = request.clusters ?? (await clusters.listClusters());
    }
    // one cluster after the other: concurrent workers are the concurrency suites' subject
    const results = [];
    for (const name of names)
      results.push(await reconcileCluster(deps, { ...settings, dryRun: false }, name));
    return summarizeClusters(results, false);
  };
  return { clients, publisher, run };
}
