/**
 * Condition evaluation as documented in the IAM User Guide ("Condition operators", "Condition
 * keys: single-valued and multivalued", "Policy variables"):
 * - all operators of a block and all keys of an operator must hold (AND); the values of one key
 *   are alternatives (OR) for positive operators, and none may match for negated ones;
 * - a key absent from the request makes positive operators false and negated ones true, except
 *   `...IfExists` (true), `Null`, `ForAllValues:` (true) and `ForAnyValue:` (false);
 * - `ForAnyValue:` holds if some request value satisfies the operator, `ForAllValues:` if every
 *   one does;
 * - condition keys are case-insensitive; policy variables are substituted in the values of
 *   String, Bool and Arn operators only.
 */
import type { RequestContext } from "./context.js";
import { contextValues } from "./context.js";
import { arnTokensMatch, compileGlob, globTest, type Token, tokensOf } from "./glob.js";
import { cidrContains } from "./ip.js";
import { type Operator, parseOperator, substitutesVariables } from "./operators.js";
import type { ConditionEntry } from "./policy.js";
import { PolicyDocumentError } from "./policy.js";
import { substitute, tokensText } from "./variables.js";

/**
 * Outcome of a condition: true/false, "unknown" when the caller declared a missing key open
 * (see {@link ConditionOptions.isOpen}), "unresolved" when a policy variable in its values has
 * no value (IAM then treats the statement as not matching).
 */
export type ConditionOutcome = boolean | "unknown" | "unresolved";

/** Options of condition evaluation. */
export interface ConditionOptions {
  /**
   * Keys (lowercased) the caller cannot know yet: when such a key is absent the outcome is
   * "unknown" instead of the documented absent-key result (for trust-policy linting).
   */
  isOpen?: (keyLower: string) => boolean;
  /** collects notes about undocumented cases (a single-valued operator on a multivalued key) */
  warnings?: string[];
}

function toNumber(text: string): number | undefined {
  if (text.trim() === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function toTime(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text) * 1000;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

function compare(base: string, actual: number | undefined, wanted: number | undefined): boolean {
  if (actual === undefined || wanted === undefined) return false;
  if (base.endsWith("GreaterThanEquals")) return actual >= wanted;
  if (base.endsWith("GreaterThan")) return actual > wanted;
  if (base.endsWith("LessThanEquals")) return actual <= wanted;
  if (base.endsWith("LessThan")) return actual < wanted;
  return actual === wanted; // Equals / NotEquals
}

/** Whether one policy value (tokens) matches one request value, ignoring negation. */
function valueMatches(op: Operator, policy: Token[], actual: string): boolean {
  switch (op.kind) {
    case "string": {
      if (op.base === "StringLike" || op.base === "StringNotLike")
        return globTest(compileGlob(policy), actual);
      const text = tokensText(policy);
      if (op.base.endsWith("IgnoreCase")) return text.toLowerCase() === actual.toLowerCase();
      return text === actual;
    }
    case "arn":
      return arnTokensMatch(policy, actual);
    case "bool":
      return tokensText(policy).toLowerCase() === actual.toLowerCase();
    case "binary":
      return tokensText(policy) === actual;
    case "ip":
      return cidrContains(tokensText(policy), actual);
    case "numeric":
      return compare(op.base, toNumber(actual), toNumber(tokensText(policy)));
    case "date":
      return compare(op.base, toTime(actual), toTime(tokensText(policy)));
    default:
      return false;
  }
}

/** Evaluates one condition entry (operator, key, values) against a request context. */
export function evaluateConditionEntry(
  entry: ConditionEntry,
  context: RequestContext,
  options: ConditionOptions = {},
): ConditionOutcome {
  const op = parseOperator(entry.operator);
  if (!op) throw new PolicyDocumentError(`Unknown condition operator ${entry.operator}`);
  const present = contextValues(context, entry.key);
  const keyLower = entry.key.toLowerCase();
  if (op.kind === "null") {
    if (!present && options.isOpen?.(keyLower)) return "unknown";
    return entry.values.some((v) =>
      v.toLowerCase() === "true" ? !present : v.toLowerCase() === "false" && !!present,
    );
  }
  if (!present) {
    if (options.isOpen?.(keyLower)) return "unknown";
    if (op.ifExists || op.set === "ForAllValues") return true;
    if (op.set === "ForAnyValue") return false;
    return op.negated;
  }
  const patterns: Token[][] = [];
  for (const value of entry.values) {
    const tokens = substitutesVariables(op) ? substitute(value, context) : tokensOf(value);
    if (!tokens) return "unresolved";
    patterns.push(tokens);
  }
  const anyPolicyValue = (actual: string) => patterns.some((p) => valueMatches(op, p, actual));
  const holdsFor = (actual: string) => (op.negated ? !anyPolicyValue(actual) : anyPolicyValue(actual));
  if (op.set === "ForAllValues") return present.values.every(holdsFor);
  if (op.set === "ForAnyValue") return present.values.some(holdsFor);
  if (present.multi && present.values.length > 1) {
    options.warnings?.push(
      `${entry.operator} on multivalued key ${entry.key} without ForAnyValue/ForAllValues: evaluated as "any value matches" (undocumented)`,
    );
  }
  const anyMatch = present.values.some(anyPolicyValue);
  return op.negated ? !anyMatch : anyMatch;
}

/**
 * Evaluates a statement's conditions: false as soon as one is false, "unresolved" if a variable
 * could not be resolved, "unknown" if one is unknown, else true.
 */
export function evaluateConditions(
  entries: readonly ConditionEntry[],
  context: RequestContext,
  options: ConditionOptions = {},
): ConditionOutcome {
  let unknown = false;
  let unresolved = false;
  for (const entry of entries) {
    const outcome = evaluateConditionEntry(entry, context, options);
    if (outcome === false) return false;
    if (outcome === "unknown") unknown = true;
    if (outcome === "unresolved") unresolved = true;
  }
  if (unresolved) return "unresolved";
  return unknown ? "unknown" : true;
}

/** Evaluates an IAM `Condition` object as written in a policy (`{"StringEquals": {...}}`). */
export function evaluateConditionBlock(
  block: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  context: RequestContext,
  options: ConditionOptions = {},
): ConditionOutcome {
  const entries: ConditionEntry[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    for (const [key, values] of Object.entries(keys)) {
      entries.push({ operator, key, values: (Array.isArray(values) ? values : [values]).map(String) });
    }
  }
  return evaluateConditions(entries, context, options);
}
