import {
  type Addon,
  DeleteAddonCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  paginateListPodIdentityAssociations,
  ResourceNotFoundException,
} from "@aws-sdk/client-eks";
import { AGENT_ADDON, ensureAgent } from "../../aws/apply.js";
import { isAutoMode } from "../../aws/migration-inventory.js";
import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { type AgentRecord, KEYS, migrationTags } from "../plan.js";

/** The tag naming the run that created a resource (see `migrationTags`). */
const RUN_TAG = "pod-identity/migration";

/** What a rollback did with the agent add-on its run installed. */
export interface AgentRollback {
  action: "removed" | "kept" | "already-removed";
  reason: string;
}

async function describeAgent(deps: MigrationDeps, clusterName: string): Promise<Addon | undefined> {
  try {
    const { addon } = await deps.clients.eks.send(
      new DescribeAddonCommand({ clusterName, addonName: AGENT_ADDON }),
    );
    return addon;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** The agent add-on's status (DescribeAddon), undefined when the cluster has none. */
export async function agentStatus(deps: MigrationDeps, clusterName: string): Promise<string | undefined> {
  const addon = await describeAgent(deps, clusterName);
  return addon ? (addon.status ?? "unknown") : undefined;
}

/**
 * Installs the Pod Identity agent add-on for a run whose plan says it is missing. Auto Mode is
 * re-read live (the agent is built in there: never installed). The intent is recorded before
 * CreateAddon and the add-on is tagged with the run, so a crash in between and a rollback can
 * still tell whether this run created it. True when this run installed it.
 */
export async function installAgent(
  deps: MigrationDeps,
  ctx: ExecutionContext<"run">,
  clusterName: string,
): Promise<boolean> {
  const previous = await deps.store.get<AgentRecord>(ctx.runKey, KEYS.agent);
  if (previous?.installed) return true;
  if (await isAutoMode(deps.clients.eks, clusterName)) {
    const record: AgentRecord = { requested: false, installed: false, autoMode: true };
    await deps.store.put(ctx.runKey, KEYS.agent, record);
    return false;
  }
  await deps.store.put(ctx.runKey, KEYS.agent, { requested: true, installed: false } satisfies AgentRecord);
  let installed = await ensureAgent(deps.clients.eks, clusterName, migrationTags(ctx.name));
  // a retry after a crash between CreateAddon and the record below: the add-on carries our tag
  if (!installed && previous?.requested)
    installed = (await describeAgent(deps, clusterName))?.tags?.[RUN_TAG] === ctx.name;
  await deps.store.put(ctx.runKey, KEYS.agent, { requested: true, installed } satisfies AgentRecord);
  return installed;
}

/**
 * Whether a Pod Identity association remains on the cluster, and whose: the first one this run
 * did not create (add-on owned, or without this run's tag) ends the search; associations this run
 * created but could not delete are counted.
 */
async function remainingAssociations(deps: MigrationDeps, clusterName: string, runName: string) {
  let ours = 0;
  for await (const page of paginateListPodIdentityAssociations(
    { client: deps.clients.eks, pageSize: 100 },
    { clusterName },
  )) {
    for (const summary of page.associations ?? []) {
      const slot = `${summary.namespace}/${summary.serviceAccount}`;
      if (summary.ownerArn) return { other: `${slot} (owned by ${summary.ownerArn})`, ours };
      if (!summary.associationId) continue;
      try {
        const { association } = await deps.clients.eks.send(
          new DescribePodIdentityAssociationCommand({ clusterName, associationId: summary.associationId }),
        );
        if (association?.tags?.[RUN_TAG] !== runName) return { other: slot, ours };
        ours++;
      } catch (error) {
        // deleted between List and Describe: it does not remain
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
  }
  return { other: undefined, ours };
}

/**
 * Part of a compensating rollback: removes the agent add-on only when this run's own record and
 * the live add-on (tagged with the run) say this run installed it, and no Pod Identity
 * association remains on the cluster (their pods would lose credentials): otherwise keeps it and
 * says why. Undefined when this run did not try to install it. DeleteAddon errors propagate (the
 * caller reports the rollback incomplete).
 */
export async function undoAgent(
  deps: MigrationDeps,
  target: { runKey: string; name: string },
  clusterName: string,
): Promise<AgentRollback | undefined> {
  const record = await deps.store.get<AgentRecord>(target.runKey, KEYS.agent);
  if (!record?.requested) return undefined;
  if (record.removed)
    return { action: "already-removed", reason: "an earlier rollback of this run deleted it" };
  const addon = await describeAgent(deps, clusterName);
  if (!addon)
    return { action: "already-removed", reason: `the cluster has no ${AGENT_ADDON} add-on any more` };
  if (addon.tags?.[RUN_TAG] !== target.name)
    return {
      action: "kept",
      reason: `the ${AGENT_ADDON} add-on on the cluster is not tagged ${RUN_TAG}=${target.name}: this run did not create it (someone else installed or re-created it)`,
    };
  const remaining = await remainingAssociations(deps, clusterName, target.name);
  if (remaining.other)
    return {
      action: "kept",
      reason: `Pod Identity associations this run did not create remain on the cluster (first found: ${remaining.other}): their pods get credentials through the agent`,
    };
  if (remaining.ours > 0)
    return {
      action: "kept",
      reason: `${remaining.ours} association(s) this run created could not be deleted (see 'not undone'): their pods get credentials through the agent`,
    };
  await deps.clients.eks.send(new DeleteAddonCommand({ clusterName, addonName: AGENT_ADDON }));
  await deps.store.put(target.runKey, KEYS.agent, { ...record, removed: true } satisfies AgentRecord);
  return {
    action: "removed",
    reason:
      "this run installed it and no Pod Identity association remains on the cluster (DeleteAddon accepted; EKS deletes it asynchronously)",
  };
}
