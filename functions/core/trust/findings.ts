/** Severities of a finding, most severe first. */
export const SEVERITIES = ["critical", "error", "warning", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Every finding code the trust engine emits. */
export const TRUST_CODES = [
  "POLICY_MALFORMED",
  "NO_POD_IDENTITY_TRUST",
  "MISSING_TAG_SESSION",
  "WILDCARD_PRINCIPAL",
  "SOURCE_ACCOUNT_MISMATCH",
  "SOURCE_ARN_INVALID",
  "SOURCE_ARN_EXCLUDES_CLUSTER",
  "IRSA_MISSING_SUB",
  "IRSA_MISSING_AUD",
  "IRSA_WILDCARD_SUB",
  "IRSA_SUB_MALFORMED",
  "IRSA_ISSUER_MISMATCH",
  "TRUST_POLICY_SIZE",
  "NOT_PRINCIPAL",
  "DUPLICATE_STATEMENT",
  "REQUEST_TAG_EXCLUDES",
  "CONDITION_REFUSES",
  "TRUST_UNDECIDED",
  "POD_TRUST_UNSCOPED",
] as const;
export type TrustCode = (typeof TRUST_CODES)[number];

/** One problem found in a trust policy. `statement` is the 0-based index, or null for the whole policy. */
export interface TrustFinding {
  code: TrustCode;
  severity: Severity;
  statement: number | null;
  message: string;
  fix: string;
}

/** True when any finding is an error or critical (the lint command then exits 1). */
export function hasBlockingFinding(findings: readonly TrustFinding[]): boolean {
  return findings.some((f) => f.severity === "critical" || f.severity === "error");
}

/** Sorts findings by severity, then statement, then code, for stable output. */
export function sortFindings(findings: TrustFinding[]): TrustFinding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      (a.statement ?? -1) - (b.statement ?? -1) ||
      a.code.localeCompare(b.code),
  );
}
