import {
  CreatePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  ResourceInUseException,
  UpdateAddonCommand,
} from "@aws-sdk/client-eks";
import { withRoleVisibilityRetry } from "../../aws/apply.js";
import { iamRoleCheck } from "../../aws/role-check.js";
import { AutopilotError } from "../../core/errors.js";
import type { ReadyItem } from "../../core/migration/preflight.js";
import type { ExecutionContext } from "../authority.js";
import { type ChunkBudget, workInChunks } from "../chunks.js";
import type { MigrationDeps } from "../deps.js";
import { type AddonRecord, KEYS, migrationTags } from "../plan.js";
import { loadPlan } from "./load-plan.js";

/** Back-off for a role EKS cannot see yet (IAM eventual consistency), as the reconciler uses it. */
function roleVisibilityRetry(deps: MigrationDeps) {
  return {
    concurrency: 1,
    roleVisibilityAttempts: 6,
    backoffBaseMs: deps.backoffBaseMs,
    sleep: deps.sleep,
    // the add-pod-trust stage wrote and verified the trust: only the role itself is re-checked
    roleCheck: iamRoleCheck(deps.clients.iam, undefined, { trustWrittenByCaller: true }),
  };
}

/** The role of the association a (namespace, service account) has, if any. */
export async function associationOf(
  deps: MigrationDeps,
  clusterName: string,
  item: Pick<ReadyItem, "namespace" | "serviceAccount">,
) {
  const page = await deps.clients.eks.send(
    new ListPodIdentityAssociationsCommand({
      clusterName,
      namespace: item.namespace,
      serviceAccount: item.serviceAccount,
    }),
  );
  const id = page.associations?.[0]?.associationId;
  if (!id) return undefined;
  const { association } = await deps.clients.eks.send(
    new DescribePodIdentityAssociationCommand({ clusterName, associationId: id }),
  );
  return association;
}

/**
 * One service account: creates its association, tagged with the run. A 409 is re-read: the same
 * role converges (counted as created when it carries this run's tag: a retried chunk whose create
 * went through), another role is an error. Idempotent under redelivery.
 */
async function associateServiceAccount(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  clusterName: string,
  item: ReadyItem,
): Promise<"created" | "converged"> {
  try {
    const role = { roleArn: item.roleArn, disableSessionTags: false };
    const out = await withRoleVisibilityRetry(roleVisibilityRetry(deps), role, () =>
      deps.clients.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName,
          namespace: item.namespace,
          serviceAccount: item.serviceAccount,
          roleArn: item.roleArn,
          tags: migrationTags(ctx.name),
        }),
      ),
    );
    await deps.store.put(ctx.runKey, KEYS.association(item), {
      associationId: out.association?.associationId,
      roleArn: item.roleArn,
    });
    return "created";
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    const existing = await associationOf(deps, clusterName, item);
    if (existing?.roleArn === item.roleArn) {
      if (existing.tags?.["pod-identity/migration"] !== migrationTags(ctx.name)["pod-identity/migration"])
        return "converged";
      await deps.store.put(ctx.runKey, KEYS.association(item), {
        associationId: existing.associationId,
        roleArn: item.roleArn,
      });
      return "created";
    }
    throw new AutopilotError(
      `${item.namespace}/${item.serviceAccount} got an association with another role meanwhile (${existing?.roleArn})`,
      { cause: error },
    );
  }
}

async function associateAddon(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  clusterName: string,
  addonName: string,
  items: ReadyItem[],
) {
  const { addon } = await deps.clients.eks.send(new DescribeAddonCommand({ clusterName, addonName }));
  const current: { serviceAccount: string; roleArn: string }[] = [];
  for (const arn of addon?.podIdentityAssociations ?? []) {
    const id = arn.split("/").pop() ?? "";
    const { association } = await deps.clients.eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName, associationId: id }),
    );
    if (association?.serviceAccount && association.roleArn)
      current.push({ serviceAccount: association.serviceAccount, roleArn: association.roleArn });
  }
  const record: AddonRecord = {
    before: current.filter((c) => items.some((i) => i.serviceAccount === c.serviceAccount)),
    added: items
      .filter((i) => !current.some((c) => c.serviceAccount === i.serviceAccount && c.roleArn === i.roleArn))
      .map((i) => ({ serviceAccount: i.serviceAccount, roleArn: i.roleArn })),
  };
  // what this run changes, recorded before the change (a retry keeps the first record)
  await deps.store.put(ctx.runKey, KEYS.addon(addonName), record, { onlyIfAbsent: true });
  const merged = [...current.filter((c) => !items.some((i) => i.serviceAccount === c.serviceAccount))];
  for (const item of items) merged.push({ serviceAccount: item.serviceAccount, roleArn: item.roleArn });
  const roles = items.map((i) => ({ roleArn: i.roleArn, disableSessionTags: false }));
  await withRoleVisibilityRetry(roleVisibilityRetry(deps), roles, () =>
    deps.clients.eks.send(
      new UpdateAddonCommand({
        clusterName,
        addonName,
        podIdentityAssociations: merged,
        resolveConflicts: "PRESERVE",
      }),
    ),
  );
}

/**
 * Stage 6, in resumable chunks: creates the associations (409 on the same role converges) until
 * the chunk's time budget is used, recording its position under the run's own key; once every
 * plain service account is done, moves add-on service accounts through UpdateAddon
 * podIdentityAssociations, never as plain service accounts. Returns `done: false` while work is
 * left (the state machine calls it again).
 */
export async function associate(deps: MigrationDeps, ctx: ExecutionContext<"run">, budget: ChunkBudget) {
  const plan = await loadPlan(deps, ctx.runKey);
  const plain = plan.ready.filter((i) => i.kind === "service-account" && !i.associated);
  const chunk = await workInChunks(
    deps,
    ctx.runKey,
    KEYS.progress("associate"),
    plain,
    { budget, batchSize: ctx.request.maxConcurrency },
    async (item) => ({ outcome: await associateServiceAccount(deps, ctx, plan.clusterName, item) }),
  );
  const byAddon = new Map<string, ReadyItem[]>();
  if (chunk.done) {
    const addonItems = plan.ready.filter((i) => i.kind === "addon" && !i.associated);
    for (const item of addonItems)
      byAddon.set(item.addonName ?? "", [...(byAddon.get(item.addonName ?? "") ?? []), item]);
    for (const [addonName, items] of byAddon)
      await associateAddon(deps, ctx, plan.clusterName, addonName, items);
  }
  return {
    done: chunk.done,
    processed: chunk.processed,
    total: chunk.total,
    created: chunk.counts.created ?? 0,
    converged: chunk.counts.converged ?? 0,
    addonsUpdated: [...byAddon.keys()],
  };
}
