/**
 * Reading IAM policy documents (identity policies, permissions boundaries, trust policies) into
 * normalised statements. Shapes follow the IAM JSON policy grammar: `Action`/`NotAction`,
 * `Resource`/`NotResource`, `Principal`/`NotPrincipal`, single values or lists, `Condition` as
 * operator → key → value(s).
 */
import { AutopilotError } from "../errors.js";

/** A policy document that cannot be read (not JSON, no statements, a malformed element). */
export class PolicyDocumentError extends AutopilotError {
  override name = "PolicyDocumentError";
}

/** One condition test: operator (with its set/IfExists parts), key as written, values as strings. */
export interface ConditionEntry {
  /** the operator as written, e.g. `ForAnyValue:StringLikeIfExists` */
  operator: string;
  key: string;
  values: string[];
}

/** A normalised statement. Exactly one of actions/notActions and at most one of resources/notResources is set. */
export interface PolicyStatement {
  index: number;
  sid?: string;
  effect: "Allow" | "Deny";
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principal?: unknown;
  notPrincipal?: unknown;
  conditions: ConditionEntry[];
}

/** A parsed policy document with the name it is known by (for explanations). */
export interface Policy {
  name: string;
  statements: PolicyStatement[];
}

function list(value: unknown, what: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new PolicyDocumentError(`${what} must be a string or a list of strings`);
  });
}

function conditionsOf(raw: unknown, index: number): ConditionEntry[] {
  if (raw === undefined) return [];
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new PolicyDocumentError(`Statement ${index}: Condition must be an object`);
  const out: ConditionEntry[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    if (!block || typeof block !== "object" || Array.isArray(block))
      throw new PolicyDocumentError(`Statement ${index}: Condition ${operator} must map keys to values`);
    for (const [key, values] of Object.entries(block)) {
      out.push({ operator, key, values: list(values, `Statement ${index}: Condition ${operator} ${key}`) });
    }
  }
  return out;
}

/** Normalises a policy document (object, JSON text, or URL-encoded JSON text as IAM returns it). */
export function parsePolicy(document: unknown, name = "policy"): Policy {
  let doc = document;
  if (typeof doc === "string") {
    const text = doc.trim().startsWith("%7B") || doc.trim().startsWith("%7b") ? decodeURIComponent(doc) : doc;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw new PolicyDocumentError(`${name}: not JSON`, { cause: error });
    }
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc))
    throw new PolicyDocumentError(`${name}: a policy document is a JSON object`);
  const raw = (doc as Record<string, unknown>).Statement;
  if (raw === undefined) throw new PolicyDocumentError(`${name}: no Statement`);
  const statements = (Array.isArray(raw) ? raw : [raw]).map((s, index): PolicyStatement => {
    if (!s || typeof s !== "object" || Array.isArray(s))
      throw new PolicyDocumentError(`${name}: statement ${index} is not an object`);
    const st = s as Record<string, unknown>;
    if (st.Effect !== "Allow" && st.Effect !== "Deny")
      throw new PolicyDocumentError(`${name}: statement ${index}: Effect must be Allow or Deny`);
    if ((st.Action === undefined) === (st.NotAction === undefined))
      throw new PolicyDocumentError(`${name}: statement ${index}: exactly one of Action and NotAction`);
    if (st.Resource !== undefined && st.NotResource !== undefined)
      throw new PolicyDocumentError(`${name}: statement ${index}: both Resource and NotResource`);
    return {
      index,
      ...(typeof st.Sid === "string" ? { sid: st.Sid } : {}),
      effect: st.Effect,
      ...(st.Action !== undefined ? { actions: list(st.Action, "Action") } : {}),
      ...(st.NotAction !== undefined ? { notActions: list(st.NotAction, "NotAction") } : {}),
      ...(st.Resource !== undefined ? { resources: list(st.Resource, "Resource") } : {}),
      ...(st.NotResource !== undefined ? { notResources: list(st.NotResource, "NotResource") } : {}),
      ...(st.Principal !== undefined ? { principal: st.Principal } : {}),
      ...(st.NotPrincipal !== undefined ? { notPrincipal: st.NotPrincipal } : {}),
      conditions: conditionsOf(st.Condition, index),
    };
  });
  return { name, statements };
}
