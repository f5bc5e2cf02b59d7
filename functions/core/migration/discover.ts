import type { RoleInfo } from "../model.js";
import { globMatches, hasWildcard, isNegated, oidcProviders, providerHost } from "../trust/match.js";
import { parseTrustPolicy } from "../trust/parse.js";
import { irsaVerdict } from "./evaluate.js";

/**
 * An add-on of the cluster as discovery needs it. `podIdentityServiceAccounts` comes from
 * DescribeAddonConfiguration (`podIdentityConfiguration[].serviceAccount`) for the installed
 * version; empty means that version has no Pod Identity support, undefined that it could not be
 * read. `namespace` is DescribeAddon's `namespaceConfig.namespace` when set.
 */
export interface AddonRef {
  name: string;
  version?: string;
  serviceAccountRoleArn?: string;
  namespace?: string;
  podIdentityServiceAccounts?: string[];
}

/** One service account to move from IRSA to Pod Identity. */
export interface MigrationItem {
  namespace: string;
  serviceAccount: string;
  roleName: string;
  roleArn: string;
  /** plain service accounts get an association; add-on service accounts go through UpdateAddon */
  kind: "service-account" | "addon";
  addonName?: string;
  addonVersion?: string;
  /** add-on items: false when the installed version has no Pod Identity support, undefined when unknown */
  addonSupportsPodIdentity?: boolean;
}

/** A service account a role names but does not (certainly) let in through this provider. */
export interface ExcludedItem extends MigrationItem {
  reasons: string[];
}

/** What discovery found for a cluster. */
export interface Discovery {
  providerArn: string;
  items: MigrationItem[];
  /** named by a positive sub value but excluded by a Deny, a negated condition, or undecidable */
  excluded: ExcludedItem[];
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

/** `system:serviceaccount:ns:sa` of a service account. */
export function subjectOf(item: { namespace: string; serviceAccount: string }): string {
  return `system:serviceaccount:${item.namespace}:${item.serviceAccount}`;
}

/**
 * Discovery from IAM alone: roles with an Allow statement for exactly this cluster's OIDC provider
 * granting sts:AssumeRoleWithWebIdentity, and the service accounts its positive `sub` values name.
 * Each candidate is then checked against the whole policy (Deny statements, negated operators such
 * as StringNotEquals/StringNotLike, the audience): only a service account the policy certainly lets
 * in is migrated; the others are `excluded` with the reason. Add-on service accounts are those the
 * add-on's DescribeAddonConfiguration lists for Pod Identity, on the add-on's IRSA role.
 */
export function discover(input: {
  accountId: string;
  issuer: string;
  roles: Pick<RoleInfo, "name" | "arn" | "trustPolicy">[];
  addons: AddonRef[];
  requested?: string[];
  partition?: string;
}): Discovery {
  const providerArn = providerArnFor(input.accountId, input.issuer, input.partition);
  const host = providerHost(providerArn).toLowerCase();
  const requested = input.requested ? new Set(input.requested) : undefined;
  const items = new Map<string, MigrationItem>();
  const excluded = new Map<string, ExcludedItem>();
  const wildcards: Discovery["wildcards"] = [];
  const addonsByRole = new Map<string, AddonRef[]>();
  for (const a of input.addons) {
    if (!a.serviceAccountRoleArn) continue;
    addonsByRole.set(a.serviceAccountRoleArn, [...(addonsByRole.get(a.serviceAccountRoleArn) ?? []), a]);
  }

  for (const role of input.roles) {
    const parsed = parseTrustPolicy(role.trustPolicy);
    if (!parsed.ok) continue;
    const candidates = new Set<string>();
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
            for (const ref of matched) candidates.add(`system:serviceaccount:${ref.replace("/", ":")}`);
            continue;
          }
          if (SUBJECT.test(value)) candidates.add(value);
        }
      }
    }
    for (const subject of candidates) {
      const m = SUBJECT.exec(subject)!;
      const verdict = irsaVerdict(parsed.statements, providerArn, subject);
      add(m[1]!, m[2]!, role, verdict.allowed ? undefined : verdict.reason);
    }
  }

  function add(
    namespace: string,
    serviceAccount: string,
    role: Pick<RoleInfo, "name" | "arn">,
    exclusion: string | undefined,
  ): void {
    const key = `${namespace}/${serviceAccount}`;
    if (requested && !requested.has(key)) return;
    if (items.has(key)) return;
    const addon = (addonsByRole.get(role.arn) ?? []).find(
      (a) =>
        (a.namespace === undefined || a.namespace === namespace) &&
        (a.podIdentityServiceAccounts === undefined ||
          a.podIdentityServiceAccounts.length === 0 ||
          a.podIdentityServiceAccounts.includes(serviceAccount)),
    );
    const item: MigrationItem = {
      namespace,
      serviceAccount,
      roleName: role.name,
      roleArn: role.arn,
      kind: addon ? "addon" : "service-account",
      ...(addon ? { addonName: addon.name } : {}),
      ...(addon?.version ? { addonVersion: addon.version } : {}),
      ...(addon?.podIdentityServiceAccounts !== undefined
        ? { addonSupportsPodIdentity: addon.podIdentityServiceAccounts.length > 0 }
        : {}),
    };
    if (exclusion) {
      const seen = excluded.get(key);
      if (seen) seen.reasons.push(`role ${role.name}: ${exclusion}`);
      else excluded.set(key, { ...item, reasons: [`role ${role.name}: ${exclusion}`] });
      return;
    }
    excluded.delete(key);
    items.set(key, item);
  }

  const found = new Set(items.keys());
  const notFound = [...(requested ?? [])].filter((r) => !found.has(r) && !excluded.has(r)).sort();
  const byRef = (a: MigrationItem, b: MigrationItem) =>
    `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`);
  return {
    providerArn,
    items: [...items.values()].sort(byRef),
    excluded: [...excluded.values()]
      .filter((e) => !items.has(`${e.namespace}/${e.serviceAccount}`))
      .sort(byRef),
    wildcards,
    notFound,
  };
}

/**
 * The subjects among `subjects` that a role's live trust policy still lets in through this
 * provider (used before every write: the stored plan is a name list, the document is the truth).
 */
export function stillTrusted(trustPolicy: string, providerArn: string, subjects: string[]): string[] {
  const parsed = parseTrustPolicy(trustPolicy);
  if (!parsed.ok) return [];
  return subjects.filter((s) => irsaVerdict(parsed.statements, providerArn, s).allowed);
}
