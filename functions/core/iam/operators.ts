/**
 * IAM condition operators: names, categories, and which accept policy variables in their values
 * (IAM User Guide, "Condition operators": String, Bool and ARN operators support policy
 * variables; Numeric, Date, Binary and IP address operators do not).
 */

/** The category of a base operator. */
export type OperatorKind = "string" | "numeric" | "date" | "bool" | "binary" | "ip" | "arn" | "null";

const BASES: Record<string, { kind: OperatorKind; negated: boolean }> = {
  StringEquals: { kind: "string", negated: false },
  StringNotEquals: { kind: "string", negated: true },
  StringEqualsIgnoreCase: { kind: "string", negated: false },
  StringNotEqualsIgnoreCase: { kind: "string", negated: true },
  StringLike: { kind: "string", negated: false },
  StringNotLike: { kind: "string", negated: true },
  NumericEquals: { kind: "numeric", negated: false },
  NumericNotEquals: { kind: "numeric", negated: true },
  NumericLessThan: { kind: "numeric", negated: false },
  NumericLessThanEquals: { kind: "numeric", negated: false },
  NumericGreaterThan: { kind: "numeric", negated: false },
  NumericGreaterThanEquals: { kind: "numeric", negated: false },
  DateEquals: { kind: "date", negated: false },
  DateNotEquals: { kind: "date", negated: true },
  DateLessThan: { kind: "date", negated: false },
  DateLessThanEquals: { kind: "date", negated: false },
  DateGreaterThan: { kind: "date", negated: false },
  DateGreaterThanEquals: { kind: "date", negated: false },
  Bool: { kind: "bool", negated: false },
  BinaryEquals: { kind: "binary", negated: false },
  IpAddress: { kind: "ip", negated: false },
  NotIpAddress: { kind: "ip", negated: true },
  ArnEquals: { kind: "arn", negated: false },
  ArnLike: { kind: "arn", negated: false },
  ArnNotEquals: { kind: "arn", negated: true },
  ArnNotLike: { kind: "arn", negated: true },
  Null: { kind: "null", negated: false },
};
const BY_LOWER = new Map(Object.keys(BASES).map((b) => [b.toLowerCase(), b]));

/** A parsed operator: `ForAllValues:StringNotLikeIfExists` → set, base `StringNotLike`, ifExists. */
export interface Operator {
  written: string;
  set?: "ForAnyValue" | "ForAllValues";
  base: string;
  kind: OperatorKind;
  negated: boolean;
  ifExists: boolean;
}

/** Parses an operator name; undefined when IAM has no such operator. */
export function parseOperator(written: string): Operator | undefined {
  let rest = written;
  let set: Operator["set"];
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const prefix = rest.slice(0, colon).toLowerCase();
    if (prefix === "foranyvalue") set = "ForAnyValue";
    else if (prefix === "forallvalues") set = "ForAllValues";
    else return undefined;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.toLowerCase().endsWith("ifexists")) {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  const base = BY_LOWER.get(rest.toLowerCase());
  if (!base) return undefined;
  const { kind, negated } = BASES[base]!;
  // Null takes neither a set operator nor IfExists
  if (kind === "null" && (set || ifExists)) return undefined;
  return { written, ...(set ? { set } : {}), base, kind, negated, ifExists };
}

/** Whether IAM substitutes policy variables in the values of this operator. */
export function substitutesVariables(op: Operator): boolean {
  return op.kind === "string" || op.kind === "arn" || op.kind === "bool";
}
