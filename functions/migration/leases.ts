import { LeaseBusyError, roleLeaseKey, withLease } from "../aws/leases.js";
import type { ExecutionContext } from "./authority.js";
import type { MigrationDeps } from "./deps.js";

const holderArn = (owner: string) => owner.split("@")[0] ?? owner;

/**
 * One migration per cluster at a time: the cluster lease, held by the execution for its whole
 * life (released by its Report step; expiring with the state machine's timeout). A lease whose
 * holder execution is no longer running is taken over.
 */
export async function acquireClusterLease(deps: MigrationDeps, ctx: ExecutionContext, clusterName: string) {
  const key = `cluster#${clusterName}`;
  try {
    await deps.store.acquireLease(key, ctx.runKey, deps.clusterLeaseSeconds, deps.now());
  } catch (error) {
    if (!(error instanceof LeaseBusyError) || !error.holder) throw error;
    const holder = await deps.executions.describe(holderArn(error.holder));
    if (holder?.status === "RUNNING") throw error;
    const taken = await deps.store.takeOverLease(
      key,
      error.holder,
      ctx.runKey,
      deps.clusterLeaseSeconds,
      deps.now(),
    );
    if (!taken) throw error;
  }
}

/** Releases the cluster lease this execution holds (nothing when another holds it). */
export async function releaseClusterLease(deps: MigrationDeps, ctx: ExecutionContext, clusterName: string) {
  await deps.store.releaseLease(`cluster#${clusterName}`, ctx.runKey);
}

/**
 * Runs `edit` holding the role's lease, so two migrations touching a shared role serialize their
 * read-modify-write of its trust policy. Waits (with back-off) up to `roleLeaseWaitMs`, then
 * throws LeaseBusy (the state machine retries it).
 */
export async function withRoleLease<T>(
  deps: MigrationDeps,
  ctx: ExecutionContext,
  roleArn: string,
  edit: () => Promise<T>,
): Promise<T> {
  const owner = `${ctx.runKey}#${Math.random().toString(36).slice(2)}`;
  return await withLease(
    { acquire: (...a) => deps.store.acquireLease(...a), release: (...a) => deps.store.releaseLease(...a) },
    roleLeaseKey(roleArn),
    owner,
    { seconds: deps.roleLeaseSeconds, waitMs: deps.roleLeaseWaitMs, now: deps.now, sleep: deps.sleep },
    edit,
  );
}
