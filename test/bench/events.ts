/**
 * The triggers of the bench's rows as production receives them: EventBridge "AWS API Call via
 * CloudTrail" events built from the `events/` samples (real record shapes, see events/README.md)
 * for the calls the bench really made, delivered the way the handlers deliver them: parsed by
 * the product's CloudTrail parser, then the iam-event use case (refresh-template) or, for a
 * cluster, the cluster-event handler's onboarding (ACTIVE: enqueue the cluster).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Role } from "@aws-sdk/client-iam";
import type { ClusterApi, WorkQueue } from "../../functions/app/ports.js";
import { type RefreshTemplateDeps, refreshTemplate } from "../../functions/app/refresh-template.js";
import { parseEksEvent, parseIamEvent } from "../../functions/core/cloudtrail.js";
import { eventTime, trailIamDate } from "../../local/cloudtrail-records.js";

type Json = Record<string, any>;
const sample = (name: string): Json => JSON.parse(readFileSync(`events/${name}`, "utf8")) as Json;

/** The sample's envelope with fresh ids and times. */
function envelope(file: string, at: Date): Json {
  const e = sample(file);
  const time = eventTime(at);
  e.id = randomUUID();
  e.time = time;
  e.detail.eventTime = time;
  e.detail.requestID = randomUUID();
  e.detail.eventID = randomUUID();
  return e;
}

const trailTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

/**
 * The CreateRole event of a role the bench created, from the CreateRole response (`role`) and the
 * request's tags (`events/iam-create-role.json`: requestParameters with the raw document and
 * `[{key, value}]` tags, `path` when not "/"; responseElements.role with the URL-encoded document).
 */
export function createRoleEvent(
  role: Role,
  trust: string,
  tags: Record<string, string>,
  at = new Date(),
): Json {
  const e = envelope("iam-create-role.json", at);
  e.detail.requestParameters = {
    ...(role.Path && role.Path !== "/" ? { path: role.Path } : {}),
    roleName: role.RoleName,
    assumeRolePolicyDocument: trust,
    tags: trailTags(tags),
  };
  e.detail.responseElements = {
    role: {
      path: role.Path ?? "/",
      roleName: role.RoleName,
      roleId: role.RoleId,
      arn: role.Arn,
      createDate: trailIamDate(role.CreateDate ?? at),
      assumeRolePolicyDocument: encodeURIComponent(trust),
      tags: trailTags(tags),
    },
  };
  return e;
}

/** The TagRole event of a tag call the bench made (`events/iam-tag-role.json`: responseElements null). */
export function tagRoleEvent(roleName: string, tags: Record<string, string>, at = new Date()): Json {
  const e = envelope("iam-tag-role.json", at);
  e.detail.requestParameters = { roleName, tags: trailTags(tags) };
  e.detail.responseElements = null;
  return e;
}

/**
 * The CreateCluster event of a cluster the bench created (`events/eks-create-cluster.json`: body
 * member `name`, responseElements.cluster the model's Cluster shape, status CREATING).
 */
export function createClusterEvent(
  cluster: { name: string; arn: string; tags: Record<string, string> },
  at = new Date(),
): Json {
  const e = envelope("eks-create-cluster.json", at);
  e.detail.requestParameters = { ...e.detail.requestParameters, name: cluster.name, tags: cluster.tags };
  e.detail.responseElements.cluster = {
    ...e.detail.responseElements.cluster,
    name: cluster.name,
    arn: cluster.arn,
    tags: cluster.tags,
  };
  return e;
}

/** The iam-event handler's work on one event: parse, then refresh the role it names. */
export async function deliverIamEvent(deps: RefreshTemplateDeps, accountId: string, event: unknown) {
  const parsed = parseIamEvent(event);
  if (!parsed.ok) throw new Error(`the bench built an IAM event the product rejects: ${parsed.reason}`);
  return await refreshTemplate(deps, accountId, parsed.roleName);
}

/**
 * The cluster-event handler's work on a CreateCluster event: parse, describe the cluster, and
 * enqueue it when ACTIVE (the local account's clusters are ACTIVE at once; a CREATING one would go
 * through the wait loop, which enqueues it the same way once ACTIVE).
 */
export async function deliverClusterEvent(
  deps: { clusters: ClusterApi; queue: WorkQueue },
  event: unknown,
): Promise<string> {
  const parsed = parseEksEvent(event);
  if (!parsed.ok) throw new Error(`the bench built an EKS event the product rejects: ${parsed.reason}`);
  if (parsed.eventName !== "CreateCluster") throw new Error(`not a CreateCluster event: ${parsed.eventName}`);
  const cluster = await deps.clusters.describeCluster(parsed.clusterName);
  if (cluster?.status !== "ACTIVE")
    throw new Error(`cluster ${parsed.clusterName} is ${cluster?.status ?? "gone"}, not ACTIVE`);
  await deps.queue.enqueue([{ clusterName: parsed.clusterName, trigger: "cluster-event" }]);
  return parsed.clusterName;
}
