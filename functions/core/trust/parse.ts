/**
 * Reading trust policies: raw or URL-encoded JSON, single or listed values, and condition
 * operators and keys normalised the way IAM treats them (case-insensitive).
 */

/** A principal: `"*"` or typed lists (AWS, Service, Federated, CanonicalUser). */
export type Principal = { wildcard: true } | { wildcard: false; byType: Record<string, string[]> };

/** One condition test: `ForAnyValue:StringLikeIfExists` → set "ForAnyValue", base "StringLike", ifExists. */
export interface ConditionTest {
  /** operator as written */
  operator: string;
  /** canonical base operator, e.g. "StringEquals", or the written name when unknown */
  base: string;
  ifExists: boolean;
  set?: "ForAnyValue" | "ForAllValues";
  /** condition key as written */
  key: string;
  /** condition key lowercased (IAM compares keys case-insensitively) */
  keyLower: string;
  values: string[];
}

/** A normalised statement of a trust policy. */
export interface TrustStatement {
  index: number;
  sid?: string;
  effect: string;
  principal?: Principal;
  notPrincipal?: Principal;
  actions: string[];
  notActions: string[];
  conditions: ConditionTest[];
  raw: Record<string, unknown>;
}

/** A parsed policy, or the reasons it could not be read. */
export type ParseResult =
  | {
      ok: true;
      document: Record<string, unknown>;
      statements: TrustStatement[];
      problems: StatementProblem[];
    }
  | { ok: false; reason: string };

/** A statement that could not be normalised (its index and why). */
export interface StatementProblem {
  index: number;
  reason: string;
}

const OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
];
const OPERATOR_BY_LOWER = new Map(OPERATORS.map((o) => [o.toLowerCase(), o]));

/** Decodes IAM's URL-encoded form when the text is not already JSON. */
export function decodePolicyText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || !trimmed.includes("%")) return trimmed;
  try {
    return decodeURIComponent(trimmed.replace(/\+/g, "%20"));
  } catch {
    return trimmed;
  }
}

/** A scalar-or-list value as a list of strings; undefined when it holds anything else. */
export function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === "string") out.push(item);
    else if (typeof item === "number" || typeof item === "boolean") out.push(String(item));
    else return undefined;
  }
  return out;
}

function parsePrincipal(value: unknown): Principal | undefined {
  if (value === "*") return { wildcard: true };
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const byType: Record<string, string[]> = {};
  for (const [type, ids] of Object.entries(value as Record<string, unknown>)) {
    const list = stringList(ids);
    if (!list) return undefined;
    byType[type] = list;
  }
  return { wildcard: false, byType };
}

/** Splits a written operator into set qualifier, canonical base and IfExists. */
export function parseOperator(written: string): Pick<ConditionTest, "base" | "ifExists" | "set"> {
  let rest = written;
  let set: ConditionTest["set"];
  const qualifier = /^(foranyvalue|forallvalues):/i.exec(rest);
  if (qualifier) {
    set = qualifier[1]!.toLowerCase() === "foranyvalue" ? "ForAnyValue" : "ForAllValues";
    rest = rest.slice(qualifier[0].length);
  }
  let ifExists = false;
  if (/ifexists$/i.test(rest)) {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  const base = OPERATOR_BY_LOWER.get(rest.toLowerCase()) ?? rest;
  return set ? { base, ifExists, set } : { base, ifExists };
}

function parseConditions(value: unknown): ConditionTest[] | undefined {
  if (value === undefined) return [];
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const tests: ConditionTest[] = [];
  for (const [operator, block] of Object.entries(value as Record<string, unknown>)) {
    if (!block || typeof block !== "object" || Array.isArray(block)) return undefined;
    for (const [key, raw] of Object.entries(block as Record<string, unknown>)) {
      const values = stringList(raw);
      if (!values) return undefined;
      tests.push({ operator, ...parseOperator(operator), key, keyLower: key.toLowerCase(), values });
    }
  }
  return tests;
}

function parseStatement(raw: unknown, index: number): TrustStatement | StatementProblem {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    return { index, reason: "a statement must be a JSON object" };
  const s = raw as Record<string, unknown>;
  if (s.Effect !== "Allow" && s.Effect !== "Deny") {
    return { index, reason: `Effect must be "Allow" or "Deny", not ${JSON.stringify(s.Effect ?? null)}` };
  }
  if (s.Principal === undefined && s.NotPrincipal === undefined) {
    return { index, reason: "a trust policy statement needs a Principal" };
  }
  if (s.Action === undefined && s.NotAction === undefined)
    return { index, reason: "the statement has no Action" };
  const principal = s.Principal === undefined ? undefined : parsePrincipal(s.Principal);
  const notPrincipal = s.NotPrincipal === undefined ? undefined : parsePrincipal(s.NotPrincipal);
  if ((s.Principal !== undefined && !principal) || (s.NotPrincipal !== undefined && !notPrincipal)) {
    return { index, reason: 'Principal must be "*" or an object of principal lists' };
  }
  const actions = stringList(s.Action);
  const notActions = stringList(s.NotAction);
  if (!actions || !notActions) return { index, reason: "Action must be a string or a list of strings" };
  const conditions = parseConditions(s.Condition);
  if (!conditions) return { index, reason: "Condition must map operators to objects of keys and values" };
  return {
    index,
    effect: s.Effect,
    actions,
    notActions,
    conditions,
    raw: s,
    ...(typeof s.Sid === "string" ? { sid: s.Sid } : {}),
    ...(principal ? { principal } : {}),
    ...(notPrincipal ? { notPrincipal } : {}),
  };
}

/** Parses a trust policy from text (raw JSON or IAM's URL-encoded form). Never throws. */
export function parseTrustPolicy(text: unknown): ParseResult {
  if (typeof text !== "string") return { ok: false, reason: "the policy is not text" };
  const decoded = decodePolicyText(text);
  if (decoded === "") return { ok: false, reason: "the policy is empty" };
  let document: unknown;
  try {
    document = JSON.parse(decoded);
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${(error as Error).message}` };
  }
  return parseTrustDocument(document);
}

/** Parses an already decoded policy document. Never throws. */
export function parseTrustDocument(document: unknown): ParseResult {
  if (!document || typeof document !== "object" || Array.isArray(document)) {
    return { ok: false, reason: "the policy must be a JSON object" };
  }
  const doc = document as Record<string, unknown>;
  if (doc.Statement === undefined) return { ok: false, reason: "the policy has no Statement" };
  const rawStatements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (rawStatements.length === 0) return { ok: false, reason: "Statement is empty" };
  const statements: TrustStatement[] = [];
  const problems: StatementProblem[] = [];
  rawStatements.forEach((raw, index) => {
    const parsed = parseStatement(raw, index);
    if ("reason" in parsed) problems.push(parsed);
    else statements.push(parsed);
  });
  return { ok: true, document: doc, statements, problems };
}

/** Policy size as IAM counts it: the document without insignificant whitespace. */
export function policySize(document: unknown): number {
  return JSON.stringify(document).length;
}
