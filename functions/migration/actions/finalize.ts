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

/**
 * Finalize: for the migrated service accounts of this cluster (live: the role trusts the cluster's
 * OIDC provider for the sub, and an association gives the same role to the same namespace and
 * service account), reads CloudTrail evidence and removes this cluster's `sub` only where the
 * quiet window shows no IRSA use. Everything comes from the execution's input and live documents.
 */
export async function finalize(
  deps: MigrationDeps,
  ctx: ExecutionContext<"finalize">,
): Promise<{ complete: boolean; removed: number; kept: number }> {
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
  const now = deps.now();
  const uses: CredentialUse[] = [];
  for (const roleArn of new Set(candidates.map((c) => c.roleArn))) {
    const from = new Date(
      Math.min(
        ...candidates
          .filter((c) => c.roleArn === roleArn)
          .map((c) =>
            evidenceWindow(now, c, {
              lagSeconds: request.evidenceLagSeconds,
              ...(request.quietSeconds !== undefined ? { quietSeconds: request.quietSeconds } : {}),
            }).from.getTime(),
          ),
      ),
    );
    uses.push(...(await deps.evidence.credentialUses(roleArn, from, now)));
  }
  const decisions = decideFinalize({
    now,
    providerArn: found.providerArn,
    clusterName: cluster.name,
    candidates,
    uses,
    lagSeconds: request.evidenceLagSeconds,
    ...(request.quietSeconds !== undefined ? { quietSeconds: request.quietSeconds } : {}),
  });
  const results: FinalizeReport["decisions"] = decisions.map((d) => ({ ...d, removed: false }));
  for (const roleName of new Set(decisions.filter((d) => d.verdict === "remove").map((d) => d.roleName))) {
    const mine = results.filter((d) => d.roleName === roleName && d.verdict === "remove");
    try {
      await withRoleLease(deps, ctx, mine[0]!.roleArn, async () => {
        const { trust } = await readRole(deps, roleName);
        const subjects = mine.map((d) => `system:serviceaccount:${d.namespace}:${d.serviceAccount}`);
        const removed = removeIrsaTrust(trust, found.providerArn, subjects);
        if (!removed.ok) throw new ValidationError(removed.reason);
        await deps.store.put(ctx.runKey, `${KEYS.finalize}#${roleName}`, {
          subjects: removed.removedSubjects,
          written: false,
        });
        if (removed.changed) await writeTrust(deps, roleName, removed.document);
        await deps.store.put(ctx.runKey, `${KEYS.finalize}#${roleName}`, {
          subjects: removed.removedSubjects,
          written: true,
        });
        for (const d of mine) {
          d.removed = removed.removedSubjects.includes(
            `system:serviceaccount:${d.namespace}:${d.serviceAccount}`,
          );
          if (!d.removed)
            d.error = "its sub is matched only by a wildcard or a statement this engine cannot edit";
        }
      });
    } catch (error) {
      for (const d of mine) d.error = errorMessage(error);
    }
  }
  const report: FinalizeReport = {
    runId: ctx.name,
    clusterName: cluster.name,
    providerArn: found.providerArn,
    evaluatedAt: now.toISOString(),
    decisions: results,
    notMigrated: notMigrated.sort(),
    complete: results.every((d) => d.removed) && notMigrated.length === 0,
  };
  await deps.store.putLarge(ctx.runKey, KEYS.finalize, report);
  const removed = results.filter((d) => d.removed).length;
  deps.logger.info("finalize", { clusterName: cluster.name, removed, kept: results.length - removed });
  return { complete: report.complete, removed, kept: results.length - removed };
}
