import type { Severity } from "./trust/findings.js";

/** Finding codes of the reconciler (trust codes come from the trust engine). */
export const RECONCILE_CODES = [
  "TEMPLATE_INVALID",
  "TEMPLATE_INCOMPLETE",
  "TEMPLATE_UNREADABLE",
  "TEMPLATE_UNKNOWN_KEY",
  "TEMPLATE_NOT_ADMITTED",
  "SELECTOR_NOT_ADMITTED",
  "CATALOG_NOT_ALLOWED",
  "CLUSTER_TAG_INVALID",
  "CATALOG_UNKNOWN",
  "CATALOG_ROLE_DRIFT",
  "CONFLICT",
  "UNMANAGED_EXISTS",
  "ADDON_OWNED",
  "TRUST_REFUSED",
  "TRUST_UNDECIDED",
  "CLUSTER_NOT_READY",
  "CLUSTER_UNSUPPORTED",
  "DELETIONS_HELD",
  "APPLY_FAILED",
  "TRUST_LINT",
] as const;
export type ReconcileCode = (typeof RECONCILE_CODES)[number];

/** A finding of the reconciler: what is wrong, where, and how bad. */
export interface Finding {
  code: ReconcileCode | string;
  severity: Severity;
  message: string;
  clusterName?: string;
  roleName?: string;
  namespace?: string;
  serviceAccount?: string;
}

/** Counts findings by severity (for summaries and metrics). */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
