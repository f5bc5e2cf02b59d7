/**
 * Who may make the automation bind what (issue 13): the authority the stack configures.
 *
 * - Template admission: a tagged role is a template only under the configured IAM path and/or
 *   with the configured permissions boundary (each configured criterion must hold). IAM paths
 *   cannot be changed after a role is created, and the stack's `iam:PassRole` covers exactly
 *   that path, so `iam:TagRole` alone never makes a role passable.
 * - Cluster admission: `tag:` selectors match only cluster tag keys under a prefix the operator
 *   protects (e.g. with an SCP); catalog requests from cluster tags only for the entries and
 *   namespace/service-account overrides the stack lists.
 */
import type { Binding } from "./tags.js";

/** Default IAM path of template roles. */
export const DEFAULT_TEMPLATE_PATH = "/pod-identity-templates/";
/** Default prefix of the cluster tag keys that `tag:` selectors may match. */
export const DEFAULT_CLUSTER_TAG_PREFIX = "pod-identity-scope/";

/** The stack's admission settings. */
export interface AdmissionPolicy {
  /** a template's role path must start with this (`/…/`); undefined: no path criterion */
  templatePath?: string;
  /** a template role must carry this permissions boundary; undefined: no boundary criterion */
  templateBoundaryArn?: string;
  /** `tag:KEY=VALUE` selectors match only keys starting with this */
  clusterTagPrefix: string;
  /** catalog entries a cluster tag may request; undefined: every built-in entry */
  catalogEntries?: readonly string[];
  /** per catalog entry, the `namespace/serviceaccount` overrides a cluster tag may request */
  catalogOverrides: Readonly<Record<string, readonly string[]>>;
}

/** What a deployment gets unless it configures otherwise. */
export const DEFAULT_ADMISSION: AdmissionPolicy = {
  templatePath: DEFAULT_TEMPLATE_PATH,
  clusterTagPrefix: DEFAULT_CLUSTER_TAG_PREFIX,
  catalogOverrides: {},
};

/** Normalises an IAM path to `/…/` form. */
export function normalizePath(path: string): string {
  const withLead = path.startsWith("/") ? path : `/${path}`;
  return withLead.endsWith("/") ? withLead : `${withLead}/`;
}

/**
 * Why a role is not admitted as a template; undefined when it is. A role data without a known
 * boundary (undefined) does not carry one.
 */
export function templateRefusal(
  role: { path: string; permissionsBoundaryArn?: string },
  policy: AdmissionPolicy,
): string | undefined {
  const reasons: string[] = [];
  if (policy.templatePath !== undefined) {
    const want = normalizePath(policy.templatePath);
    if (!normalizePath(role.path).startsWith(want))
      reasons.push(`its path ${role.path} is not under ${want}`);
  }
  if (
    policy.templateBoundaryArn !== undefined &&
    role.permissionsBoundaryArn !== policy.templateBoundaryArn
  ) {
    reasons.push(
      role.permissionsBoundaryArn
        ? `its permissions boundary ${role.permissionsBoundaryArn} is not ${policy.templateBoundaryArn}`
        : `it has no permissions boundary (${policy.templateBoundaryArn} required)`,
    );
  }
  if (policy.templatePath === undefined && policy.templateBoundaryArn === undefined) {
    reasons.push("the stack configures no template authority (path or permissions boundary)");
  }
  return reasons.length > 0 ? reasons.join(" and ") : undefined;
}

/** Whether a `tag:` selector may look at this cluster tag key. */
export function tagKeyAdmitted(key: string, policy: AdmissionPolicy): boolean {
  return policy.clusterTagPrefix.length > 0 && key.startsWith(policy.clusterTagPrefix);
}

/**
 * Why a cluster's catalog request is refused; undefined when the stack allows it. Without an
 * override the entry's upstream namespace/service account is used, which any listed entry allows.
 */
export function catalogRefusal(
  entry: { name: string; namespace: string; serviceAccount: string },
  binding: Binding | undefined,
  policy: AdmissionPolicy,
): string | undefined {
  const { name } = entry;
  if (policy.catalogEntries !== undefined && !policy.catalogEntries.includes(name)) {
    return `the stack does not allow catalog entry ${name} (catalogEntries)`;
  }
  if (!binding || (binding.namespace === entry.namespace && binding.serviceAccount === entry.serviceAccount))
    return undefined;
  const slot = `${binding.namespace}/${binding.serviceAccount}`;
  const allowed = Object.hasOwn(policy.catalogOverrides, name) ? (policy.catalogOverrides[name] ?? []) : [];
  if (!allowed.includes(slot)) {
    return `the stack does not allow ${name} at ${slot} (catalogOverrides lists ${allowed.length > 0 ? allowed.join(", ") : "no override for it"})`;
  }
  return undefined;
}
