/**
 * What STS decides when EKS Pod Identity asks for a pod's credentials, as far as the engine can
 * know it before the pod exists. Pod Identity calls `sts:AssumeRole` (and `sts:TagSession` unless
 * session tags are disabled) as `pods.eks.amazonaws.com` with:
 * - `aws:SourceAccount` = the cluster's account;
 * - `aws:SourceArn` = not documented: public configurations scope it to the cluster ARN and to
 *   `arn:…:podidentityassociation/<cluster>/*`; a condition passing for either is accepted;
 * - session tags (EKS User Guide, pod-id-abac): `aws:RequestTag/eks-cluster-arn`,
 *   `eks-cluster-name`, `kubernetes-namespace`, `kubernetes-service-account` (exact per
 *   association), `kubernetes-pod-name`, `kubernetes-pod-uid` (unknown until the pod exists),
 *   and `aws:TagKeys` listing the six; none of them with `disableSessionTags`.
 * Any other key is not documented for this request: a condition on it is *undecided*.
 * Condition operators are the IAM evaluator's (`functions/core/iam`), so ArnEquals and ArnLike
 * give the same verdict, IfExists/ForAnyValue/Null follow IAM.
 */
import { evaluateConditionEntry } from "../iam/conditions.js";
import { requestContext } from "../iam/context.js";
import type { TrustCode } from "./findings.js";
import { isPodIdentityStatement, POD_IDENTITY_SERVICE, principalIds, statementCovers } from "./match.js";
import type { ConditionTest, TrustStatement } from "./parse.js";

/** Session tags Pod Identity sets (EKS User Guide, "List of session tags added by EKS Pod Identity"). */
export const POD_IDENTITY_SESSION_TAGS = [
  "eks-cluster-arn",
  "eks-cluster-name",
  "kubernetes-namespace",
  "kubernetes-service-account",
  "kubernetes-pod-name",
  "kubernetes-pod-uid",
] as const;

/** One credential request as Pod Identity would make it for an association. */
export interface PodRequest {
  accountId: string;
  cluster: { name: string; arn: string };
  /** undefined when the association is not known (linting a policy alone) */
  namespace?: string;
  serviceAccount?: string;
  sessionTagsDisabled?: boolean;
}

/** STS's decision for a request: allowed, refused (with the key or Deny that refuses), or undecided. */
export type PodVerdict =
  | { verdict: "allowed" }
  | { verdict: "refused"; code: TrustCode; reason: string }
  | { verdict: "undecided"; keys: string[]; reason: string };

type Outcome = true | false | "unknown";

function contextFor(request: PodRequest, sourceArn: string) {
  const keys: Record<string, string | string[]> = {
    "aws:SourceAccount": request.accountId,
    "aws:SourceArn": sourceArn,
  };
  if (!request.sessionTagsDisabled) {
    keys["aws:TagKeys"] = [...POD_IDENTITY_SESSION_TAGS];
    keys["aws:RequestTag/eks-cluster-arn"] = request.cluster.arn;
    keys["aws:RequestTag/eks-cluster-name"] = request.cluster.name;
    if (request.namespace !== undefined) keys["aws:RequestTag/kubernetes-namespace"] = request.namespace;
    if (request.serviceAccount !== undefined)
      keys["aws:RequestTag/kubernetes-service-account"] = request.serviceAccount;
  }
  return requestContext(keys);
}

/** Keys whose absence the engine knows: request tags when session tags are disabled. */
function knownAbsent(request: PodRequest, keyLower: string): boolean {
  return (
    Boolean(request.sessionTagsDisabled) &&
    (keyLower.startsWith("aws:requesttag/") || keyLower === "aws:tagkeys")
  );
}

function evaluateTest(
  test: ConditionTest,
  request: PodRequest,
  sourceArn: string,
  open: Set<string>,
): Outcome {
  const isOpen = (key: string) => !knownAbsent(request, key);
  try {
    const outcome = evaluateConditionEntry(
      { operator: test.operator, key: test.key, values: test.values },
      contextFor(request, sourceArn),
      { isOpen },
    );
    if (outcome === true || outcome === false) return outcome;
  } catch {
    // an operator IAM does not know: the engine cannot say what STS does
  }
  open.add(test.key);
  return "unknown";
}

function conditionsOf(
  s: TrustStatement,
  request: PodRequest,
  sourceArn: string,
  open: Set<string>,
): { outcome: Outcome; refusing?: string } {
  let unknown = false;
  for (const test of s.conditions) {
    const o = evaluateTest(test, request, sourceArn, open);
    if (o === false) return { outcome: false, refusing: test.key };
    if (o === "unknown") unknown = true;
  }
  return { outcome: unknown ? "unknown" : true };
}

function codeFor(key: string): TrustCode {
  const k = key.toLowerCase();
  if (k === "aws:sourceaccount") return "SOURCE_ACCOUNT_MISMATCH";
  if (k === "aws:sourcearn") return "SOURCE_ARN_EXCLUDES_CLUSTER";
  if (k.startsWith("aws:requesttag/") || k === "aws:tagkeys") return "REQUEST_TAG_EXCLUDES";
  return "CONDITION_REFUSES";
}

function forAction(
  statements: TrustStatement[],
  action: string,
  request: PodRequest,
  sourceArn: string,
): PodVerdict {
  const open = new Set<string>();
  let allowed: Outcome = false;
  let refusing: string | undefined;
  for (const s of statements.filter((st) => isPodIdentityStatement(st) && statementCovers(st, action))) {
    const c = conditionsOf(s, request, sourceArn, open);
    if (c.outcome === true) allowed = true;
    else if (c.outcome === "unknown" && allowed !== true) allowed = "unknown";
    else refusing ??= c.refusing;
  }
  let denied: Outcome = false;
  for (const s of statements) {
    if (s.effect !== "Deny" || !statementCovers(s, action)) continue;
    const p = s.principal;
    if (!(p?.wildcard || principalIds(p, "Service").includes(POD_IDENTITY_SERVICE))) continue;
    const c = conditionsOf(s, request, sourceArn, open);
    if (c.outcome === true) denied = true;
    else if (c.outcome === "unknown" && denied !== true) denied = "unknown";
  }
  const where = `pods of ${request.cluster.name}${request.namespace !== undefined ? ` (${request.namespace}/${request.serviceAccount ?? "*"})` : ""}`;
  if (denied === true)
    return {
      verdict: "refused",
      code: "CONDITION_REFUSES",
      reason: `a Deny statement refuses ${action} for ${where}`,
    };
  if (allowed === false)
    return {
      verdict: "refused",
      code: refusing ? codeFor(refusing) : "NO_POD_IDENTITY_TRUST",
      reason: `the ${refusing ?? "trust"} condition refuses ${action} for ${where}`,
    };
  if (allowed === true && denied === false) return { verdict: "allowed" };
  const keys = [...open].sort();
  return {
    verdict: "undecided",
    keys,
    reason: `STS evaluates ${keys.join(", ")} for ${action}, which the engine cannot know in advance for ${where}`,
  };
}

/** Candidate aws:SourceArn values: the cluster ARN and an association ARN of that cluster. */
export function sourceArnCandidates(clusterArn: string): string[] {
  const parts = clusterArn.split(":");
  const name = parts
    .slice(5)
    .join(":")
    .replace(/^cluster\//, "");
  const association = [...parts.slice(0, 5), `podidentityassociation/${name}/a-0000000000000000`].join(":");
  return [clusterArn, association];
}

/**
 * STS's verdict for one Pod Identity credential request, from the policy's statements (Allow for
 * `pods.eks.amazonaws.com`, Deny for it or `*`). Pure; EKS's create-time checks (the statement
 * exists, sts:TagSession) are the caller's (see `podIdentityRefusals`).
 */
export function podRequestVerdict(statements: TrustStatement[], request: PodRequest): PodVerdict {
  const actions = request.sessionTagsDisabled ? ["sts:AssumeRole"] : ["sts:AssumeRole", "sts:TagSession"];
  const perCandidate = sourceArnCandidates(request.cluster.arn).map((sourceArn) => {
    for (const action of actions) {
      const v = forAction(statements, action, request, sourceArn);
      if (v.verdict !== "allowed") return v;
    }
    return { verdict: "allowed" } as const;
  });
  // AWS does not document which ARN is aws:SourceArn: an Allow passing for either is accepted;
  // a Deny that applies to only one of them leaves the verdict open
  if (perCandidate.every((v) => v.verdict === "allowed")) return { verdict: "allowed" };
  const denied = perCandidate.find((v) => v.verdict === "refused" && v.code === "CONDITION_REFUSES");
  if (perCandidate.some((v) => v.verdict === "allowed")) {
    if (!denied) return { verdict: "allowed" };
    return {
      verdict: "undecided",
      keys: ["aws:SourceArn"],
      reason: `${denied.verdict === "refused" ? denied.reason : ""} if STS receives that aws:SourceArn (AWS does not document which ARN Pod Identity passes)`,
    };
  }
  return perCandidate.find((v) => v.verdict === "undecided") ?? perCandidate[0]!;
}
