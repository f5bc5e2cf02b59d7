import { type AdmissionPolicy, catalogRefusal, DEFAULT_ADMISSION } from "./admission.js";
import { CATALOG_BY_NAME, CATALOG_NAMES, catalogRoleArn, catalogRoleName } from "./catalog.js";
import type { Finding } from "./findings.js";
import { type ClusterInfo, type DesiredAssociation, type RoleInfo, slotKey } from "./model.js";
import { roleNameKey } from "./role-identity.js";
import { podIdentitySupport } from "./support.js";
import {
  type ClusterSettings,
  parseClusterSettings,
  parseTemplate,
  selectsCluster,
  TAG,
  type Template,
} from "./tags.js";

const TEMPLATES_TAG = TAG.templates;

import { podIdentityVerdicts } from "./trust/context.js";

/** A cluster with what its tags say and whether the automation may act on it now. */
export interface ClusterPlanState {
  cluster: ClusterInfo;
  settings: ClusterSettings;
  /** false for opted-out, not ACTIVE, or unsupported clusters: nothing there is changed */
  eligible: boolean;
  reason?: string;
}

/** Desired state: the associations the tags ask for, and the slots that must be left alone. */
export interface DesiredState {
  desired: Map<string, DesiredAssociation>;
  /** slots in conflict, or whose trust EKS/STS would refuse: neither created, changed nor deleted */
  held: Set<string>;
  clusters: Map<string, ClusterPlanState>;
  templates: Template[];
  /** catalog entries some eligible cluster uses (their shared roles must exist) */
  catalogInUse: Set<string>;
  /**
   * role names (as `roleNameKey`) of templates that cannot be applied (unreadable, invalid,
   * incomplete): the associations they source are neither created, changed nor deleted
   */
  frozenSources: Set<string>;
  findings: Finding[];
}

function clusterState(cluster: ClusterInfo, findings: Finding[]): ClusterPlanState {
  const parsed = parseClusterSettings(cluster, CATALOG_NAMES);
  findings.push(...parsed.findings);
  const base = { cluster, settings: parsed.settings };
  if (parsed.settings.optOut) return { ...base, eligible: false, reason: "opted out (pod-identity/opt-out)" };
  if (cluster.status !== "ACTIVE") {
    findings.push({
      code: "CLUSTER_NOT_READY",
      severity: "info",
      clusterName: cluster.name,
      message: `Cluster ${cluster.name} is ${cluster.status}; it is reconciled once ACTIVE`,
    });
    return { ...base, eligible: false, reason: `status ${cluster.status}` };
  }
  const support = podIdentitySupport(cluster.version, cluster.platformVersion);
  if (!support.supported) {
    findings.push({
      code: "CLUSTER_UNSUPPORTED",
      severity: "warning",
      clusterName: cluster.name,
      message: `Cluster ${cluster.name} does not support Pod Identity: ${support.reason}`,
    });
    return { ...base, eligible: false, reason: support.reason ?? "unsupported" };
  }
  return { ...base, eligible: true };
}

/**
 * Computes the desired associations from clusters and roles: templates (role tags) and the
 * catalog (cluster tags). Conflicting claims on one slot and slots whose trust would be refused
 * are held, with a finding each. Only roles inside the stack's template authority are templates;
 * a template that cannot be applied freezes the associations it sources (`frozenSources`);
 * catalog requests are honoured only where the stack's configuration allows them.
 */
export function computeDesired(input: {
  clusters: ClusterInfo[];
  roles: RoleInfo[];
  accountId: string;
  /** the stack's template and cluster admission settings (default: DEFAULT_ADMISSION) */
  admission?: AdmissionPolicy;
}): DesiredState {
  const admission = input.admission ?? DEFAULT_ADMISSION;
  const findings: Finding[] = [];
  const clusters = new Map<string, ClusterPlanState>();
  for (const c of input.clusters) clusters.set(c.name, clusterState(c, findings));
  const eligible = [...clusters.values()].filter((c) => c.eligible).map((c) => c.cluster);

  const templates: Template[] = [];
  const trustByRole = new Map<string, string>();
  const frozenSources = new Set<string>();
  for (const role of input.roles) {
    const parsed = parseTemplate(role, admission);
    findings.push(...parsed.findings);
    if (parsed.frozen) frozenSources.add(roleNameKey(role.name));
    if (parsed.template) {
      templates.push(parsed.template);
      trustByRole.set(role.name, role.trustPolicy);
    }
  }

  const claims = new Map<string, DesiredAssociation[]>();
  const held = new Set<string>();
  const claim = (d: DesiredAssociation) => {
    const key = slotKey(d);
    const list = claims.get(key) ?? [];
    list.push(d);
    claims.set(key, list);
  };

  for (const t of templates) {
    const selected = eligible.filter((c) => selectsCluster(t.selectors, c));
    const verdicts = podIdentityVerdicts(trustByRole.get(t.roleName) ?? "", {
      accountId: input.accountId,
      clusters: selected,
      serviceAccounts: t.bindings,
      sessionTagsDisabled: t.disableSessionTags,
    });
    const verdictOf = new Map(
      verdicts.map((v) => [`${v.clusterName}/${v.namespace}/${v.serviceAccount}`, v]),
    );
    for (const cluster of selected) {
      for (const b of t.bindings) {
        const verdict = verdictOf.get(`${cluster.name}/${b.namespace}/${b.serviceAccount}`);
        const d: DesiredAssociation = {
          clusterName: cluster.name,
          namespace: b.namespace,
          serviceAccount: b.serviceAccount,
          roleArn: t.roleArn,
          source: t.roleName,
          disableSessionTags: t.disableSessionTags,
          ...(t.targetRoleArn ? { targetRoleArn: t.targetRoleArn } : {}),
        };
        const where = {
          clusterName: cluster.name,
          roleName: t.roleName,
          namespace: b.namespace,
          serviceAccount: b.serviceAccount,
        };
        if (verdict?.verdict === "undecided") {
          // never a silent pass, never a block: associated, with a warning
          findings.push({
            code: "TRUST_UNDECIDED",
            severity: "warning",
            ...where,
            message: `Role ${t.roleName} is associated in ${cluster.name} for ${b.namespace}/${b.serviceAccount}, but whether STS accepts it is undecided: ${verdict.reason}`,
          });
        }
        if (verdict?.verdict === "refused") {
          held.add(slotKey(d));
          findings.push({
            code: "TRUST_REFUSED",
            severity: "error",
            ...where,
            message: `Role ${t.roleName} is not associated in ${cluster.name} for ${b.namespace}/${b.serviceAccount}: ${verdict.by === "eks" ? "EKS" : "STS"} would refuse it (${verdict.code}: ${verdict.reason})`,
          });
        } else {
          claim(d);
        }
      }
    }
  }

  const catalogInUse = new Set<string>();
  for (const state of clusters.values()) {
    if (!state.eligible) continue;
    for (const request of state.settings.catalog) {
      const entry = CATALOG_BY_NAME.get(request.name);
      if (!entry) continue;
      const refusal = catalogRefusal(entry, request.binding, admission);
      if (refusal !== undefined) {
        findings.push({
          code: "CATALOG_NOT_ALLOWED",
          severity: "error",
          clusterName: state.cluster.name,
          message: `Cluster ${state.cluster.name}: ${TEMPLATES_TAG} asks for ${request.name}${request.binding ? `@${request.binding.namespace}/${request.binding.serviceAccount}` : ""}, which is not associated: ${refusal}`,
        });
        continue;
      }
      catalogInUse.add(entry.name);
      // an override names one service account; by default every one of the entry (EFS: controller and node)
      for (const subject of request.binding ? [request.binding] : entry.serviceAccounts) {
        claim({
          clusterName: state.cluster.name,
          namespace: subject.namespace,
          serviceAccount: subject.serviceAccount,
          roleArn: catalogRoleArn(input.accountId, entry.name, state.cluster.arn.split(":")[1] ?? "aws"),
          source: catalogRoleName(entry.name),
          disableSessionTags: false,
          catalog: entry.name,
        });
      }
    }
  }

  const desired = new Map<string, DesiredAssociation>();
  for (const [key, list] of claims) {
    const sources = [...new Set(list.map((d) => d.source))].sort();
    if (sources.length > 1) {
      held.add(key);
      const [first] = list;
      findings.push({
        code: "CONFLICT",
        severity: "error",
        clusterName: first!.clusterName,
        namespace: first!.namespace,
        serviceAccount: first!.serviceAccount,
        message: `${sources.join(" and ")} both claim ${first!.namespace}/${first!.serviceAccount} in ${first!.clusterName}; neither is applied`,
      });
      continue;
    }
    if (!held.has(key)) desired.set(key, list[0]!);
  }
  return { desired, held, clusters, templates, catalogInUse, frozenSources, findings };
}
