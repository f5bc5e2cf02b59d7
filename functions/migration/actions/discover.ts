import { describeCluster, listRolesWithTrust } from "../../aws/inventory.js";
import { isAutoMode, readAddonRefs } from "../../aws/migration-inventory.js";
import { ValidationError } from "../../core/errors.js";
import { discover as discoverItems } from "../../core/migration/discover.js";
import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { acquireClusterLease } from "../leases.js";
import { KEYS, type StoredDiscovery } from "../plan.js";

/** Stage 1: takes the cluster's lease; from IAM, the service accounts whose roles trust its OIDC provider. */
export async function discover(deps: MigrationDeps, ctx: ExecutionContext<"run">) {
  const { clients, store } = deps;
  const request = ctx.request;
  const cluster = await describeCluster(clients.eks, request.clusterName);
  if (!cluster) throw new ValidationError(`cluster ${request.clusterName} does not exist`);
  if (!cluster.oidcIssuer)
    throw new ValidationError(`cluster ${cluster.name} has no OIDC issuer: nothing uses IRSA there`);
  await acquireClusterLease(deps, ctx, cluster.name);
  const accountId = cluster.arn.split(":")[4] ?? "";
  const [roles, addons, autoMode] = await Promise.all([
    listRolesWithTrust(clients.iam),
    readAddonRefs(clients.eks, cluster.name),
    isAutoMode(clients.eks, cluster.name),
  ]);
  const found = discoverItems({
    accountId,
    issuer: cluster.oidcIssuer,
    roles,
    addons,
    partition: cluster.arn.split(":")[1] ?? "aws",
    ...(request.serviceAccounts ? { requested: request.serviceAccounts } : {}),
  });
  const stored: StoredDiscovery = {
    ...found,
    clusterName: cluster.name,
    clusterArn: cluster.arn,
    accountId,
    autoMode,
  };
  await store.putLarge(ctx.runKey, KEYS.discovery, stored);
  return {
    serviceAccounts: found.items.length,
    addonServiceAccounts: found.items.filter((i) => i.kind === "addon").length,
    excluded: found.excluded.length,
    wildcards: found.wildcards.length,
    notFound: found.notFound.length,
  };
}
