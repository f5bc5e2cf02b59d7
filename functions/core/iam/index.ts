/**
 * A pure IAM policy evaluator (no SDK, no network): identity policies and permissions boundaries
 * (explicit deny > allow > implicit deny), `Action`/`NotAction`, `Resource`/`NotResource` with
 * per-component ARN wildcards, every documented condition operator with `...IfExists`,
 * `ForAnyValue:`/`ForAllValues:` and `Null`, case-insensitive condition keys, multivalued keys,
 * policy variables substituted only where IAM substitutes them, and a checker for variables
 * placed where IAM does not.
 *
 * API:
 * - `evaluateAccess(policies, {action, resource, context})` → `{decision, matched, warnings}`;
 *   `isAllowed(...)` → boolean. Policies are raw documents (object, JSON, URL-encoded JSON) or
 *   `parsePolicy(doc, name)` results; `{boundary: [...]}` adds a permissions boundary.
 * - `requestContext({key: value | value[]})` builds a context (arrays are multivalued keys).
 * - `evaluateConditionBlock(conditionObject, context, {isOpen?})` / `evaluateConditionEntry` →
 *   true | false | "unknown" (a key `isOpen` declares not knowable) | "unresolved" (a variable
 *   without value): reusable for trust-policy conditions.
 * - `parseOperator(name)` → set/base/kind/negated/ifExists, or undefined for unknown operators.
 * - `wildcardMatch(pattern, value, ignoreCase?)`: linear-time-ish `*`/`?` glob without regex.
 * - `checkPolicy(doc)` → findings such as `VARIABLE_IN_CONDITION_KEY`.
 */
export { checkPolicy, MULTIVALUED_KEYS, type PolicyCheckFinding } from "./check.js";
export {
  type ConditionOptions,
  type ConditionOutcome,
  evaluateConditionBlock,
  evaluateConditionEntry,
  evaluateConditions,
} from "./conditions.js";
export { type ContextValue, type RequestContext, requestContext } from "./context.js";
export {
  type AccessDecision,
  type AccessRequest,
  evaluateAccess,
  isAllowed,
  type MatchedStatement,
  statementApplies,
} from "./evaluate.js";
export { arnTokensMatch, tokensOf, wildcardMatch } from "./glob.js";
export { cidrContains } from "./ip.js";
export { type Operator, parseOperator, substitutesVariables } from "./operators.js";
export {
  type ConditionEntry,
  type Policy,
  PolicyDocumentError,
  type PolicyStatement,
  parsePolicy,
} from "./policy.js";
export { substitute, variablesIn } from "./variables.js";
