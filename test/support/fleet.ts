import { DEFAULT_TEMPLATE_PATH } from "../../functions/core/admission.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../../functions/core/model.js";
import { MANAGED_BY_VALUE, TAG } from "../../functions/core/tags.js";

export const ACCOUNT = "123456789012";

/** Pure-core fixtures: clusters, roles and associations as the inventory would read them. */
export function cluster(
  name: string,
  tags: Record<string, string> = {},
  overrides: Partial<ClusterInfo> = {},
): ClusterInfo {
  return {
    name,
    arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${name}`,
    status: "ACTIVE",
    version: "1.31",
    platformVersion: "eks.12",
    tags,
    ...overrides,
  };
}

export const POD_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "pods.eks.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession"],
    },
  ],
});

/** ARN of a role under a path (default: the template path, where templates must live). */
export function roleArnOf(name: string, path = DEFAULT_TEMPLATE_PATH): string {
  return `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
}

/** A role as the inventory reads it, by default under the template path. */
export function role(
  name: string,
  tags: Record<string, string> = {},
  trustPolicy = POD_TRUST,
  path = DEFAULT_TEMPLATE_PATH,
): RoleInfo {
  return { name, arn: roleArnOf(name, path), path, tags, trustPolicy };
}

export function template(
  name: string,
  bind: string,
  clusters = "all",
  extra: Record<string, string> = {},
): RoleInfo {
  return role(name, { [TAG.bind]: bind, [TAG.clusters]: clusters, ...extra });
}

let counter = 0;

export function association(
  clusterName: string,
  namespace: string,
  serviceAccount: string,
  roleName: string,
  options: {
    managed?: boolean;
    ownerArn?: string;
    disableSessionTags?: boolean;
    targetRoleArn?: string;
    source?: string;
  } = {},
): AssociationInfo {
  const id = `a-${String(++counter).padStart(17, "0")}`;
  const managed = options.managed ?? true;
  return {
    clusterName,
    namespace,
    serviceAccount,
    associationId: id,
    associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/${clusterName}/${id}`,
    roleArn: roleArnOf(roleName),
    tags: managed ? { [TAG.managedBy]: MANAGED_BY_VALUE, [TAG.source]: options.source ?? roleName } : {},
    disableSessionTags: options.disableSessionTags ?? false,
    ...(options.ownerArn ? { ownerArn: options.ownerArn } : {}),
    ...(options.targetRoleArn ? { targetRoleArn: options.targetRoleArn } : {}),
  };
}
