import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { z } from "zod";
import type { AdmissionPolicy } from "../core/admission.js";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../core/metrics-names.js";
import type { RoleInfo } from "../core/model.js";
import { DEFAULT_BREAKER } from "../core/plan.js";
import { admissionFromEnv } from "./admission-settings.js";
import { createClients } from "./clients.js";
import { eventBridgePublisher } from "./events.js";
import { type ReconcileDeps, type ReconcileScope, type ReconcileSummary, reconcile } from "./reconcile.js";

const flag = (fallback: boolean) =>
  z
    .enum(["true", "false"])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === "true"));

/** Environment of the reconciler functions, validated once per cold start. */
export const reconcilerEnvSchema = z.object({
  EVENT_BUS_NAME: z.string().min(1).default("default"),
  DRY_RUN: flag(false),
  ADOPT_UNMANAGED: flag(false),
  INSTALL_AGENT: flag(true),
  BREAKER_FLOOR: z.coerce.number().int().min(0).default(DEFAULT_BREAKER.floor),
  BREAKER_FRACTION: z.coerce.number().min(0).max(1).default(DEFAULT_BREAKER.fraction),
  ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  WAIT_STATE_MACHINE_ARN: z.string().optional(),
  POWERTOOLS_SERVICE_NAME: z.string().default("pod-identity-autopilot"),
});
export type ReconcilerEnv = z.infer<typeof reconcilerEnvSchema>;

export { METRICS_NAMESPACE, METRICS_SERVICE } from "../core/metrics-names.js";

/** Everything a handler needs, built once per execution environment. */
export interface Runtime {
  env: ReconcilerEnv;
  admission: AdmissionPolicy;
  logger: Logger;
  metrics: Metrics;
  deps: ReconcileDeps;
}

/** Builds the runtime from the environment; throws a readable error for a bad configuration. */
export function createRuntime(source: NodeJS.ProcessEnv = process.env): Runtime {
  const parsed = reconcilerEnvSchema.safeParse(source);
  if (!parsed.success) throw new Error(`invalid function configuration: ${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME });
  // the logs name the function; the metrics carry the one service the alarms and dashboard read
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
  const clients = createClients();
  return {
    env,
    admission: admissionFromEnv(source),
    logger,
    metrics,
    deps: {
      clients,
      logger,
      publisher: eventBridgePublisher(clients.events, env.EVENT_BUS_NAME),
      ...(env.ACCOUNT_ID ? { accountId: env.ACCOUNT_ID } : {}),
    },
  };
}

/**
 * Reconciles `scope` with the deployment's settings (dry run, adoption, agent, breaker), records
 * the run's metrics and returns its summary: what every handler does once its event is valid.
 */
export async function reconcileWithSettings(
  rt: Runtime,
  scope: ReconcileScope,
  overrides: { dryRun?: boolean; breakerFloor?: number; accountId?: string; roles?: RoleInfo[] } = {},
): Promise<ReconcileSummary> {
  const summary = await reconcile(
    overrides.accountId ? { ...rt.deps, accountId: overrides.accountId } : rt.deps,
    {
      scope,
      dryRun: overrides.dryRun === true || rt.env.DRY_RUN,
      adoptUnmanaged: rt.env.ADOPT_UNMANAGED,
      installAgent: rt.env.INSTALL_AGENT,
      breaker: { floor: overrides.breakerFloor ?? rt.env.BREAKER_FLOOR, fraction: rt.env.BREAKER_FRACTION },
      admission: rt.admission,
      ...(overrides.roles ? { roles: overrides.roles } : {}),
    },
  );
  recordReconcileMetrics(rt.metrics, summary);
  return summary;
}

/** Records what the dashboard shows for one reconcile run. */
export function recordReconcileMetrics(metrics: Metrics, summary: ReconcileSummary): void {
  metrics.addMetric("AssociationsCreated", MetricUnit.Count, summary.created);
  metrics.addMetric("AssociationsUpdated", MetricUnit.Count, summary.updated);
  metrics.addMetric("AssociationsDeleted", MetricUnit.Count, summary.deleted);
  metrics.addMetric("DriftFound", MetricUnit.Count, summary.changes.length);
  metrics.addMetric("ApplyFailures", MetricUnit.Count, summary.failed);
  metrics.addMetric("Conflicts", MetricUnit.Count, summary.conflicts);
  metrics.addMetric("BreakerTrips", MetricUnit.Count, summary.breakerTripped ? 1 : 0);
  metrics.addMetric("FindingsCritical", MetricUnit.Count, summary.findingsBySeverity.critical);
  metrics.addMetric("FindingsError", MetricUnit.Count, summary.findingsBySeverity.error);
  metrics.addMetric("FindingsWarning", MetricUnit.Count, summary.findingsBySeverity.warning);
  metrics.publishStoredMetrics();
}

/** A summary small enough for a Lambda or Step Functions payload: counts and the first changes. */
export function compactSummary(summary: ReconcileSummary, maxItems = 50) {
  return {
    ...summary,
    changes: summary.changes.slice(0, maxItems),
    findings: summary.findings.slice(0, maxItems),
    truncated: summary.changes.length > maxItems || summary.findings.length > maxItems,
  };
}
