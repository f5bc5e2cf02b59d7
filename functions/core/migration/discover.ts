import type { RoleInfo } from "../model.js";
import { globMatches, hasWildcard, isNegated, oidcProviders, providerHost } from "../trust/match.js";
import { parseTrustPolicy } from "../trust/parse.js";

/** Service accounts of the EKS add-ons that support Pod Identity (namespace and service accounts). */
export const ADDON_SERVICE_ACCOUNTS: Record<string, { namespace: string; serviceAccounts: string[] }> = {
  "vpc-cni": { namespace: "kube-system", serviceAccounts: ["aws-node"] },
  "aws-ebs-csi-driver": { namespace: "kube-system", serviceAccounts: ["ebs-csi-controller-sa"] },
  "aws-efs-csi-driver": { namespace: "kube-system", serviceAccounts: ["efs-csi-controller-sa"] },
  "amazon-cloudwatch-observability": {
    namespace: "amazon-cloudwatch",
    serviceAccounts: ["cloudwatch-agent"],
  },
  "aws-mountpoint-s3-csi-driver": { namespace: "kube-system", serviceAccounts: ["s3-csi-driver-sa"] },
};

/** One service account to move from IRSA to Pod Identity. */
export interface MigrationItem {
  namespace: string;
  serviceAccount: string;
  roleName: string;
  roleArn: string;
  /** plain service accounts get an association; add-on service accounts go through UpdateAddon */
  kind: "service-account" | "addon";
  addonName?: string;
}

/** What discovery found for a cluster. */
export interface Discovery {
  providerArn: string;
  items: MigrationItem[];
  /** wildcard subs: which role, which pattern; migrated only for explicitly requested service accounts */
  wildcards: { roleName: string; pattern: string; matchedRequested: string[] }[];
  /** requested service accounts no role trusts through this cluster's provider */
  notFound: string[];
}

/** The IAM OIDC provider ARN of a cluster issuer. */
export function providerArnFor(accountId: string, issuer: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${issuer.replace(/^https:\/\//, "")}`;
}

const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * Discovery from IAM alone: roles with a Federated statement for exactly this cluster's OIDC
 * provider granting sts:AssumeRoleWithWebIdentity, and their `:sub` values. Roles used by EKS
 * add-ons (their serviceAccountRoleArn) are marked for UpdateAddon.
 */
export function discover(input: {
  accountId: string;
  issuer: string;
  roles: Pick<RoleInfo, "name" | "arn" | "trustPolicy">[];
  addons: { name: string; serviceAccountRoleArn?: string }[];
  requested?: string[];
  partition?: string;
}): Discovery {
  const providerArn = providerArnFor(input.accountId, input.issuer, input.partition);
  const host = providerHost(providerArn).toLowerCase();
  const requested = input.requested ? new Set(input.requested) : undefined;
  const items = new Map<string, MigrationItem>();
  const wildcards: Discovery["wildcards"] = [];
  const addonByRole = new Map(
    input.addons.filter((a) => a.serviceAccountRoleArn).map((a) => [a.serviceAccountRoleArn!, a.name]),
  );

  for (const role of input.roles) {
    const parsed = parseTrustPolicy(role.trustPolicy);
    if (!parsed.ok) continue;
    for (const s of parsed.statements) {
      if (
        s.effect !== "Allow" ||
        !oidcProviders(s).some((p) => p.toLowerCase() === providerArn.toLowerCase())
      )
        continue;
      for (const test of s.conditions) {
        if (test.keyLower !== `${host}:sub` || isNegated(test.base)) continue;
        const like = test.base === "StringLike";
        for (const value of test.values) {
          if (like && hasWildcard(value)) {
            const matched = [...(requested ?? [])].filter((ref) => {
              const [ns, sa] = ref.split("/");
              return globMatches(value, `system:serviceaccount:${ns}:${sa}`);
            });
            wildcards.push({ roleName: role.name, pattern: value, matchedRequested: matched });
            for (const ref of matched) add(ref.split("/")[0]!, ref.split("/")[1]!, role);
            continue;
          }
          const m = SUBJECT.exec(value);
          if (m) add(m[1]!, m[2]!, role);
        }
      }
    }
  }

  function add(namespace: string, serviceAccount: string, role: Pick<RoleInfo, "name" | "arn">): void {
    const key = `${namespace}/${serviceAccount}`;
    if (requested && !requested.has(key)) return;
    if (items.has(key)) return;
    const addonName = addonByRole.get(role.arn);
    const addon = addonName ? ADDON_SERVICE_ACCOUNTS[addonName] : undefined;
    const isAddonAccount =
      addon !== undefined && addon.namespace === namespace && addon.serviceAccounts.includes(serviceAccount);
    items.set(key, {
      namespace,
      serviceAccount,
      roleName: role.name,
      roleArn: role.arn,
      kind: isAddonAccount ? "addon" : "service-account",
      ...(isAddonAccount ? { addonName } : {}),
    });
  }

  const found = new Set(items.keys());
  const notFound = [...(requested ?? [])].filter((r) => !found.has(r)).sort();
  return {
    providerArn,
    items: [...items.values()].sort((a, b) =>
      `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`),
    ),
    wildcards,
    notFound,
  };
}
