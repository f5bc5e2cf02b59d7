/**
 * Identity-policy evaluation as the IAM User Guide documents it ("Policy evaluation logic",
 * single account): an explicit Deny in any policy wins; otherwise the request is allowed if an
 * identity policy allows it and, when a permissions boundary is given, the boundary allows it
 * too; otherwise it is implicitly denied.
 */
import { evaluateConditions } from "./conditions.js";
import type { ContextValue, RequestContext } from "./context.js";
import { requestContext } from "./context.js";
import { arnTokensMatch, compileGlob, globTest, tokensOf } from "./glob.js";
import { type Policy, type PolicyStatement, parsePolicy } from "./policy.js";
import { substitute } from "./variables.js";

/** A request: one action on one resource ARN, with its condition keys. */
export interface AccessRequest {
  /** e.g. `ec2:CreateTags` (case-insensitive) */
  action: string;
  /** the resource ARN, or `*` for actions without resource-level permissions */
  resource: string;
  /** condition keys, e.g. `aws:PrincipalTag/eks-cluster-name`, `aws:ResourceTag/...` */
  context?: Readonly<Record<string, ContextValue | undefined>> | RequestContext;
}

/** Which statement decided (policy name and statement index/Sid). */
export interface MatchedStatement {
  policy: string;
  index: number;
  sid?: string;
  effect: "Allow" | "Deny";
}

/** The decision and why. */
export interface AccessDecision {
  decision: "allowed" | "explicitDeny" | "implicitDeny";
  /** statements that applied (all Deny ones that matched, or the Allow ones) */
  matched: MatchedStatement[];
  /** when not allowed for lack of a boundary allow */
  deniedByBoundary?: boolean;
  /** undocumented cases met and variables that could not be resolved */
  warnings: string[];
}

function actionMatches(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => globTest(compileGlob(tokensOf(p), true), action, true));
}

function resourceMatches(
  patterns: readonly string[],
  resource: string,
  context: RequestContext,
): boolean | "unresolved" {
  let unresolved = false;
  for (const p of patterns) {
    const tokens = substitute(p, context);
    if (!tokens) {
      unresolved = true;
      continue;
    }
    if (arnTokensMatch(tokens, resource)) return true;
  }
  return unresolved ? "unresolved" : false;
}

/** Whether a statement applies to the request (effect aside). */
export function statementApplies(
  statement: PolicyStatement,
  action: string,
  resource: string,
  context: RequestContext,
  warnings: string[] = [],
): boolean {
  const actionHit = statement.actions
    ? actionMatches(statement.actions, action)
    : !actionMatches(statement.notActions ?? [], action);
  if (!actionHit) return false;
  if (statement.resources || statement.notResources) {
    const hit = resourceMatches(statement.resources ?? statement.notResources ?? [], resource, context);
    if (hit === "unresolved") {
      warnings.push(
        `statement ${statement.sid ?? statement.index}: a Resource variable has no value in the request`,
      );
      return false;
    }
    if (statement.resources ? !hit : hit) return false;
  }
  const outcome = evaluateConditions(statement.conditions, context, { warnings });
  if (outcome === "unresolved") {
    warnings.push(
      `statement ${statement.sid ?? statement.index}: a condition variable has no value in the request`,
    );
    return false;
  }
  return outcome === true;
}

function asPolicy(p: Policy | unknown, i: number): Policy {
  if (p && typeof p === "object" && "statements" in p && Array.isArray((p as Policy).statements))
    return p as Policy;
  return parsePolicy(p, `policy ${i}`);
}

function asContext(context: AccessRequest["context"]): RequestContext {
  if (context && "values" in context && context.values instanceof Map) return context as RequestContext;
  return requestContext((context ?? {}) as Record<string, ContextValue>);
}

function scan(
  policies: readonly Policy[],
  request: AccessRequest,
  context: RequestContext,
  warnings: string[],
) {
  const allows: MatchedStatement[] = [];
  const denies: MatchedStatement[] = [];
  for (const policy of policies) {
    for (const s of policy.statements) {
      if (!statementApplies(s, request.action, request.resource, context, warnings)) continue;
      const hit = { policy: policy.name, index: s.index, ...(s.sid ? { sid: s.sid } : {}), effect: s.effect };
      (s.effect === "Deny" ? denies : allows).push(hit);
    }
  }
  return { allows, denies };
}

/**
 * Evaluates a request against identity policies (parsed with {@link parsePolicy} or raw
 * documents) and an optional permissions boundary.
 */
export function evaluateAccess(
  policies: readonly (Policy | unknown)[],
  request: AccessRequest,
  options: { boundary?: readonly (Policy | unknown)[] } = {},
): AccessDecision {
  const warnings: string[] = [];
  const context = asContext(request.context);
  const identity = scan(policies.map(asPolicy), request, context, warnings);
  const boundary = options.boundary
    ? scan(options.boundary.map(asPolicy), request, context, warnings)
    : undefined;
  const denies = [...identity.denies, ...(boundary?.denies ?? [])];
  if (denies.length > 0) return { decision: "explicitDeny", matched: denies, warnings };
  if (identity.allows.length === 0) return { decision: "implicitDeny", matched: [], warnings };
  if (boundary && boundary.allows.length === 0)
    return { decision: "implicitDeny", matched: [], deniedByBoundary: true, warnings };
  return { decision: "allowed", matched: identity.allows, warnings };
}

/** Shorthand: whether the request is allowed. */
export function isAllowed(
  policies: readonly (Policy | unknown)[],
  request: AccessRequest,
  options: { boundary?: readonly (Policy | unknown)[] } = {},
): boolean {
  return evaluateAccess(policies, request, options).decision === "allowed";
}
