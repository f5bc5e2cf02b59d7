/**
 * Static checks of a policy document for mistakes IAM accepts silently but that make a
 * statement never (or always) match: policy variables where IAM does not substitute them
 * (condition keys, `Action`, Numeric/Date/Binary/IpAddress values), unknown operators, and
 * single-valued operators on keys AWS documents as multivalued.
 */
import { parseOperator, substitutesVariables } from "./operators.js";
import { parsePolicy } from "./policy.js";
import { hasVariableSyntax } from "./variables.js";

/** A problem in a policy document. */
export interface PolicyCheckFinding {
  code:
    | "POLICY_MALFORMED"
    | "VARIABLE_IN_CONDITION_KEY"
    | "VARIABLE_IN_ACTION"
    | "VARIABLE_NOT_SUBSTITUTED"
    | "UNKNOWN_OPERATOR"
    | "MULTIVALUED_KEY_WITHOUT_SET_OPERATOR";
  /** statement index (absent for document-level problems) */
  statement?: number;
  message: string;
}

/** Condition keys AWS documents as multivalued (they need ForAnyValue:/ForAllValues:). */
export const MULTIVALUED_KEYS: ReadonlySet<string> = new Set([
  "aws:tagkeys",
  "aws:calledvia",
  "route53:changeresourcerecordsetsnormalizedrecordnames",
  "route53:changeresourcerecordsetsrecordtypes",
  "route53:changeresourcerecordsetsactions",
]);

/** Checks a policy document; an empty list means nothing found. */
export function checkPolicy(document: unknown): PolicyCheckFinding[] {
  let statements: ReturnType<typeof parsePolicy>["statements"];
  try {
    statements = parsePolicy(document).statements;
  } catch (error) {
    return [{ code: "POLICY_MALFORMED", message: error instanceof Error ? error.message : String(error) }];
  }
  const findings: PolicyCheckFinding[] = [];
  for (const s of statements) {
    for (const a of [...(s.actions ?? []), ...(s.notActions ?? [])]) {
      if (hasVariableSyntax(a))
        findings.push({
          code: "VARIABLE_IN_ACTION",
          statement: s.index,
          message: `Action ${a}: IAM does not substitute policy variables in Action`,
        });
    }
    for (const c of s.conditions) {
      const op = parseOperator(c.operator);
      if (!op) {
        findings.push({
          code: "UNKNOWN_OPERATOR",
          statement: s.index,
          message: `Unknown condition operator ${c.operator}`,
        });
        continue;
      }
      if (hasVariableSyntax(c.key))
        findings.push({
          code: "VARIABLE_IN_CONDITION_KEY",
          statement: s.index,
          message: `Condition key ${c.key}: IAM reads condition keys literally, the variable is never substituted and the condition never matches as intended`,
        });
      if (!substitutesVariables(op) && c.values.some(hasVariableSyntax))
        findings.push({
          code: "VARIABLE_NOT_SUBSTITUTED",
          statement: s.index,
          message: `${c.operator} ${c.key}: IAM does not substitute policy variables in ${op.kind} operator values`,
        });
      if (!op.set && MULTIVALUED_KEYS.has(c.key.toLowerCase()))
        findings.push({
          code: "MULTIVALUED_KEY_WITHOUT_SET_OPERATOR",
          statement: s.index,
          message: `${c.operator} ${c.key}: a multivalued key needs ForAnyValue: or ForAllValues:`,
        });
    }
  }
  return findings;
}
