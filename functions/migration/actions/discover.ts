import { describeCluster, listRolesWithTrust, readAddons } from "../../aws/inventory.js";
import { ValidationError } from "../../core/errors.js";
import { discover as discoverItems } from "../../core/migration/discover.js";
import type { MigrationRequest } from "../../core/migration/input.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type StoredDiscovery } from "../plan.js";

/** Stage 1: from IAM alone, the service accounts whose roles trust this cluster's OIDC provider. */
export async function discover(
  deps: MigrationDeps,
  payload: { migrationId: string; request: MigrationRequest },
) {
  const { clients, store } = deps;
  const cluster = await describeCluster(clients.eks, payload.request.clusterName);
  if (!cluster) throw new ValidationError(`cluster ${payload.request.clusterName} does not exist`);
  if (!cluster.oidcIssuer)
    throw new ValidationError(`cluster ${cluster.name} has no OIDC issuer: nothing uses IRSA there`);
  const accountId = cluster.arn.split(":")[4] ?? "";
  const [roles, addons] = await Promise.all([
    listRolesWithTrust(clients.iam),
    readAddons(clients.eks, cluster.name),
  ]);
  const found = discoverItems({
    accountId,
    issuer: cluster.oidcIssuer,
    roles,
    addons,
    partition: cluster.arn.split(":")[1] ?? "aws",
    ...(payload.request.serviceAccounts ? { requested: payload.request.serviceAccounts } : {}),
  });
  const stored: StoredDiscovery = { ...found, clusterName: cluster.name, clusterArn: cluster.arn, accountId };
  await store.put(payload.migrationId, KEYS.discovery, stored);
  return {
    serviceAccounts: found.items.length,
    addonServiceAccounts: found.items.filter((i) => i.kind === "addon").length,
    wildcards: found.wildcards.length,
    notFound: found.notFound.length,
  };
}
