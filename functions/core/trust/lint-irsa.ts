import type { TrustFinding } from "./findings.js";
import { hasWildcard, isNegated, oidcProviders, providerHost } from "./match.js";
import type { TrustStatement } from "./parse.js";

const DNS_LABEL = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
const DNS_SUBDOMAIN = `${DNS_LABEL}(\\.${DNS_LABEL})*`;
/** A Kubernetes service account subject: system:serviceaccount:<namespace>:<name>. */
export const SERVICE_ACCOUNT_SUBJECT = new RegExp(
  `^system:serviceaccount:(${DNS_LABEL}):(${DNS_SUBDOMAIN})$`,
);

const OIDC_KEY = /^(.+):(sub|aud|amr)$/;

function isLike(base: string): boolean {
  return base === "StringLike" || base === "ArnLike";
}

/** IRSA checks of one statement: sub and aud conditions of its OIDC provider. */
export function lintIrsaStatement(s: TrustStatement, out: TrustFinding[]): void {
  for (const provider of oidcProviders(s)) {
    const shown = providerHost(provider);
    const host = shown.toLowerCase();
    const subTests = s.conditions.filter((t) => t.keyLower === `${host}:sub`);
    const audTests = s.conditions.filter((t) => t.keyLower === `${host}:aud`);
    const foreign = s.conditions.filter((t) => {
      const m = OIDC_KEY.exec(t.keyLower);
      // an issuer is a host with an optional path (oidc.eks.<region>.amazonaws.com/id/X,
      // s3.amazonaws.com/bucket, or a bare host such as oidc.example.com); global keys (aws:, sts:) have no dot
      return m !== null && m[1] !== host && !m[1]!.startsWith("aws:") && /[./]/.test(m[1]!);
    });
    for (const t of foreign) {
      out.push({
        code: "IRSA_ISSUER_MISMATCH",
        severity: "error",
        statement: s.index,
        message: `Condition key ${t.key} names another issuer than the statement's provider ${shown}; the statement never matches its tokens`,
        fix: `Use ${shown}:${OIDC_KEY.exec(t.keyLower)?.[2] ?? "sub"} (the issuer of ${provider})`,
      });
    }
    if (subTests.length === 0 && foreign.length === 0) {
      out.push({
        code: "IRSA_MISSING_SUB",
        severity: "critical",
        statement: s.index,
        message: `No ${shown}:sub condition: every service account of the cluster can assume this role`,
        fix: `Add "StringEquals": {"${shown}:sub": "system:serviceaccount:<namespace>:<name>"}`,
      });
    }
    if (audTests.length === 0) {
      out.push({
        code: "IRSA_MISSING_AUD",
        severity: "warning",
        statement: s.index,
        message: `No ${shown}:aud condition: tokens issued for other audiences are accepted`,
        fix: `Add "StringEquals": {"${shown}:aud": "sts.amazonaws.com"}`,
      });
    }
    for (const t of subTests) {
      if (isNegated(t.base)) continue;
      for (const value of t.values) lintSubject(s.index, t.operator, isLike(t.base), value, out);
    }
  }
}

function lintSubject(
  index: number,
  operator: string,
  like: boolean,
  value: string,
  out: TrustFinding[],
): void {
  if (hasWildcard(value)) {
    if (!like) {
      out.push({
        code: "IRSA_SUB_MALFORMED",
        severity: "error",
        statement: index,
        message: `sub "${value}" has a wildcard under ${operator}, which compares literally: no service account matches`,
        fix: "Use StringLike for patterns, or list the exact system:serviceaccount:<namespace>:<name> values",
      });
      return;
    }
    const namespaceOpen = !/^system:serviceaccount:[a-z0-9-]+:/.test(value);
    out.push({
      code: "IRSA_WILDCARD_SUB",
      severity: namespaceOpen ? "error" : "warning",
      statement: index,
      message: namespaceOpen
        ? `sub "${value}" matches service accounts in any namespace`
        : `sub "${value}" matches every service account it names by pattern`,
      fix: "List the exact system:serviceaccount:<namespace>:<name> values",
    });
    return;
  }
  if (!SERVICE_ACCOUNT_SUBJECT.test(value)) {
    out.push({
      code: "IRSA_SUB_MALFORMED",
      severity: "error",
      statement: index,
      message: `sub "${value}" is not system:serviceaccount:<namespace>:<name>; no token will match it`,
      fix: "Write the subject as system:serviceaccount:<namespace>:<serviceaccount>",
    });
  }
}
