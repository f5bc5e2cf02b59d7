import type { ConditionTest, Principal, TrustStatement } from "./parse.js";

export const POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com";
export const WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity";

/** A glob match and the number of steps it took (the property tests bound the work). */
export interface GlobWork {
  matched: boolean;
  steps: number;
}

/**
 * IAM wildcard matching (`*` any run of characters, `?` exactly one) by the two-pointer method:
 * on a mismatch it resumes after the latest `*` only, never earlier ones, so the work is at most
 * (|pattern| + 1) × (|value| + 1) steps — linear in the value for a given pattern — instead of
 * the exponential backtracking of a translated regular expression.
 */
export function globWork(pattern: string, value: string, ignoreCase = false): GlobWork {
  const p = Array.from(ignoreCase ? pattern.toLowerCase() : pattern);
  const v = Array.from(ignoreCase ? value.toLowerCase() : value);
  let pi = 0;
  let vi = 0;
  let star = -1;
  let resume = 0;
  let steps = 0;
  while (vi < v.length) {
    steps++;
    if (pi < p.length && p[pi] === "*") {
      star = pi++;
      resume = vi;
    } else if (pi < p.length && (p[pi] === "?" || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++resume;
    } else {
      return { matched: false, steps };
    }
  }
  while (pi < p.length && p[pi] === "*") {
    pi++;
    steps++;
  }
  return { matched: pi === p.length, steps };
}

/** IAM glob: `*` any run of characters, `?` one character; linear-time (see {@link globWork}). */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  return globWork(pattern, value, ignoreCase).matched;
}

export function hasWildcard(value: string): boolean {
  return value.includes("*") || value.includes("?");
}

/** Action names are case-insensitive and may use wildcards (`sts:*`, `*`). */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatches(pattern, action, true);
}

/** Whether a statement's Action/NotAction covers `action`. */
export function statementCovers(statement: TrustStatement, action: string): boolean {
  if (statement.actions.length > 0) return statement.actions.some((p) => actionMatches(p, action));
  if (statement.notActions.length > 0) return !statement.notActions.some((p) => actionMatches(p, action));
  return false;
}

/** The principal ids of one type (Service, Federated, AWS…). */
export function principalIds(principal: Principal | undefined, type: string): string[] {
  if (!principal || principal.wildcard) return [];
  return principal.byType[type] ?? [];
}

/** Allow statement for the Pod Identity service principal. */
export function isPodIdentityStatement(s: TrustStatement): boolean {
  return s.effect === "Allow" && principalIds(s.principal, "Service").includes(POD_IDENTITY_SERVICE);
}

/** Federated OIDC provider ARNs of a statement that grants AssumeRoleWithWebIdentity. */
export function oidcProviders(s: TrustStatement): string[] {
  if (!statementCovers(s, WEB_IDENTITY_ACTION)) return [];
  return principalIds(s.principal, "Federated").filter((id) => id.includes(":oidc-provider/"));
}

/** The issuer host path of a provider ARN: `oidc.eks.<region>.amazonaws.com/id/<ID>`. */
export function providerHost(providerArn: string): string {
  return providerArn.slice(providerArn.indexOf(":oidc-provider/") + ":oidc-provider/".length);
}

/** ARN matching per colon-separated component with wildcards, as IAM's Arn* operators do. */
export function arnMatches(pattern: string, arn: string): boolean {
  const split = (s: string) => {
    const parts = s.split(":");
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(":")];
  };
  const p = split(pattern);
  const a = split(arn);
  if (!p || !a) return false;
  return p.every((part, i) => globMatches(part, a[i]!));
}

/** Outcome of one condition test against a request context. */
export type ConditionOutcome = "match" | "no-match" | "unknown";

function valueMatches(test: ConditionTest, pattern: string, actual: string): boolean | undefined {
  switch (test.base) {
    case "StringEquals":
    case "StringNotEquals":
      return pattern === actual;
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return pattern.toLowerCase() === actual.toLowerCase();
    case "StringLike":
    case "StringNotLike":
      return globMatches(pattern, actual);
    // IAM documents ArnEquals and ArnLike alike: per-component matching with wildcards
    case "ArnEquals":
    case "ArnLike":
    case "ArnNotEquals":
    case "ArnNotLike":
      return arnMatches(pattern, actual);
    default:
      return undefined;
  }
}

/** Whether an operator is a negation (StringNotEquals, ArnNotLike…). */
export function isNegated(base: string): boolean {
  return /Not(Equals|Like|EqualsIgnoreCase)$/.test(base) || base === "NotIpAddress";
}

/**
 * Evaluates one condition test against known single-valued request keys (lowercased). Keys
 * not in the context are "unknown": the engine cannot say what the request will carry.
 */
export function evaluateCondition(test: ConditionTest, context: Record<string, string>): ConditionOutcome {
  if (test.base === "Null") {
    if (!(test.keyLower in context)) return "unknown";
    const wantsAbsent = test.values.some((v) => v.toLowerCase() === "true");
    return wantsAbsent ? "no-match" : "match";
  }
  if (!(test.keyLower in context)) return "unknown";
  const actual = context[test.keyLower]!;
  const results = test.values.map((v) => valueMatches(test, v, actual));
  if (results.some((r) => r === undefined)) return "unknown";
  const anyMatch = results.some((r) => r === true);
  const pass = isNegated(test.base) ? !anyMatch : anyMatch;
  return pass ? "match" : "no-match";
}

/** Conditions of a statement: no-match if any test fails, unknown if any is unknown, else match. */
export function evaluateConditions(s: TrustStatement, context: Record<string, string>): ConditionOutcome {
  let unknown = false;
  for (const test of s.conditions) {
    const outcome = evaluateCondition(test, context);
    if (outcome === "no-match") return "no-match";
    if (outcome === "unknown") unknown = true;
  }
  return unknown ? "unknown" : "match";
}
