import {
  evaluateConditions,
  isNegated,
  isPodIdentityStatement,
  oidcProviders,
  POD_IDENTITY_SERVICE,
  providerHost,
  statementCovers,
} from "./match.js";
import {
  parseOperator,
  parseTrustDocument,
  parseTrustPolicy,
  policySize,
  type TrustStatement,
} from "./parse.js";

/** Result of an edit: the new document, whether anything changed, and the sizes. */
export type EditResult =
  | {
      ok: true;
      document: Record<string, unknown>;
      changed: boolean;
      sizeBefore: number;
      sizeAfter: number;
    }
  | { ok: false; reason: string };

/** A document as text or already parsed. */
export type PolicyInput = string | Record<string, unknown>;

function load(input: PolicyInput) {
  return typeof input === "string" ? parseTrustPolicy(input) : parseTrustDocument(input);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function statementList(document: Record<string, unknown>): unknown[] {
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

function withStatements(
  document: Record<string, unknown>,
  statements: unknown[],
  wasList: boolean,
): Record<string, unknown> {
  return { ...document, Statement: !wasList && statements.length === 1 ? statements[0] : statements };
}

/** Where the pods will come from: the account and, when known, the cluster. */
export interface PodIdentityContext {
  sourceAccount?: string;
  clusterArn?: string;
  /** sts:TagSession is needed unless the associations disable session tags (default: needed) */
  sessionTags?: boolean;
}

function contextKeys(ctx: PodIdentityContext): Record<string, string> {
  return {
    ...(ctx.sourceAccount ? { "aws:sourceaccount": ctx.sourceAccount } : {}),
    ...(ctx.clusterArn ? { "aws:sourcearn": ctx.clusterArn } : {}),
  };
}

function usable(s: TrustStatement, ctx: PodIdentityContext): boolean {
  return isPodIdentityStatement(s) && evaluateConditions(s, contextKeys(ctx)) !== "no-match";
}

/**
 * Adds Pod Identity trust idempotently: nothing when an equivalent statement exists, sts:TagSession
 * added to a statement that only lacks it, else one new statement (with aws:SourceAccount if given).
 */
export function addPodIdentityTrust(input: PolicyInput, ctx: PodIdentityContext = {}): EditResult {
  const parsed = load(input);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  if (parsed.problems.length > 0)
    return { ok: false, reason: `statement ${parsed.problems[0]!.index}: ${parsed.problems[0]!.reason}` };
  const needTags = ctx.sessionTags !== false;
  const sizeBefore = policySize(parsed.document);
  const candidates = parsed.statements.filter((s) => usable(s, ctx) && statementCovers(s, "sts:AssumeRole"));
  if (candidates.some((s) => !needTags || statementCovers(s, "sts:TagSession"))) {
    return { ok: true, document: clone(parsed.document), changed: false, sizeBefore, sizeAfter: sizeBefore };
  }
  const wasList = Array.isArray(parsed.document.Statement);
  const statements = clone(statementList(parsed.document));
  const lacking = candidates[0];
  if (lacking) {
    const raw = statements[lacking.index] as Record<string, unknown>;
    const actions = Array.isArray(raw.Action) ? raw.Action : [raw.Action];
    raw.Action = [...actions, "sts:TagSession"];
  } else {
    const sids = new Set(parsed.statements.map((s) => s.sid));
    let sid = "EksPodIdentity";
    for (let n = 2; sids.has(sid); n++) sid = `EksPodIdentity${n}`;
    statements.push({
      Sid: sid,
      Effect: "Allow",
      Principal: { Service: POD_IDENTITY_SERVICE },
      Action: needTags ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"],
      ...(ctx.sourceAccount
        ? { Condition: { StringEquals: { "aws:SourceAccount": ctx.sourceAccount } } }
        : {}),
    });
  }
  const document = withStatements(clone(parsed.document), statements, wasList || statements.length > 1);
  return { ok: true, document, changed: true, sizeBefore, sizeAfter: policySize(document) };
}

/** Result of removing IRSA trust, with what was removed and what could not be. */
export type RemoveIrsaResult =
  | (Extract<EditResult, { ok: true }> & {
      removedSubjects: string[];
      /** subjects matched only by a wildcard sub, or by a statement without sub: left in place */
      unresolvedSubjects: string[];
      droppedStatements: number[];
    })
  | { ok: false; reason: string };

/**
 * Removes one cluster's IRSA trust for the given subjects (`system:serviceaccount:ns:sa`): only
 * `sub` values of that provider's statements; a statement is dropped only when no sub is left;
 * other providers' statements are untouched.
 */
export function removeIrsaTrust(
  input: PolicyInput,
  providerArn: string,
  subjects: string[],
): RemoveIrsaResult {
  const parsed = load(input);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const host = providerHost(providerArn).toLowerCase();
  const subKey = `${host}:sub`;
  const wanted = new Set(subjects);
  const wasList = Array.isArray(parsed.document.Statement);
  const statements = clone(statementList(parsed.document));
  const removed = new Set<string>();
  const dropped: number[] = [];
  const byIndex = new Map(parsed.statements.map((s) => [s.index, s]));
  const kept: unknown[] = [];
  statements.forEach((raw, index) => {
    const s = byIndex.get(index);
    const ours =
      s?.effect === "Allow" && oidcProviders(s).some((p) => p.toLowerCase() === providerArn.toLowerCase());
    if (!ours) {
      kept.push(raw);
      return;
    }
    const condition = (raw as { Condition?: Record<string, Record<string, unknown>> }).Condition ?? {};
    let subsLeft = 0;
    let hadSub = false;
    for (const [operator, block] of Object.entries(condition)) {
      // exclusions (StringNotEquals, StringNotLike, …) stay as written: removing a value there
      // would widen the trust
      if (isNegated(parseOperator(operator).base)) continue;
      for (const [key, value] of Object.entries(block)) {
        if (key.toLowerCase() !== subKey) continue;
        hadSub = true;
        const values = Array.isArray(value) ? (value as string[]) : [value as string];
        const remaining = values.filter((v) => {
          if (wanted.has(v)) {
            removed.add(v);
            return false;
          }
          return true;
        });
        subsLeft += remaining.length;
        if (remaining.length === values.length) continue;
        if (remaining.length === 0) delete block[key];
        else block[key] = Array.isArray(value) || remaining.length > 1 ? remaining : remaining[0];
      }
      if (Object.keys(block).length === 0) delete condition[operator];
    }
    if (hadSub && subsLeft === 0) dropped.push(index);
    else kept.push(raw);
  });
  if (kept.length === 0)
    return { ok: false, reason: "removing this IRSA trust would leave the policy without statements" };
  const document = withStatements(clone(parsed.document), kept, wasList);
  const sizeBefore = policySize(parsed.document);
  return {
    ok: true,
    document,
    changed: removed.size > 0,
    sizeBefore,
    sizeAfter: policySize(document),
    removedSubjects: [...removed].sort(),
    unresolvedSubjects: subjects.filter((s) => !removed.has(s)).sort(),
    droppedStatements: dropped,
  };
}

function canonical(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v, key));
    if (items.length === 1) return items[0];
    return items
      .map((i) => JSON.stringify(i))
      .sort()
      .map((s) => JSON.parse(s) as unknown);
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => [k.toLowerCase(), canonical(v, k.toLowerCase())] as const,
    );
    entries.sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries);
  }
  if (typeof value === "string" && (key === "action" || key === "notaction")) return value.toLowerCase();
  return value;
}

/**
 * Structural equality of two policies: key case, list order and single-vs-list forms ignored, as
 * IAM reads them. Used by rollback to prove a trust policy was restored.
 */
export function policiesEqual(a: PolicyInput, b: PolicyInput): boolean {
  const pa = load(a);
  const pb = load(b);
  if (!pa.ok || !pb.ok) return false;
  return JSON.stringify(canonical(pa.document)) === JSON.stringify(canonical(pb.document));
}
