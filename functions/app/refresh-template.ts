import type { AdmissionPolicy } from "../core/admission.js";
import { DETAIL_TYPES } from "../core/events.js";
import type { RoleInfo } from "../core/model.js";
import { parseTemplate, selectsCluster, TAG } from "../core/tags.js";
import { lintTrustPolicy, type TrustFinding } from "../core/trust/index.js";
import { countFindings } from "./finding-metrics.js";
import type {
  ClusterApi,
  IndexedCluster,
  Log,
  MetricsPort,
  Publisher,
  RoleDirectory,
  TemplateIndex,
  WorkQueue,
} from "./ports.js";
import { indexedRole, isIndexedRole } from "./template-roles.js";

/** What refreshing one role needs. */
export interface RefreshTemplateDeps {
  roles: RoleDirectory;
  clusters: Pick<ClusterApi, "listClusters">;
  index: TemplateIndex;
  queue: WorkQueue;
  publisher: Publisher;
  metrics: MetricsPort;
  log: Log;
  now: () => Date;
}

/** What refreshing one role did. */
export interface RefreshResult {
  roleName: string;
  /** the role as IAM has it now: a template/catalog role, another role, or gone */
  now: "indexed" | "not-a-template" | "gone";
  /** clusters the role selected before or selects now: the only ones enqueued */
  clusters: string[];
  trustFindings: TrustFinding[];
}

function selected(
  role: RoleInfo | undefined,
  clusters: IndexedCluster[],
  admission?: AdmissionPolicy,
): string[] {
  if (!role) return [];
  const template = parseTemplate(role, admission).template;
  if (!template) return [];
  return clusters.filter((c) => selectsCluster(template.selectors, c)).map((c) => c.name);
}

/**
 * An IAM event named a role: re-read that role from IAM (never from the event), write it to the
 * template index (or remove it), lint its trust policy, and enqueue only the clusters the role
 * selected before, selects now, or has managed associations in (every cluster while the index has
 * never been built by a sweep).
 */
export async function refreshTemplate(
  deps: RefreshTemplateDeps,
  accountId: string,
  roleName: string,
  admission?: AdmissionPolicy,
): Promise<RefreshResult> {
  const [before, read, clusters, built] = await Promise.all([
    deps.index.role(roleName),
    deps.roles.readRole(roleName),
    deps.index.clusters(),
    deps.index.builtAt(),
  ]);
  const relevant = read !== undefined && isIndexedRole(read);
  if (relevant) await deps.index.putRole(indexedRole(read, deps.now()));
  else if (before) await deps.index.deleteRole(roleName);
  // before the first sweep the index knows no clusters: which ones the role selects cannot be
  // told from it, so every cluster is enqueued (the worker decides)
  const unknown = built === undefined && relevant ? await deps.clusters.listClusters() : [];
  const names = new Set([
    ...unknown,
    ...selected(before, clusters, admission),
    ...selected(relevant ? read : undefined, clusters, admission),
    ...clusters.filter((c) => (c.managedBySource[roleName] ?? 0) > 0).map((c) => c.name),
  ]);
  const trustFindings = relevant ? lint(deps, read, accountId) : [];
  const list = [...names].sort();
  await deps.queue.enqueue(list.map((clusterName) => ({ clusterName, trigger: "iam-event" as const })));
  const templateFindings = parseTemplate(read ?? { name: roleName, arn: "", tags: {} }, admission).findings;
  for (const f of templateFindings) deps.publisher.publish(DETAIL_TYPES.finding, { ...f });
  countFindings(deps.metrics, [...templateFindings, ...trustFindings]);
  await deps.publisher.flush();
  deps.log.info("template refreshed", { roleName, clusters: list.length });
  return {
    roleName,
    now: read === undefined ? "gone" : relevant ? "indexed" : "not-a-template",
    clusters: list,
    trustFindings,
  };
}

function lint(deps: RefreshTemplateDeps, role: RoleInfo, accountId: string): TrustFinding[] {
  const findings = lintTrustPolicy(role.trustPolicy, {
    accountId,
    sessionTagsDisabled: role.tags[TAG.sessionTags]?.toLowerCase() === "disabled",
  });
  for (const f of findings)
    deps.publisher.publish(DETAIL_TYPES.finding, {
      ...f,
      source: "trust-lint",
      roleName: role.name,
      roleArn: role.arn,
    });
  return findings;
}
