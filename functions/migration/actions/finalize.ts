import { describeCluster, listRolesWithTrust, readAssociations } from "../../aws/inventory.js";
import { readAddonRefs } from "../../aws/migration-inventory.js";
import { errorMessage, ValidationError } from "../../core/errors.js";
import { discover } from "../../core/migration/discover.js";
import {
  type CredentialUse,
  decideFinalize,
  evidenceWindow,
  type FinalizeCandidate,
  type FinalizeDecision,
} from "../../core/migration/finalize.js";
import { removeIrsaTrust } from "../../core/trust/edit.js";
import type { ExecutionContext } from "../authority.js";
import { type ChunkBudget, workInChunks } from "../chunks.js";
import type { MigrationDeps } from "../deps.js";
import { acquireClusterLease, withRoleLease } from "../leases.js";
import { KEYS } from "../plan.js";
import { readRole, writeTrust } from "./edit-trust.js";

/** The finalize report: per service account the decision, and what was removed. */
export interface FinalizeReport {
  runId: string;
  clusterName: string;
  providerArn: string;
  evaluatedAt: string;
  decisions: (FinalizeDecision & { removed: boolean; error?: string })[];
  /** service accounts on IRSA here without a Pod Identity association with the same role */
  notMigrated: string[];
  complete: boolean;
}

/** What finalize's first chunk found; every later chunk of the execution works from it. */
interface FinalizeSetup {
  clusterName: string;
  providerArn: string;
  /** the time the evidence is judged at, fixed for the whole execution */
  evaluatedAt: string;
  candidates: FinalizeCandidate[];
  notMigrated: string[];
}

type StoredUse = Omit<CredentialUse, "time"> & { time: string };

/**
 * Finalize: for the migrated service accounts of this cluster (live: the role trusts the cluster's
 * OIDC provider for the sub, and an association gives the same role to the same namespace and
 * service account), reads CloudTrail evidence and removes this cluster's `sub` only where the
 * quiet window shows no IRSA use. Everything comes from the execution's input and live documents.
 * Works in resumable chunks: discovery once, then CloudTrail per role, then removal per role,
 * each position recorded under the execution's own key (`done: false` asks for another call).
 */
export async function finalize(
  deps: MigrationDeps,
  ctx: ExecutionContext<"finalize">,
  budget: ChunkBudget,
): Promise<{ done: boolean; complete: boolean; removed: number; kept: number }> {
  // the first chunk takes the cluster's lease as it discovers; each later chunk renews it
  const stored = await deps.store.getLarge<FinalizeSetup>(ctx.runKey, KEYS.finalizeSetup);
  if (stored) await acquireClusterLease(deps, ctx, stored.clusterName);
  const setup = stored ?? (await discoverCandidates(deps, ctx));
  const now = new Date(setup.evaluatedAt);
  const windows = {
    lagSeconds: ctx.request.evidenceLagSeconds,
    ...(ctx.request.quietSeconds !== undefined ? { quietSeconds: ctx.request.quietSeconds } : {}),
  };
  const roleArns = [...new Set(setup.candidates.map((c) => c.roleArn))].sort();
  const evidence = await workInChunks(
    deps,
    ctx.runKey,
    KEYS.progress("finalize-evidence"),
    roleArns,
    { budget, batchSize: 1 },
    async (roleArn) => {
      const from = new Date(
        Math.min(
          ...setup.candidates
            .filter((c) => c.roleArn === roleArn)
            .map((c) => evidenceWindow(now, c, windows).from.getTime()),
        ),
      );
      const uses = await deps.evidence.credentialUses(roleArn, from, now);
      await deps.store.putLarge(ctx.runKey, KEYS.finalizeUses(roleArn), uses);
      return { outcome: "read" };
    },
  );
  if (!evidence.done) return { done: false, complete: false, removed: 0, kept: 0 };

  // decided once, when the evidence is complete: later chunks read the decisions, not the evidence
  const decisions =
    (await deps.store.getLarge<FinalizeDecision[]>(ctx.runKey, KEYS.finalizeDecisions)) ??
    (await decide(deps, ctx, setup, roleArns, now, windows));
  const toRemove = [
    ...new Set(decisions.filter((d) => d.verdict === "remove").map((d) => d.roleName)),
  ].sort();
  const removal = await workInChunks(
    deps,
    ctx.runKey,
    KEYS.progress("finalize-remove"),
    toRemove,
    { budget, batchSize: 1 },
    async (roleName) => {
      const mine = decisions.filter((d) => d.roleName === roleName && d.verdict === "remove");
      await removeSubjects(deps, ctx, setup.providerArn, roleName, mine);
      return { outcome: "edited" };
    },
  );
  if (!removal.done) return { done: false, complete: false, removed: 0, kept: 0 };

  const results: FinalizeReport["decisions"] = [];
  const records = new Map<string, RemovalRecord | undefined>();
  for (const roleName of toRemove)
    records.set(roleName, await deps.store.get<RemovalRecord>(ctx.runKey, `${KEYS.finalize}#${roleName}`));
  for (const d of decisions) {
    if (d.verdict !== "remove") {
      results.push({ ...d, removed: false });
      continue;
    }
    const record = records.get(d.roleName);
    const subject = `system:serviceaccount:${d.namespace}:${d.serviceAccount}`;
    const removed = record?.written === true && record.subjects.includes(subject);
    results.push({
      ...d,
      removed,
      ...(removed
        ? {}
        : {
            error:
              record?.error ?? "its sub is matched only by a wildcard or a statement this engine cannot edit",
          }),
    });
  }
  const report: FinalizeReport = {
    runId: ctx.name,
    clusterName: setup.clusterName,
    providerArn: setup.providerArn,
    evaluatedAt: setup.evaluatedAt,
    decisions: results,
    notMigrated: setup.notMigrated,
    complete: results.every((d) => d.removed) && setup.notMigrated.length === 0,
  };
  await deps.store.putLarge(ctx.runKey, KEYS.finalize, report);
  const removed = results.filter((d) => d.removed).length;
  deps.logger.info("finalize", { clusterName: setup.clusterName, removed, kept: results.length - removed });
  return { done: true, complete: report.complete, removed, kept: results.length - removed };
}

/** Judges every candidate on the stored evidence and stores the decisions for the later chunks. */
async function decide(
  deps: MigrationDeps,
  ctx: ExecutionContext<"finalize">,
  setup: FinalizeSetup,
  roleArns: string[],
  now: Date,
  windows: { lagSeconds: number; quietSeconds?: number },
): Promise<FinalizeDecision[]> {
  const uses: CredentialUse[] = [];
  for (const roleArn of roleArns) {
    const stored = (await deps.store.getLarge<StoredUse[]>(ctx.runKey, KEYS.finalizeUses(roleArn))) ?? [];
    uses.push(...stored.map((u) => ({ ...u, time: new Date(u.time) }) as CredentialUse));
  }
  const decisions = decideFinalize({
    now,
    providerArn: setup.providerArn,
    clusterName: setup.clusterName,
    candidates: setup.candidates,
    uses,
    ...windows,
  });
  await deps.store.putLarge(ctx.runKey, KEYS.finalizeDecisions, decisions);
  return decisions;
}

/** The first chunk: the cluster, its migrated service accounts, their roles' quiet windows. */
async function discoverCandidates(
  deps: MigrationDeps,
  ctx: ExecutionContext<"finalize">,
): Promise<FinalizeSetup> {
  const request = ctx.request;
  const cluster = await describeCluster(deps.clients.eks, request.clusterName);
  if (!cluster?.oidcIssuer)
    throw new ValidationError(`cluster ${request.clusterName} does not exist or has no OIDC issuer`);
  await acquireClusterLease(deps, ctx, cluster.name);
  const accountId = cluster.arn.split(":")[4] ?? "";
  const [roles, addons, associations] = await Promise.all([
    listRolesWithTrust(deps.clients.iam),
    readAddonRefs(deps.clients.eks, cluster.name),
    readAssociations(deps.clients.eks, cluster.name),
  ]);
  const found = discover({
    accountId,
    issuer: cluster.oidcIssuer,
    roles,
    addons,
    partition: cluster.arn.split(":")[1] ?? "aws",
    ...(request.serviceAccounts ? { requested: request.serviceAccounts } : {}),
  });
  const bySlot = new Map(associations.map((a) => [`${a.namespace}/${a.serviceAccount}`, a]));
  const candidates: FinalizeCandidate[] = [];
  const notMigrated: string[] = [];
  const maxSession = new Map<string, number>();
  for (const item of found.items) {
    const slot = `${item.namespace}/${item.serviceAccount}`;
    if (bySlot.get(slot)?.roleArn !== item.roleArn) {
      notMigrated.push(slot);
      continue;
    }
    if (!maxSession.has(item.roleName))
      maxSession.set(item.roleName, (await readRole(deps, item.roleName)).maxSessionSeconds);
    candidates.push({ ...item, maxSessionSeconds: maxSession.get(item.roleName)! });
  }
  const setup: FinalizeSetup = {
    clusterName: cluster.name,
    providerArn: found.providerArn,
    evaluatedAt: deps.now().toISOString(),
    candidates,
    notMigrated: notMigrated.sort(),
  };
  await deps.store.putLarge(ctx.runKey, KEYS.finalizeSetup, setup);
  return setup;
}

/** What finalize did to one role: the subjects it removed, written or not, or why it could not. */
interface RemovalRecord {
  subjects: string[];
  written: boolean;
  error?: string;
}

/**
 * Removes this cluster's subs of `mine` from one role under the role's lease. Redone after an
 * interruption: a removal whose write happened but was not recorded is recognised from its
 * record of intent (the subs are gone from the live document).
 */
async function removeSubjects(
  deps: MigrationDeps,
  ctx: ExecutionContext<"finalize">,
  providerArn: string,
  roleName: string,
  mine: FinalizeDecision[],
): Promise<void> {
  const key = `${KEYS.finalize}#${roleName}`;
  const before = await deps.store.get<RemovalRecord>(ctx.runKey, key);
  if (before?.written) return;
  try {
    await withRoleLease(deps, ctx, mine[0]!.roleArn, async () => {
      const { trust } = await readRole(deps, roleName);
      const subjects = mine.map((d) => `system:serviceaccount:${d.namespace}:${d.serviceAccount}`);
      const removed = removeIrsaTrust(trust, providerArn, subjects);
      if (!removed.ok) throw new ValidationError(removed.reason);
      if (!removed.changed && before && before.subjects.length > 0) {
        // the write of an interrupted attempt landed: its subs are already gone
        await deps.store.put(ctx.runKey, key, { subjects: before.subjects, written: true });
        return;
      }
      await deps.store.put(ctx.runKey, key, { subjects: removed.removedSubjects, written: false });
      if (removed.changed) await writeTrust(deps, roleName, removed.document);
      await deps.store.put(ctx.runKey, key, { subjects: removed.removedSubjects, written: true });
    });
  } catch (error) {
    await deps.store.put(ctx.runKey, key, { subjects: [], written: false, error: errorMessage(error) });
  }
}
