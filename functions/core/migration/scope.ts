import { type PolicyInput, policiesEqual } from "../trust/edit.js";
import { POD_IDENTITY_SERVICE } from "../trust/match.js";
import { parseTrustDocument, parseTrustPolicy, policySize } from "../trust/parse.js";
import { podIdentityAllowed, podIdentityContext } from "./evaluate.js";

/** Who the Pod Identity trust a migration adds is for. */
export interface PodTrustScope {
  accountId: string;
  clusterArn: string;
  clusterName: string;
  serviceAccounts: { namespace: string; serviceAccount: string; sessionTags: boolean }[];
  /** a short, unique tag of the run: the Sid prefix of the statements it adds */
  runTag: string;
}

/** The statements a run adds to one role, and the document with them. */
export type PodTrustAddition =
  | {
      ok: true;
      /** statements added (empty when the policy already lets every service account in) */
      statements: Record<string, unknown>[];
      document: Record<string, unknown>;
      sizeBefore: number;
      sizeAfter: number;
      /** service accounts whose statement falls back to aws:SourceAccount alone (session tags disabled) */
      unscoped: string[];
    }
  | { ok: false; reason: string };

function load(input: PolicyInput) {
  return typeof input === "string" ? parseTrustPolicy(input) : parseTrustDocument(input);
}

/**
 * Pod Identity trust that keeps IRSA's scope: one statement per namespace, limited with
 * `aws:RequestTag/eks-cluster-arn`, `kubernetes-namespace` and `kubernetes-service-account` to the
 * service accounts the IRSA statement let in, plus `aws:SourceAccount`. Service accounts whose
 * association disables session tags get a statement with `aws:SourceAccount` only (and are listed
 * in `unscoped`), since no request tag arrives for them. Service accounts the policy already
 * certainly lets in get nothing. Sids carry the run's tag, so a compensating edit finds its own.
 */
export function addScopedPodTrust(input: PolicyInput, scope: PodTrustScope): PodTrustAddition {
  const parsed = load(input);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  if (parsed.problems.length > 0)
    return { ok: false, reason: `statement ${parsed.problems[0]!.index}: ${parsed.problems[0]!.reason}` };
  const sizeBefore = policySize(parsed.document);
  const missing = scope.serviceAccounts.filter(
    (sa) =>
      !podIdentityAllowed(
        parsed.statements,
        podIdentityContext({ ...scope, ...sa, sessionTags: sa.sessionTags }),
        sa.sessionTags,
      ),
  );
  const byNamespace = new Map<string, string[]>();
  const unscoped: string[] = [];
  for (const sa of missing) {
    if (!sa.sessionTags) {
      unscoped.push(`${sa.namespace}/${sa.serviceAccount}`);
      continue;
    }
    byNamespace.set(sa.namespace, [...(byNamespace.get(sa.namespace) ?? []), sa.serviceAccount]);
  }
  const sids = new Set(parsed.statements.map((s) => s.sid));
  let n = 0;
  const nextSid = () => {
    let sid: string;
    do sid = `PodIdMigration${scope.runTag}${n++}`;
    while (sids.has(sid));
    sids.add(sid);
    return sid;
  };
  const statements: Record<string, unknown>[] = [];
  for (const [namespace, accounts] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...new Set(accounts)].sort();
    statements.push({
      Sid: nextSid(),
      Effect: "Allow",
      Principal: { Service: POD_IDENTITY_SERVICE },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        StringEquals: {
          "aws:SourceAccount": scope.accountId,
          "aws:RequestTag/eks-cluster-arn": scope.clusterArn,
          "aws:RequestTag/kubernetes-namespace": namespace,
          "aws:RequestTag/kubernetes-service-account": sorted.length === 1 ? sorted[0] : sorted,
        },
      },
    });
  }
  if (unscoped.length > 0) {
    statements.push({
      Sid: nextSid(),
      Effect: "Allow",
      Principal: { Service: POD_IDENTITY_SERVICE },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": scope.accountId } },
    });
  }
  const existing = Array.isArray(parsed.document.Statement)
    ? parsed.document.Statement
    : [parsed.document.Statement];
  const document =
    statements.length === 0
      ? structuredClone(parsed.document)
      : { ...structuredClone(parsed.document), Statement: [...structuredClone(existing), ...statements] };
  return { ok: true, statements, document, sizeBefore, sizeAfter: policySize(document), unscoped };
}

/** Outcome of undoing a run's additions to one document. */
export type UndoResult =
  | { ok: true; document: Record<string, unknown>; changed: boolean }
  | { ok: false; difference: string[] };

function sidOf(statement: unknown): string | undefined {
  const sid = (statement as { Sid?: unknown } | null)?.Sid;
  return typeof sid === "string" ? sid : undefined;
}

/**
 * The compensating edit of `addScopedPodTrust`: removes exactly the statements the run added,
 * found by Sid and required to be still what the run wrote. Never restores a snapshot, so
 * everything else in the document (other runs' statements, people's edits) stays. When the
 * document no longer holds what the run wrote, nothing is changed and `difference` says what
 * differs. `written: false` (the run recorded its intent but may have crashed before the write)
 * accepts a document that holds none of the statements.
 */
export function undoPodTrust(
  current: PolicyInput,
  added: Record<string, unknown>[],
  written: boolean,
): UndoResult {
  const parsed = load(current);
  if (!parsed.ok)
    return { ok: false, difference: [`the current trust policy cannot be read: ${parsed.reason}`] };
  const list = Array.isArray(parsed.document.Statement)
    ? parsed.document.Statement
    : [parsed.document.Statement];
  const difference: string[] = [];
  const remove = new Set<number>();
  for (const statement of added) {
    const sid = sidOf(statement);
    const index = list.findIndex((s) => sid !== undefined && sidOf(s) === sid);
    if (index < 0) {
      difference.push(`statement ${sid} that this run added is no longer in the policy`);
      continue;
    }
    const wrap = (s: unknown) => ({ Version: "2012-10-17", Statement: [s] });
    if (!policiesEqual(wrap(list[index]), wrap(statement))) {
      difference.push(
        `statement ${sid} was changed since this run wrote it: now ${JSON.stringify(list[index])}, written ${JSON.stringify(statement)}`,
      );
      continue;
    }
    remove.add(index);
  }
  if (!written && remove.size === 0)
    return { ok: true, document: structuredClone(parsed.document), changed: false };
  if (difference.length > 0) return { ok: false, difference };
  const kept = list.filter((_, i) => !remove.has(i));
  if (kept.length === 0)
    return { ok: false, difference: ["removing this run's statements would leave no statement"] };
  return {
    ok: true,
    document: { ...structuredClone(parsed.document), Statement: kept },
    changed: remove.size > 0,
  };
}
