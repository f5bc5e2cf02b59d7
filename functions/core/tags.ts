import { type AdmissionPolicy, DEFAULT_ADMISSION, tagKeyAdmitted, templateRefusal } from "./admission.js";
import type { Finding } from "./findings.js";

/** Tag keys of the tag contract (DESIGN.md). */
export const TAG = {
  bind: "pod-identity/bind",
  clusters: "pod-identity/clusters",
  sessionTags: "pod-identity/session-tags",
  targetRole: "pod-identity/target-role",
  optOut: "pod-identity/opt-out",
  templates: "pod-identity/templates",
  installAgent: "pod-identity/install-agent",
  managedBy: "pod-identity/managed-by",
  source: "pod-identity/source",
  catalog: "pod-identity/catalog",
  catalogVersion: "pod-identity/catalog-version",
} as const;

export const MANAGED_BY_VALUE = "pod-identity-autopilot";
const BIND_KEY = /^pod-identity\/bind(?:-([2-9]))?$/;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** A Kubernetes service account a role is bound to. */
export interface Binding {
  namespace: string;
  serviceAccount: string;
}

/** One term of `pod-identity/clusters`. */
export type ClusterSelector =
  | { kind: "all" }
  | { kind: "name"; name: string }
  | { kind: "prefix"; prefix: string }
  | { kind: "tag"; key: string; value: string }
  | { kind: "arn"; arn: string };

/** A role with `pod-identity/bind`: which service accounts of which clusters get it. */
export interface Template {
  roleName: string;
  roleArn: string;
  bindings: Binding[];
  selectors: ClusterSelector[];
  disableSessionTags: boolean;
  targetRoleArn?: string;
}

/** What a cluster's tags say. */
export interface ClusterSettings {
  optOut: boolean;
  installAgent: boolean;
  catalog: { name: string; binding?: Binding }[];
}

/** Kubernetes namespace: DNS-1123 label. */
export function isNamespace(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** Kubernetes service account name: DNS-1123 subdomain. */
export function isServiceAccountName(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 253 &&
    value.split(".").every((p) => p.length <= 63 && DNS_LABEL.test(p))
  );
}

/** Parses `namespace/serviceaccount`; a reason string when it is not one. */
export function parseBinding(token: string): Binding | string {
  const parts = token.split("/");
  if (parts.length !== 2) return `"${token}" is not namespace/serviceaccount`;
  const [namespace, serviceAccount] = parts as [string, string];
  if (!isNamespace(namespace)) return `"${namespace}" is not a valid namespace (DNS-1123 label)`;
  if (!isServiceAccountName(serviceAccount)) {
    return `"${serviceAccount}" is not a valid service account name (DNS-1123 subdomain)`;
  }
  return { namespace, serviceAccount };
}

function tagValueProblem(value: string): string | undefined {
  if (value.length > 256) return "is longer than 256 characters";
  if (!TAG_VALUE.test(value)) return "has characters IAM tag values do not allow";
  return undefined;
}

const CLUSTER_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const SELECTOR_FORMS = "all, name:NAME, prefix:PREFIX, tag:KEY=VALUE or arn:CLUSTER-ARN";

function parseSelector(term: string): ClusterSelector | string {
  if (term.toLowerCase() === "all") return { kind: "all" };
  const colon = term.indexOf(":");
  const kind = (colon < 0 ? term : term.slice(0, colon)).toLowerCase();
  const arg = colon < 0 ? "" : term.slice(colon + 1);
  if (kind === "name" && arg) return { kind: "name", name: arg };
  if (kind === "prefix" && arg) return { kind: "prefix", prefix: arg };
  if (kind === "tag") {
    const eq = arg.indexOf("=");
    if (eq > 0) return { kind: "tag", key: arg.slice(0, eq), value: arg.slice(eq + 1) };
  }
  if (kind === "arn") {
    if (CLUSTER_ARN.test(arg)) return { kind: "arn", arn: arg };
    return `"${term}": "${arg}" is not an EKS cluster ARN`;
  }
  return `"${term}" is not ${SELECTOR_FORMS}`;
}

function words(value: string): string[] {
  return value.split(" ").filter((w) => w.length > 0);
}

/**
 * Whether a template's selectors pick this cluster (any term matches). `name:` and `prefix:` match
 * a cluster of that name in every region that runs a stack; `arn:` names one cluster exactly.
 */
export function selectsCluster(
  selectors: ClusterSelector[],
  cluster: { name: string; arn?: string; tags: Record<string, string> },
): boolean {
  return selectors.some((s) => {
    switch (s.kind) {
      case "all":
        return true;
      case "name":
        return cluster.name === s.name;
      case "prefix":
        return cluster.name.startsWith(s.prefix);
      case "tag":
        return cluster.tags[s.key] === s.value;
      case "arn":
        return cluster.arn === s.arn;
      default: {
        const never: never = s;
        return never;
      }
    }
  });
}

/** Keys on roles that are not template keys (catalog roles carry them). */
const NON_TEMPLATE_KEYS = new Set<string>([TAG.catalog, TAG.catalogVersion, TAG.managedBy, TAG.source]);
const TEMPLATE_KEYS = new Set<string>([TAG.clusters, TAG.sessionTags, TAG.targetRole]);

/** What parsing a role's tags gives. */
export interface ParsedTemplate {
  template?: Template;
  findings: Finding[];
  /**
   * true when the role is a template that cannot be applied (unreadable or invalid tags): the
   * associations it sources are frozen, neither created, changed nor deleted
   */
  frozen?: boolean;
}

/**
 * Turns a role's tags into a template. A role without any `pod-identity/*` template key is not a
 * template (undefined, no finding). A role outside the stack's template authority is not one
 * either, with a finding: its tags never produce an association. A template whose tags cannot be
 * read, or with any invalid or missing tag, is never applied in part: undefined, `frozen`, with
 * findings saying why (a role whose bind tag was removed is not a template any more: not frozen). Keys compare case-insensitively (IAM allows one spelling per role); an
 * unknown `pod-identity/*` key is a warning. Values compare case-insensitively where the contract
 * has keywords (`enabled`, `all`, selector kinds).
 */
export function parseTemplate(
  role: {
    name: string;
    arn: string;
    path?: string;
    permissionsBoundaryArn?: string;
    tags: Record<string, string>;
    unreadable?: string;
  },
  policy: AdmissionPolicy = DEFAULT_ADMISSION,
): ParsedTemplate {
  const findings: Finding[] = [];
  if (role.unreadable !== undefined) {
    findings.push({
      code: "TEMPLATE_UNREADABLE",
      severity: "error",
      roleName: role.name,
      message: `Role ${role.name} could not be read (${role.unreadable}); the associations it sources are kept as they are until it can`,
    });
    return { findings, frozen: true };
  }
  const frozen = (detail: string) =>
    `Role ${role.name} is not applied and the associations it sources are kept as they are until ${detail}`;
  const problem = (tag: string, message: string) =>
    findings.push({
      code: "TEMPLATE_INVALID",
      severity: "error",
      roleName: role.name,
      message: `${frozen("its tags parse again or the role is deleted")}: tag ${tag} ${message}`,
    });
  // IAM keeps one spelling of a key per role, so lower-casing keys loses nothing
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(role.tags)) {
    const lower = key.toLowerCase();
    if (lower.startsWith("pod-identity/")) tags[lower] = value;
  }
  const podKeys = Object.keys(tags).filter((k) => !NON_TEMPLATE_KEYS.has(k));
  if (podKeys.length === 0) return { findings };
  const bindKeys = podKeys.filter((k) => BIND_KEY.test(k)).sort();
  const unknown = podKeys.filter((k) => !BIND_KEY.test(k) && !TEMPLATE_KEYS.has(k));
  for (const key of unknown) {
    findings.push({
      code: "TEMPLATE_UNKNOWN_KEY",
      severity: "warning",
      roleName: role.name,
      message: `Role ${role.name}: tag ${key} is not a key of the tag contract (bind, bind-2…bind-9, clusters, session-tags, target-role); it is ignored`,
    });
  }
  const contractKeys = podKeys.filter((k) => BIND_KEY.test(k) || TEMPLATE_KEYS.has(k));
  if (contractKeys.length === 0) return { findings };
  const refusal = templateRefusal({ path: role.path ?? "/", ...pick(role) }, policy);
  if (refusal !== undefined) {
    findings.push({
      code: "TEMPLATE_NOT_ADMITTED",
      severity: "error",
      roleName: role.name,
      message: `Role ${role.name} has ${TAG.bind}/${TAG.clusters} tags but is not a template: ${refusal}. Its tags produce no association`,
    });
    return { findings };
  }
  if (bindKeys.length === 0) {
    // a role with pod-identity/bind is a template (DESIGN.md): removing bind is how a template is retired
    findings.push({
      code: "TEMPLATE_INCOMPLETE",
      severity: "warning",
      roleName: role.name,
      message: `Role ${role.name} has ${contractKeys.join(", ")} but no ${TAG.bind}: it is not a template, nothing to associate`,
    });
    return { findings };
  }
  for (const key of contractKeys) {
    const reason = tagValueProblem(tags[key] ?? "");
    if (reason) problem(key, reason);
  }
  const bindings: Binding[] = [];
  const seen = new Set<string>();
  for (const key of bindKeys) {
    const tokens = words(tags[key] ?? "");
    if (tokens.length === 0) problem(key, "is empty");
    for (const token of tokens) {
      const parsed = parseBinding(token);
      if (typeof parsed === "string") problem(key, parsed);
      else if (!seen.has(token)) {
        seen.add(token);
        bindings.push(parsed);
      }
    }
  }
  const clustersValue = tags[TAG.clusters];
  const selectors: ClusterSelector[] = [];
  if (clustersValue === undefined || words(clustersValue).length === 0) {
    problem(TAG.clusters, `is required with a bind tag (${SELECTOR_FORMS})`);
  } else {
    for (const term of words(clustersValue)) {
      const parsed = parseSelector(term);
      if (typeof parsed === "string") problem(TAG.clusters, parsed);
      else if (parsed.kind === "tag" && !tagKeyAdmitted(parsed.key, policy)) {
        findings.push({
          code: "SELECTOR_NOT_ADMITTED",
          severity: "error",
          roleName: role.name,
          message: `Role ${role.name}: ${TAG.clusters} term "${term}" selects no cluster: tag: terms match only cluster tag keys under "${policy.clusterTagPrefix}", which the operator protects`,
        });
      } else selectors.push(parsed);
    }
  }
  const sessionTagsRaw = tags[TAG.sessionTags];
  const sessionTags = sessionTagsRaw?.trim().toLowerCase();
  if (sessionTags !== undefined && sessionTags !== "enabled" && sessionTags !== "disabled") {
    problem(TAG.sessionTags, `must be "enabled" or "disabled", not "${sessionTagsRaw}"`);
  }
  const targetRoleArn = tags[TAG.targetRole];
  if (targetRoleArn !== undefined && !ROLE_ARN.test(targetRoleArn))
    problem(TAG.targetRole, `"${targetRoleArn}" is not an IAM role ARN`);
  if (findings.some((f) => f.code === "TEMPLATE_INVALID")) return { findings, frozen: true };
  return {
    template: {
      roleName: role.name,
      roleArn: role.arn,
      bindings,
      selectors,
      disableSessionTags: sessionTags === "disabled",
      ...(targetRoleArn ? { targetRoleArn } : {}),
    },
    findings,
  };
}

function pick(role: { permissionsBoundaryArn?: string }): { permissionsBoundaryArn?: string } {
  return role.permissionsBoundaryArn ? { permissionsBoundaryArn: role.permissionsBoundaryArn } : {};
}

/**
 * Reads a cluster's tags. An opt-out value other than true/false is treated as opt-out (the safe
 * reading) with a finding; unknown catalog names are skipped with a finding.
 */
export function parseClusterSettings(
  cluster: { name: string; tags: Record<string, string> },
  catalogNames: ReadonlySet<string>,
): { settings: ClusterSettings; findings: Finding[] } {
  const findings: Finding[] = [];
  const optOutValue = cluster.tags[TAG.optOut];
  let optOut = false;
  if (optOutValue !== undefined) {
    const v = optOutValue.trim().toLowerCase();
    optOut = v !== "false";
    if (v !== "true" && v !== "false") {
      findings.push({
        code: "CLUSTER_TAG_INVALID",
        severity: "warning",
        clusterName: cluster.name,
        message: `Cluster ${cluster.name}: ${TAG.optOut}="${optOutValue}" is not true or false; treated as opted out`,
      });
    }
  }
  const installAgent = (cluster.tags[TAG.installAgent] ?? "true").trim().toLowerCase() !== "false";
  const catalog: ClusterSettings["catalog"] = [];
  for (const entry of words(cluster.tags[TAG.templates] ?? "")) {
    const at = entry.indexOf("@");
    const name = at < 0 ? entry : entry.slice(0, at);
    if (!catalogNames.has(name)) {
      findings.push({
        code: "CATALOG_UNKNOWN",
        severity: "error",
        clusterName: cluster.name,
        message: `Cluster ${cluster.name}: "${name}" in ${TAG.templates} is not a built-in template`,
      });
      continue;
    }
    if (at < 0) {
      catalog.push({ name });
      continue;
    }
    const binding = parseBinding(entry.slice(at + 1));
    if (typeof binding === "string") {
      findings.push({
        code: "CATALOG_UNKNOWN",
        severity: "error",
        clusterName: cluster.name,
        message: `Cluster ${cluster.name}: ${TAG.templates} entry "${entry}": ${binding}`,
      });
      continue;
    }
    catalog.push({ name, binding });
  }
  return { settings: { optOut, installAgent, catalog }, findings };
}
