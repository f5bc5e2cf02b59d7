import {
  evaluateConditions,
  isPodIdentityStatement,
  oidcProviders,
  POD_IDENTITY_SERVICE,
  principalIds,
  providerHost,
  statementCovers,
  WEB_IDENTITY_ACTION,
} from "../trust/match.js";
import type { TrustStatement } from "../trust/parse.js";

/** What IAM would decide for one request, as far as the policy text lets us know. */
export type Verdict = { allowed: true } | { allowed: false; undecided: boolean; reason: string };

function appliesToFederated(s: TrustStatement, providerArn: string): boolean {
  if (s.principal?.wildcard) return true;
  if (s.notPrincipal) {
    // NotPrincipal: every principal except the listed ones
    return !principalIds(s.notPrincipal, "Federated").some(
      (p) => p.toLowerCase() === providerArn.toLowerCase(),
    );
  }
  return oidcProviders(s).some((p) => p.toLowerCase() === providerArn.toLowerCase() || p === "*");
}

/**
 * Whether `sts:AssumeRoleWithWebIdentity` with this `sub` (and the EKS audience) through this
 * provider is allowed by the whole policy: an Allow statement whose conditions all hold, and no
 * Deny statement that holds or might hold. Conditions on keys we cannot know make it undecided.
 */
export function irsaVerdict(statements: TrustStatement[], providerArn: string, subject: string): Verdict {
  const host = providerHost(providerArn).toLowerCase();
  const context = { [`${host}:sub`]: subject, [`${host}:aud`]: "sts.amazonaws.com" };
  for (const s of statements) {
    if (
      s.effect !== "Deny" ||
      !statementCovers(s, WEB_IDENTITY_ACTION) ||
      !appliesToFederated(s, providerArn)
    )
      continue;
    const outcome = evaluateConditions(s, context);
    if (outcome === "match")
      return { allowed: false, undecided: false, reason: `statement ${s.sid ?? s.index} denies ${subject}` };
    if (outcome === "unknown")
      return {
        allowed: false,
        undecided: true,
        reason: `statement ${s.sid ?? s.index} may deny ${subject} (a condition cannot be evaluated)`,
      };
  }
  let undecided: string | undefined;
  for (const s of statements) {
    if (s.effect !== "Allow" || !statementCovers(s, WEB_IDENTITY_ACTION)) continue;
    if (!oidcProviders(s).some((p) => p.toLowerCase() === providerArn.toLowerCase())) continue;
    const outcome = evaluateConditions(s, context);
    if (outcome === "match") return { allowed: true };
    if (outcome === "unknown")
      undecided ??= `statement ${s.sid ?? s.index} has a condition that cannot be evaluated for ${subject}`;
  }
  if (undecided) return { allowed: false, undecided: true, reason: undecided };
  return {
    allowed: false,
    undecided: false,
    reason: `no statement allows ${subject} (an exclusion applies)`,
  };
}

/** The session tags Pod Identity sends for a pod, as condition context (keys lowercased). */
export function podIdentityContext(input: {
  accountId: string;
  clusterArn: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  sessionTags: boolean;
}): Record<string, string> {
  return {
    "aws:sourceaccount": input.accountId,
    ...(input.sessionTags
      ? {
          "aws:requesttag/eks-cluster-arn": input.clusterArn,
          "aws:requesttag/eks-cluster-name": input.clusterName,
          "aws:requesttag/kubernetes-namespace": input.namespace,
          "aws:requesttag/kubernetes-service-account": input.serviceAccount,
        }
      : {}),
  };
}

/** Whether the policy certainly lets Pod Identity give this pod credentials (undecided = no). */
export function podIdentityAllowed(
  statements: TrustStatement[],
  context: Record<string, string>,
  sessionTags: boolean,
) {
  const actions = sessionTags ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"];
  return actions.every((action) => {
    const denied = statements.some(
      (s) =>
        s.effect === "Deny" &&
        statementCovers(s, action) &&
        (s.principal?.wildcard || principalIds(s.principal, "Service").includes(POD_IDENTITY_SERVICE)) &&
        evaluateConditions(s, context) !== "no-match",
    );
    if (denied) return false;
    return statements.some(
      (s) =>
        isPodIdentityStatement(s) && statementCovers(s, action) && evaluateConditions(s, context) === "match",
    );
  });
}
