/**
 * How STS decides a role assumption against the role's trust policy, for the local account's
 * credential path (AssumeRoleWithWebIdentity, and the AssumeRole/TagSession Pod Identity makes).
 *
 * Every request value is known here, so this module gives IAM's definite answer ("Policy
 * evaluation logic"): an applicable Deny wins, else an applicable Allow, else an implicit deny.
 * Statements, principals and actions are read by the product's trust engine (functions/core/trust);
 * conditions are evaluated by the core IAM evaluator (functions/core/iam: every operator, IfExists,
 * ForAnyValue/ForAllValues, absent keys, negations, multivalued keys such as aws:TagKeys).
 * A condition the evaluator cannot decide makes an Allow statement not apply and a Deny statement
 * apply: undecidable never grants.
 */
import { evaluateConditionBlock, requestContext } from "../functions/core/iam/index.js";
import { principalIds, statementCovers } from "../functions/core/trust/match.js";
import { parseTrustPolicy, type TrustStatement } from "../functions/core/trust/parse.js";

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

function applies(s: TrustStatement, who: RequestPrincipal, action: string, context: RequestContext): boolean {
  if (!statementCovers(s, action) || !principalMatches(s, who)) return false;
  const block = s.raw.Condition;
  if (block === undefined) return true;
  const holds = evaluateConditionBlock(
    block as Record<string, Record<string, unknown>>,
    requestContext(context),
  );
  // "unknown"/"unresolved" (an unreadable operator, a variable without value) never grants
  if (typeof holds !== "boolean") return s.effect === "Deny";
  return holds;
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
