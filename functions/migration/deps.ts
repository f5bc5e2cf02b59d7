import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { type AwsClients, createClients, endpointSettings, isLocalRun } from "../aws/clients.js";
import { MigrationStore } from "../aws/migration-store.js";
import type { LoggerLike } from "../aws/reconcile.js";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../aws/runtime.js";

/** What migration actions need; passed in, so tests substitute nothing by module mocking. */
export interface MigrationDeps {
  clients: AwsClients;
  store: MigrationStore;
  logger: LoggerLike;
  /** trust policy size quota of the account */
  sizeLimit: number;
  /** back-off for a role EKS cannot see yet; injectable so tests never sleep */
  sleep: (ms: number) => Promise<void>;
  backoffBaseMs: number;
  /** records how a run ended (the dashboard's migrations by outcome) */
  recordOutcome?: (outcome: string) => void;
}

const envSchema = z.object({
  MIGRATION_TABLE: z.string().min(1).default("pod-identity-autopilot-migrations"),
  TRUST_POLICY_SIZE_LIMIT: z.coerce.number().int().min(1).default(2048),
  POWERTOOLS_SERVICE_NAME: z.string().default("pod-identity-autopilot-migration"),
});

/**
 * Builds the migration dependencies from the environment. Endpoint overrides count only when
 * running locally (PODID_LOCAL=1) or when the podid CLI asks for them.
 */
export function createMigrationDeps(
  source: NodeJS.ProcessEnv = process.env,
  options: { endpointOverrides?: boolean } = {},
): MigrationDeps {
  const env = envSchema.parse(source);
  const overrides = options.endpointOverrides ?? isLocalRun(source);
  const clients = createClients({ endpointOverrides: overrides });
  const db = new DynamoDBClient({
    region: source.AWS_REGION ?? source.AWS_DEFAULT_REGION ?? "us-east-1",
    maxAttempts: 8,
    ...endpointSettings(overrides),
  });
  return {
    clients,
    store: new MigrationStore(db, env.MIGRATION_TABLE),
    logger: new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME }),
    sizeLimit: env.TRUST_POLICY_SIZE_LIMIT,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    backoffBaseMs: 1000,
    recordOutcome: (outcome) => {
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
      metrics.addMetric(
        `Migrations${outcome.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`,
        MetricUnit.Count,
        1,
      );
      metrics.publishStoredMetrics();
    },
  };
}
