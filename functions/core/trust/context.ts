import type { TrustCode } from "./findings.js";
import {
  evaluateCondition,
  isPodIdentityStatement,
  POD_IDENTITY_SERVICE,
  principalIds,
  statementCovers,
} from "./match.js";
import { parseTrustPolicy, type TrustStatement } from "./parse.js";

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

function refusingKey(s: TrustStatement, context: Record<string, string>): string | undefined {
  return s.conditions.find((t) => evaluateCondition(t, context) === "no-match")?.keyLower;
}

function deniesPods(s: TrustStatement, action: string, context: Record<string, string>): boolean {
  if (s.effect !== "Deny" || !statementCovers(s, action)) return false;
  const principal = s.principal;
  const covers = principal?.wildcard || principalIds(principal, "Service").includes(POD_IDENTITY_SERVICE);
  return Boolean(covers) && s.conditions.every((t) => evaluateCondition(t, context) === "match");
}

/**
 * For a role used by associations in `clusters`, the clusters where EKS would refuse to create
 * the association or STS would refuse the pods' credentials (aws:SourceAccount, aws:SourceArn).
 */
export function podIdentityRefusals(
  trustPolicy: string,
  options: { accountId: string; clusters: ClusterRef[]; sessionTagsDisabled?: boolean },
): TrustRefusal[] {
  const parsed = parseTrustPolicy(trustPolicy);
  const all = (code: TrustCode, by: "eks" | "sts", reason: string) =>
    options.clusters.map((c) => ({ clusterName: c.name, code, by, reason }));
  if (!parsed.ok) return all("POLICY_MALFORMED", "eks", `the trust policy cannot be read: ${parsed.reason}`);
  const actions = options.sessionTagsDisabled ? ["sts:AssumeRole"] : ["sts:AssumeRole", "sts:TagSession"];
  const pods = parsed.statements.filter(isPodIdentityStatement);
  if (!pods.some((s) => statementCovers(s, "sts:AssumeRole"))) {
    return all(
      "NO_POD_IDENTITY_TRUST",
      "eks",
      "the trust policy does not allow pods.eks.amazonaws.com sts:AssumeRole",
    );
  }
  if (!options.sessionTagsDisabled && !pods.some((s) => statementCovers(s, "sts:TagSession"))) {
    return all(
      "MISSING_TAG_SESSION",
      "eks",
      "session tags are enabled but the trust policy lacks sts:TagSession",
    );
  }
  const refusals: TrustRefusal[] = [];
  for (const cluster of options.clusters) {
    const context = { "aws:sourceaccount": options.accountId, "aws:sourcearn": cluster.arn };
    for (const action of actions) {
      const allowing = pods.filter((s) => statementCovers(s, action));
      const passes = allowing.some((s) => refusingKey(s, context) === undefined);
      const denied = parsed.statements.some((s) => deniesPods(s, action, context));
      if (passes && !denied) continue;
      const key = denied ? undefined : allowing.map((s) => refusingKey(s, context)).find(Boolean);
      refusals.push({
        clusterName: cluster.name,
        code: key === "aws:sourceaccount" ? "SOURCE_ACCOUNT_MISMATCH" : "SOURCE_ARN_EXCLUDES_CLUSTER",
        by: "sts",
        reason: denied
          ? `a Deny statement refuses ${action} for pods of ${cluster.name}`
          : `the ${key ?? "condition"} condition refuses ${action} for pods of ${cluster.name}`,
      });
      break;
    }
  }
  return refusals;
}
