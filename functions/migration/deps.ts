import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { Log } from "../app/ports.js";
import { type AwsClients, createClients, endpointSettings, isLocalRun } from "../aws/clients.js";
import { cloudTrailEvidence } from "../aws/cloudtrail-evidence.js";
import { sfnExecutions } from "../aws/executions.js";
import { MigrationStore } from "../aws/migration-store.js";
import { pacingEnvSchema } from "../aws/pacing.js";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../aws/runtime.js";
import { pacedClients } from "../aws/shared-pacing.js";
import type { EvidencePort, ExecutionsPort, StateMachineArns } from "./ports.js";

/** What migration actions need; passed in, so tests substitute nothing by module mocking. */
export interface MigrationDeps {
  clients: AwsClients;
  store: MigrationStore;
  logger: Log;
  /** trust policy size quota of the account */
  sizeLimit: number;
  /** back-off for a role EKS cannot see yet, a busy role lease, IAM read-after-write; injectable */
  sleep: (ms: number) => Promise<void>;
  backoffBaseMs: number;
  /** the clock (leases, finalize windows); injectable */
  now: () => Date;
  /** records how a run ended (the dashboard's migrations by outcome) */
  recordOutcome?: (outcome: string) => void;
  /** the migration's own state machines: a task acts only for a RUNNING execution of these */
  stateMachines: StateMachineArns;
  executions: ExecutionsPort;
  evidence: EvidencePort;
  /** how long a run holds its cluster (the run state machine's timeout) */
  clusterLeaseSeconds: number;
  /** how long one role edit may hold its role */
  roleLeaseSeconds: number;
  /** how long a role edit waits for a busy role before failing with LeaseBusy (retried) */
  roleLeaseWaitMs: number;
  /**
   * a chunked step (associate, verify, rollback) starts no new batch once no more than this is
   * left of its invocation: the slowest batch (role-visibility back-off, lease wait) plus its writes
   */
  chunkMarginMs: number;
}

const stateMachineArn = z.string().regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+$/);

/** The migration function's environment; every variable is set by the stack (a test proves it). */
export const migrationEnvSchema = z.object({
  MIGRATION_TABLE: z.string().min(3),
  MIGRATION_STATE_MACHINE_ARN: stateMachineArn,
  MIGRATION_FINALIZE_STATE_MACHINE_ARN: stateMachineArn,
  MIGRATION_ROLLBACK_STATE_MACHINE_ARN: stateMachineArn,
  MIGRATION_CLUSTER_LEASE_SECONDS: z.coerce.number().int().min(60),
  TRUST_POLICY_SIZE_LIMIT: z.coerce.number().int().min(1).default(2048),
  POWERTOOLS_SERVICE_NAME: z.string().default("pod-identity-autopilot-migration"),
  ...pacingEnvSchema.shape,
});

/**
 * Builds the migration dependencies from the environment. Endpoint overrides count only when
 * running locally (PODID_LOCAL=1) or when the podid CLI asks for them.
 */
export function createMigrationDeps(
  source: NodeJS.ProcessEnv = process.env,
  options: { endpointOverrides?: boolean } = {},
): MigrationDeps {
  const env = migrationEnvSchema.parse(source);
  const overrides = options.endpointOverrides ?? isLocalRun(source);
  const clients = createClients({ endpointOverrides: overrides });
  const region = source.AWS_REGION ?? source.AWS_DEFAULT_REGION ?? "us-east-1";
  const db = new DynamoDBClient({ region, maxAttempts: 8, ...endpointSettings(overrides) });
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const cloudtrail = new CloudTrailClient({ region, maxAttempts: 8, ...endpointSettings(overrides) });
  // EKS, IAM and LookupEvents share the account-wide schedules with the work-queue functions
  pacedClients(db, env, { eks: clients.eks, iam: clients.iam, cloudtrail });
  return {
    clients,
    store: new MigrationStore(db, env.MIGRATION_TABLE),
    logger: new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME }),
    sizeLimit: env.TRUST_POLICY_SIZE_LIMIT,
    sleep,
    backoffBaseMs: 1000,
    now: () => new Date(),
    stateMachines: {
      run: env.MIGRATION_STATE_MACHINE_ARN,
      finalize: env.MIGRATION_FINALIZE_STATE_MACHINE_ARN,
      rollback: env.MIGRATION_ROLLBACK_STATE_MACHINE_ARN,
    },
    executions: sfnExecutions(clients.sfn),
    evidence: cloudTrailEvidence(cloudtrail),
    clusterLeaseSeconds: env.MIGRATION_CLUSTER_LEASE_SECONDS,
    roleLeaseSeconds: 300,
    roleLeaseWaitMs: 60_000,
    chunkMarginMs: CHUNK_MARGIN_MS,
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

/**
 * Time kept free at the end of a chunk (of Lambda's 15 minutes): a batch's worst case is the role
 * visibility back-off (about 63 s at a 1 s base) or a role lease wait (60 s), plus its writes.
 */
export const CHUNK_MARGIN_MS = 150_000;

/** The state machine names the stack gives (the ARNs are built from them, avoiding a cycle). */
export const STATE_MACHINE_SUFFIX = {
  run: "migration",
  finalize: "migration-finalize",
  rollback: "migration-rollback",
};

/** The environment the local runner and tests give the migration function for a local account. */
export function localMigrationEnv(
  accountId: string,
  region = "us-east-1",
  prefix = "pod-identity-autopilot",
): Record<string, string> {
  const arn = (suffix: string) => `arn:aws:states:${region}:${accountId}:stateMachine:${prefix}-${suffix}`;
  return {
    MIGRATION_TABLE: `${prefix}-migrations`,
    MIGRATION_STATE_MACHINE_ARN: arn(STATE_MACHINE_SUFFIX.run),
    MIGRATION_FINALIZE_STATE_MACHINE_ARN: arn(STATE_MACHINE_SUFFIX.finalize),
    MIGRATION_ROLLBACK_STATE_MACHINE_ARN: arn(STATE_MACHINE_SUFFIX.rollback),
    MIGRATION_CLUSTER_LEASE_SECONDS: String(10 * 86_400),
    // the local account's budget table (LOCAL_WORK.budgetTable), which holds the pacing items
    PACING_TABLE: `${prefix}-deletion-budget`,
  };
}
