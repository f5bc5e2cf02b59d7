import { AGENT_ADDON } from "../../aws/apply.js";
import {
  describeCluster,
  listAddonNames,
  listRolesWithTrust,
  readAssociations,
  readFargateProfiles,
} from "../../aws/inventory.js";
import { ValidationError } from "../../core/errors.js";
import type { MigrationRequest } from "../../core/migration/input.js";
import { preflight as check } from "../../core/migration/preflight.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan, type StoredDiscovery } from "../plan.js";

/** Stage 2: per service account, every reason it cannot be migrated; stores the plan. */
export async function preflight(
  deps: MigrationDeps,
  payload: { migrationId: string; request: MigrationRequest },
) {
  const { clients, store } = deps;
  const discovery = await store.get<StoredDiscovery>(payload.migrationId, KEYS.discovery);
  if (!discovery) throw new ValidationError(`no discovery stored for migration ${payload.migrationId}`);
  const cluster = await describeCluster(clients.eks, discovery.clusterName);
  if (!cluster) throw new ValidationError(`cluster ${discovery.clusterName} does not exist any more`);
  const [addons, associations, fargateProfiles, roles] = await Promise.all([
    listAddonNames(clients.eks, cluster.name),
    readAssociations(clients.eks, cluster.name),
    readFargateProfiles(clients.eks, cluster.name),
    listRolesWithTrust(clients.iam),
  ]);
  const needed = new Set(discovery.items.map((i) => i.roleName));
  const result = check({
    cluster: { ...cluster, accountId: discovery.accountId },
    items: discovery.items,
    agentPresent: addons.includes(AGENT_ADDON),
    fargateProfiles,
    associations,
    trustByRole: Object.fromEntries(
      roles.filter((r) => needed.has(r.name)).map((r) => [r.name, r.trustPolicy]),
    ),
    providerArn: discovery.providerArn,
    removeIrsaTrust: payload.request.removeIrsaTrust,
    sizeLimit: deps.sizeLimit,
  });
  const plan: MigrationPlan = {
    ...result,
    clusterName: discovery.clusterName,
    clusterArn: discovery.clusterArn,
    accountId: discovery.accountId,
    providerArn: discovery.providerArn,
    wildcards: discovery.wildcards,
    notFound: discovery.notFound,
  };
  await store.put(payload.migrationId, KEYS.plan, plan);
  return {
    ready: result.ready.length,
    toAssociate: result.ready.filter((i) => !i.associated).length,
    refused: result.refused.length,
    roles: result.roleEdits.length,
    agent: result.agent,
  };
}
