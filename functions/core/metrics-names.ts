/**
 * CloudWatch namespace and `service` dimension of every product metric. One constant for the
 * emitters (functions/aws/runtime.ts, the migration) and the alarms and dashboard
 * (infra/constructs/observability.ts): the function name stays in the logs' service only.
 */
export const METRICS_NAMESPACE = "PodIdentityAutopilot";
export const METRICS_SERVICE = "pod-identity-autopilot";
