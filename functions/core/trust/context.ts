import type { TrustCode } from "./findings.js";
import { isPodIdentityStatement, statementCovers } from "./match.js";
import { parseTrustPolicy } from "./parse.js";
import { podRequestVerdict } from "./verdict.js";

/** A cluster a template selects. */
export interface ClusterRef {
  name: string;
  arn: string;
}

/** Why EKS (at create) or STS (when a pod asks for credentials) would refuse the role in a cluster. */
export interface TrustRefusal {
  clusterName: string;
  code: TrustCode;
  by: "eks" | "sts";
  reason: string;
}

/** An association the role would serve: its service account, when known. */
export interface ServiceAccountRef {
  namespace: string;
  serviceAccount: string;
}

/** STS's verdict for one (cluster, service account): refused or undecided carry a reason. */
export interface PodTrustVerdict {
  clusterName: string;
  namespace?: string;
  serviceAccount?: string;
  verdict: "allowed" | "refused" | "undecided";
  code?: TrustCode;
  by?: "eks" | "sts";
  reason?: string;
}

/**
 * Verdicts for a role used by associations in `clusters` (each service account of `serviceAccounts`,
 * or one request with the service account unknown): EKS's create-time refusals, then STS's
 * decision on every key Pod Identity supplies (see `podRequestVerdict`).
 */
export function podIdentityVerdicts(
  trustPolicy: string,
  options: {
    accountId: string;
    clusters: ClusterRef[];
    serviceAccounts?: ServiceAccountRef[];
    sessionTagsDisabled?: boolean;
  },
): PodTrustVerdict[] {
  const accounts: (ServiceAccountRef | undefined)[] =
    options.serviceAccounts && options.serviceAccounts.length > 0 ? options.serviceAccounts : [undefined];
  const each = (f: (c: ClusterRef, sa: ServiceAccountRef | undefined) => PodTrustVerdict) =>
    options.clusters.flatMap((c) => accounts.map((sa) => f(c, sa)));
  const refuse = (code: TrustCode, reason: string) =>
    each((c, sa) => ({ clusterName: c.name, ...sa, verdict: "refused", code, by: "eks", reason }));
  const parsed = parseTrustPolicy(trustPolicy);
  if (!parsed.ok) return refuse("POLICY_MALFORMED", `the trust policy cannot be read: ${parsed.reason}`);
  const pods = parsed.statements.filter(isPodIdentityStatement);
  if (!pods.some((s) => statementCovers(s, "sts:AssumeRole")))
    return refuse(
      "NO_POD_IDENTITY_TRUST",
      "the trust policy does not allow pods.eks.amazonaws.com sts:AssumeRole",
    );
  if (!options.sessionTagsDisabled && !pods.some((s) => statementCovers(s, "sts:TagSession")))
    return refuse(
      "MISSING_TAG_SESSION",
      "session tags are enabled but the trust policy lacks sts:TagSession",
    );
  return each((cluster, sa) => {
    const v = podRequestVerdict(parsed.statements, {
      accountId: options.accountId,
      cluster,
      ...(sa ? { namespace: sa.namespace, serviceAccount: sa.serviceAccount } : {}),
      ...(options.sessionTagsDisabled ? { sessionTagsDisabled: true } : {}),
    });
    if (v.verdict === "allowed") return { clusterName: cluster.name, ...sa, verdict: "allowed" };
    if (v.verdict === "refused")
      return {
        clusterName: cluster.name,
        ...sa,
        verdict: "refused",
        code: v.code,
        by: "sts",
        reason: v.reason,
      };
    return {
      clusterName: cluster.name,
      ...sa,
      verdict: "undecided",
      code: "TRUST_UNDECIDED",
      by: "sts",
      reason: v.reason,
    };
  });
}

/**
 * For a role used by associations in `clusters`, the clusters where EKS would refuse to create
 * the association or STS would refuse the pods' credentials whatever the service account.
 * Undecided verdicts are not refusals (see {@link podIdentityVerdicts}).
 */
export function podIdentityRefusals(
  trustPolicy: string,
  options: { accountId: string; clusters: ClusterRef[]; sessionTagsDisabled?: boolean },
): TrustRefusal[] {
  return podIdentityVerdicts(trustPolicy, options)
    .filter((v) => v.verdict === "refused")
    .map((v) => ({ clusterName: v.clusterName, code: v.code!, by: v.by!, reason: v.reason! }));
}
