/**
 * How STS decides a role assumption against the role's trust policy, for the local account's
 * credential path (AssumeRoleWithWebIdentity, and the AssumeRole/TagSession Pod Identity makes).
 *
 * The product's trust engine (functions/core/trust) answers "what may happen" and keeps
 * "unknown" where a key's value is not known; here every request value is known, so this module
 * gives IAM's definite answer: an applicable Deny wins, else an applicable Allow, else an implicit
 * deny. It reuses the engine's parser and matchers. Semantics follow the IAM User Guide
 * ("Policy evaluation logic", "IAM JSON policy elements: Condition operators", "Single-valued vs.
 * multivalued context keys"):
 * - a condition block is an AND of its operators and keys, an OR of each key's values;
 * - a key absent from the request: `...IfExists` matches, negated operators (StringNotEquals,
 *   StringNotLike, ArnNotEquals, ArnNotLike…) match, `Null: true` matches, everything else fails;
 * - `ForAnyValue:` is false and `ForAllValues:` is true on an absent or empty multivalued key.
 * Operators this module cannot evaluate make an Allow statement not apply and a Deny statement
 * apply: unsupported never grants.
 */
import {
  arnMatches,
  globMatches,
  isNegated,
  principalIds,
  statementCovers,
} from "../functions/core/trust/match.js";
import { type ConditionTest, parseTrustPolicy, type TrustStatement } from "../functions/core/trust/parse.js";

/** Request context: lowercased condition keys to one value, or a list for multivalued keys. */
export type RequestContext = Record<string, string | string[]>;

/** Who asks to assume the role. */
export interface RequestPrincipal {
  /** Federated, Service or AWS */
  type: "Federated" | "Service" | "AWS";
  /** the principal as a policy names it: provider ARN, service name, role or account ARN */
  ids: string[];
}

/** One action's decision. */
export type TrustDecision =
  | { decision: "allow"; statement: number }
  | { decision: "explicit-deny"; statement: number }
  | { decision: "implicit-deny"; reason: string };

function principalMatches(s: TrustStatement, who: RequestPrincipal): boolean {
  const matchesIn = (p: TrustStatement["principal"]): boolean => {
    if (!p) return false;
    if (p.wildcard) return true;
    const listed = principalIds(p, who.type);
    if (listed.includes("*")) return true;
    if (who.type === "Service") {
      return who.ids.some((id) => listed.some((l) => l.toLowerCase() === id.toLowerCase()));
    }
    return who.ids.some((id) => listed.includes(id));
  };
  if (s.principal) return matchesIn(s.principal);
  if (s.notPrincipal) return !matchesIn(s.notPrincipal);
  return false;
}

function single(test: ConditionTest, policyValue: string, actual: string): boolean | undefined {
  switch (test.base) {
    case "StringEquals":
    case "StringNotEquals":
      return policyValue === actual;
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase":
      return policyValue.toLowerCase() === actual.toLowerCase();
    case "StringLike":
    case "StringNotLike":
      return globMatches(policyValue, actual);
    case "ArnEquals":
    case "ArnLike":
    case "ArnNotEquals":
    case "ArnNotLike":
      return arnMatches(policyValue, actual);
    case "Bool":
      return policyValue.toLowerCase() === actual.toLowerCase();
    default:
      return undefined;
  }
}

/** One condition test: true, false, or undefined when the operator is not supported here. */
export function conditionHolds(test: ConditionTest, context: RequestContext): boolean | undefined {
  const raw = context[test.keyLower];
  const present = raw !== undefined && !(Array.isArray(raw) && raw.length === 0);
  if (test.base === "Null") {
    const wantsAbsent = test.values.some((v) => v.toLowerCase() === "true");
    return wantsAbsent ? !present : present;
  }
  const negated = isNegated(test.base);
  if (!present) {
    if (test.set === "ForAnyValue") return false;
    if (test.set === "ForAllValues") return true;
    return test.ifExists || negated;
  }
  const actuals = Array.isArray(raw) ? raw : [raw!];
  const matchOne = (actual: string): boolean | undefined => {
    const results = test.values.map((v) => single(test, v, actual));
    if (results.some((r) => r === undefined)) return undefined;
    const any = results.some(Boolean);
    return negated ? !any : any;
  };
  const outcomes = actuals.map(matchOne);
  if (outcomes.some((o) => o === undefined)) return undefined;
  if (test.set === "ForAllValues") return outcomes.every(Boolean);
  if (test.set === "ForAnyValue") return outcomes.some(Boolean);
  // a multivalued key without a set qualifier: IAM compares as ForAnyValue for positive operators
  return negated ? outcomes.every(Boolean) : outcomes.some(Boolean);
}

function applies(s: TrustStatement, who: RequestPrincipal, action: string, context: RequestContext): boolean {
  if (!statementCovers(s, action) || !principalMatches(s, who)) return false;
  for (const test of s.conditions) {
    const holds = conditionHolds(test, context);
    if (holds === undefined) return s.effect === "Deny";
    if (!holds) return false;
  }
  return true;
}

/**
 * Decides one action of a role assumption. The policy is the role's trust policy as IAM stores it
 * (raw or URL-encoded JSON, or an already parsed document).
 */
export function decideTrust(
  policy: unknown,
  who: RequestPrincipal,
  action: string,
  context: RequestContext,
): TrustDecision {
  const parsed = parseTrustPolicy(typeof policy === "string" ? policy : JSON.stringify(policy ?? null));
  if (!parsed.ok)
    return { decision: "implicit-deny", reason: `the trust policy cannot be read: ${parsed.reason}` };
  const deny = parsed.statements.find((s) => s.effect === "Deny" && applies(s, who, action, context));
  if (deny) return { decision: "explicit-deny", statement: deny.index };
  const allow = parsed.statements.find((s) => s.effect === "Allow" && applies(s, who, action, context));
  if (allow) return { decision: "allow", statement: allow.index };
  return { decision: "implicit-deny", reason: `no statement allows ${action} for ${who.ids[0] ?? who.type}` };
}

/** Decides several actions (AssumeRole and TagSession); the first refusal, or allow. */
export function decideAll(
  policy: unknown,
  who: RequestPrincipal,
  actions: string[],
  context: RequestContext,
): { allowed: true } | { allowed: false; action: string; decision: TrustDecision } {
  for (const action of actions) {
    const decision = decideTrust(policy, who, action, context);
    if (decision.decision !== "allow") return { allowed: false, action, decision };
  }
  return { allowed: true };
}
