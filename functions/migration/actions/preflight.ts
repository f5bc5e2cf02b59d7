import { AGENT_ADDON } from "../../aws/apply.js";
import {
  describeCluster,
  listAddonNames,
  listRolesWithTrust,
  readAssociations,
  readFargateProfiles,
} from "../../aws/inventory.js";
import { ValidationError } from "../../core/errors.js";
import { preflight as check } from "../../core/migration/preflight.js";
import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS, type MigrationPlan, planHash, runTagOf, type StoredDiscovery } from "../plan.js";

/** Stage 2: per service account, every reason it cannot be migrated; stores the plan. */
export async function preflight(deps: MigrationDeps, ctx: ExecutionContext<"run">) {
  const { clients, store } = deps;
  const discovery = await store.getLarge<StoredDiscovery>(ctx.runKey, KEYS.discovery);
  if (!discovery) throw new ValidationError(`no discovery stored for run ${ctx.name}`);
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
    cluster: { ...cluster, accountId: discovery.accountId, autoMode: discovery.autoMode },
    items: discovery.items,
    excluded: discovery.excluded,
    agentPresent: addons.includes(AGENT_ADDON),
    fargateProfiles,
    associations,
    trustByRole: Object.fromEntries(
      roles.filter((r) => needed.has(r.name)).map((r) => [r.name, r.trustPolicy]),
    ),
    providerArn: discovery.providerArn,
    runTag: runTagOf(ctx.runKey),
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
  await store.putLarge(ctx.runKey, KEYS.plan, plan);
  await store.put(ctx.runKey, KEYS.planHash, { hash: planHash(plan) });
  return {
    ready: result.ready.length,
    toAssociate: result.ready.filter((i) => !i.associated).length,
    refused: result.refused.length,
    roles: result.roleEdits.length,
    agent: result.agent,
  };
}
