import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeFargateProfileCommand,
  DescribePodIdentityAssociationCommand,
  type EKSClient,
  type PodIdentityAssociation,
  paginateListAddons,
  paginateListClusters,
  paginateListFargateProfiles,
  paginateListPodIdentityAssociations,
  ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import {
  GetRoleCommand,
  type IAMClient,
  NoSuchEntityException,
  paginateListRoles,
  paginateListRoleTags,
} from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import { errorMessage } from "../core/errors.js";
import type { AssociationInfo, ClusterInfo, RoleInfo } from "../core/model.js";
import { decodePolicyText } from "../core/trust/parse.js";

export type { AssociationInfo, ClusterInfo, RoleInfo } from "../core/model.js";

/** Every item of every page a paginator yields. */
async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

/** Lists every cluster name (all pages). */
export async function listClusterNames(eks: EKSClient): Promise<string[]> {
  return await collect(paginateListClusters({ client: eks, pageSize: 100 }, {}), (p) => p.clusters);
}

/** Describes one cluster; undefined when it no longer exists. */
export async function describeCluster(eks: EKSClient, name: string): Promise<ClusterInfo | undefined> {
  try {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
    if (!cluster?.name || !cluster.arn) return undefined;
    return {
      name: cluster.name,
      arn: cluster.arn,
      status: cluster.status ?? "UNKNOWN",
      version: cluster.version ?? "",
      platformVersion: cluster.platformVersion ?? "",
      tags: cluster.tags ?? {},
      ...(cluster.identity?.oidc?.issuer ? { oidcIssuer: cluster.identity.oidc.issuer } : {}),
    };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** Reads every cluster, each described once, `concurrency` at a time. */
export async function readClusters(eks: EKSClient, concurrency = 8): Promise<ClusterInfo[]> {
  const limit = pLimit(concurrency);
  const names = await listClusterNames(eks);
  const described = await Promise.all(names.map((name) => limit(() => describeCluster(eks, name))));
  return described.filter((c): c is ClusterInfo => c !== undefined);
}

/**
 * Reads every role (all pages) with its tags, each role's tags read once; roles with
 * `pod-identity/*` tags also get their permissions boundary (template admission; `ListRoles`
 * does not return it). A role whose tags or boundary cannot be read is returned with
 * `unreadable` (why) and no tags: a template that cannot be read freezes its associations
 * instead of losing them.
 */
export async function readRoles(iam: IAMClient, concurrency = 8): Promise<RoleInfo[]> {
  const limit = pLimit(concurrency);
  const roles = await Promise.all(
    (await listRolesWithTrust(iam)).map((r) =>
      limit(async (): Promise<RoleInfo | undefined> => {
        try {
          const tags = await readRoleTags(iam, r.name);
          if (!tags) return undefined;
          if (!Object.keys(tags).some((k) => k.toLowerCase().startsWith("pod-identity/")))
            return { ...r, tags };
          const boundary = await readPermissionsBoundary(iam, r.name);
          if (boundary === null) return undefined;
          return { ...r, tags, ...(boundary ? { permissionsBoundaryArn: boundary } : {}) };
        } catch (error) {
          return { ...r, tags: {}, unreadable: errorMessage(error) };
        }
      }),
    ),
  );
  return roles.filter((r): r is RoleInfo => r !== undefined);
}

/** A role's permissions boundary ARN (undefined: none); null when the role was deleted meanwhile. */
export async function readPermissionsBoundary(
  iam: IAMClient,
  roleName: string,
): Promise<string | undefined | null> {
  try {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    return Role?.PermissionsBoundary?.PermissionsBoundaryArn;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return null;
    throw error;
  }
}

/** A role's tags (all pages); undefined when the role was deleted meanwhile. */
export async function readRoleTags(
  iam: IAMClient,
  roleName: string,
): Promise<Record<string, string> | undefined> {
  try {
    const tags = await collect(paginateListRoleTags({ client: iam }, { RoleName: roleName }), (p) => p.Tags);
    return Object.fromEntries(tags.flatMap((t) => (t.Key ? [[t.Key, t.Value ?? ""]] : [])));
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

/** IAM returns trust policies URL-encoded; raw JSON passes through unchanged (the trust engine's reader). */
export const decodeTrust = decodePolicyText;

/** An association as the API describes it, in the reconciler's shape; undefined when incomplete. */
export function toAssociationInfo(
  clusterName: string,
  a: PodIdentityAssociation,
): AssociationInfo | undefined {
  if (!a.associationId || !a.namespace || !a.serviceAccount) return undefined;
  return {
    clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    associationId: a.associationId,
    associationArn: a.associationArn ?? "",
    roleArn: a.roleArn ?? "",
    tags: a.tags ?? {},
    disableSessionTags: a.disableSessionTags ?? false,
    ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
    ...(a.targetRoleArn ? { targetRoleArn: a.targetRoleArn } : {}),
    ...(a.policy ? { policy: a.policy } : {}),
  };
}

/** Lists and describes every association of a cluster, each described once. */
export async function readAssociations(
  eks: EKSClient,
  clusterName: string,
  limit: ReturnType<typeof pLimit> = pLimit(8),
): Promise<AssociationInfo[]> {
  const summaries = await collect(
    paginateListPodIdentityAssociations({ client: eks, pageSize: 100 }, { clusterName }),
    (p) => p.associations,
  );
  const ids = summaries.flatMap((a) => (a.associationId ? [a.associationId] : []));
  const described = await Promise.all(
    ids.map((associationId) =>
      limit(async (): Promise<AssociationInfo | undefined> => {
        try {
          const { association: a } = await eks.send(
            new DescribePodIdentityAssociationCommand({ clusterName, associationId }),
          );
          return a ? toAssociationInfo(clusterName, a) : undefined;
        } catch (error) {
          // deleted between List and Describe: nothing to reconcile
          if (error instanceof ResourceNotFoundException) return undefined;
          throw error;
        }
      }),
    ),
  );
  return described.filter((a): a is AssociationInfo => a !== undefined);
}

/** Names of a cluster's add-ons (all pages). */
export async function listAddonNames(eks: EKSClient, clusterName: string): Promise<string[]> {
  return await collect(paginateListAddons({ client: eks, pageSize: 100 }, { clusterName }), (p) => p.addons);
}

/** Every role with its decoded trust policy (all pages), without reading tags. */
export async function listRolesWithTrust(iam: IAMClient): Promise<Omit<RoleInfo, "tags">[]> {
  const roles = await collect(paginateListRoles({ client: iam, pageSize: 1000 }, {}), (p) => p.Roles);
  return roles.flatMap((r) =>
    r.RoleName && r.Arn
      ? [
          {
            name: r.RoleName,
            arn: r.Arn,
            path: r.Path ?? "/",
            trustPolicy: decodeTrust(r.AssumeRolePolicyDocument ?? ""),
          },
        ]
      : [],
  );
}

/** An add-on with what the migration needs of it. */
export interface AddonInfo {
  name: string;
  arn: string;
  serviceAccountRoleArn?: string;
  podIdentityAssociationArns: string[];
}

/** Describes every add-on of a cluster. */
export async function readAddons(eks: EKSClient, clusterName: string): Promise<AddonInfo[]> {
  const names = await listAddonNames(eks, clusterName);
  const addons: AddonInfo[] = [];
  for (const name of names) {
    const { addon } = await eks.send(new DescribeAddonCommand({ clusterName, addonName: name }));
    if (!addon) continue;
    addons.push({
      name,
      arn: addon.addonArn ?? "",
      podIdentityAssociationArns: addon.podIdentityAssociations ?? [],
      ...(addon.serviceAccountRoleArn ? { serviceAccountRoleArn: addon.serviceAccountRoleArn } : {}),
    });
  }
  return addons;
}

/** Fargate profiles of a cluster with their selectors. */
export async function readFargateProfiles(
  eks: EKSClient,
  clusterName: string,
): Promise<{ name: string; selectors: { namespace: string; labels?: Record<string, string> }[] }[]> {
  const names = await collect(
    paginateListFargateProfiles({ client: eks }, { clusterName }),
    (p) => p.fargateProfileNames,
  );
  const profiles = [];
  for (const name of names) {
    const { fargateProfile } = await eks.send(
      new DescribeFargateProfileCommand({ clusterName, fargateProfileName: name }),
    );
    profiles.push({
      name,
      selectors: (fargateProfile?.selectors ?? []).map((s) => ({
        namespace: s.namespace ?? "",
        ...(s.labels ? { labels: s.labels } : {}),
      })),
    });
  }
  return profiles;
}
