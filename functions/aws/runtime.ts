import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { z } from "zod";
import type { AdmissionPolicy } from "../core/admission.js";
import { METRICS_NAMESPACE, METRICS_SERVICE } from "../core/metrics-names.js";
import { admissionFromEnv } from "./admission-settings.js";
import { type AwsClients, createClients } from "./clients.js";
import { type EventPublisher, eventBridgePublisher } from "./events.js";

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
  deps: { clients: AwsClients; logger: Logger; publisher: EventPublisher; accountId?: string };
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
