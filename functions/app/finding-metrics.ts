import type { Severity } from "../core/trust/findings.js";
import type { MetricsPort } from "./ports.js";

const METRIC_OF: Partial<Record<Severity, string>> = {
  critical: "FindingsCritical",
  error: "FindingsError",
  warning: "FindingsWarning",
};

/**
 * Counts findings by severity as the dashboard and the critical-findings alarm read them. Each
 * finding is counted where it is found: cluster findings by the worker, a role's template and
 * trust findings by iam-event (when the role changes) and by the sweep (while they persist).
 */
export function countFindings(metrics: MetricsPort, findings: readonly { severity: Severity }[]): void {
  for (const [severity, name] of Object.entries(METRIC_OF) as [Severity, string][])
    metrics.count(name, findings.filter((f) => f.severity === severity).length);
}
