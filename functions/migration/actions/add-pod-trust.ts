import pLimit from "p-limit";
import { readAssociations } from "../../aws/inventory.js";
import { AutopilotError } from "../../core/errors.js";
import { stillTrusted } from "../../core/migration/discover.js";
import type { RoleEdit } from "../../core/migration/preflight.js";
import { addScopedPodTrust } from "../../core/migration/scope.js";
import type { ExecutionContext } from "../authority.js";
import type { MigrationDeps } from "../deps.js";
import { withRoleLease } from "../leases.js";
import { KEYS, type MigrationPlan, planHash, runTagOf, type TrustEditRecord } from "../plan.js";
import { installAgent } from "./agent.js";
import { readRole, writeTrust } from "./edit-trust.js";
import { loadPlan } from "./load-plan.js";

/** The plan changed after it was approved (someone wrote the table). */
export class PlanChangedError extends AutopilotError {
  override name = "PlanChanged";
}

async function addToRole(
  deps: MigrationDeps,
  ctx: ExecutionContext<"run">,
  plan: MigrationPlan,
  roleEdit: RoleEdit,
  sessionTagsOff: Set<string>,
): Promise<{ changed: boolean; unscoped: string[] }> {
  return await withRoleLease(deps, ctx, roleEdit.roleArn, async () => {
    const key = KEYS.edit(roleEdit.roleName);
    const previous = await deps.store.get<TrustEditRecord>(ctx.runKey, key);
    if (previous?.written) return { changed: false, unscoped: [] };
    const { trust } = await readRole(deps, roleEdit.roleName);
    // names from the plan, truth from the live document: only subjects the role still trusts
    // through this cluster's provider get Pod Identity trust
    const subjects = stillTrusted(trust, plan.providerArn, roleEdit.subjects);
    const serviceAccounts = subjects.map((s) => {
      const [, , namespace = "", serviceAccount = ""] = s.split(":");
      return {
        namespace,
        serviceAccount,
        sessionTags: !sessionTagsOff.has(`${namespace}/${serviceAccount}`),
      };
    });
    const added = addScopedPodTrust(trust, {
      accountId: plan.accountId,
      clusterArn: plan.clusterArn,
      clusterName: plan.clusterName,
      serviceAccounts,
      runTag: runTagOf(ctx.runKey),
    });
    if (!added.ok)
      throw new AutopilotError(`cannot edit the trust policy of ${roleEdit.roleName}: ${added.reason}`);
    if (added.statements.length === 0) return { changed: false, unscoped: [] };
    const record: TrustEditRecord = {
      roleName: roleEdit.roleName,
      roleArn: roleEdit.roleArn,
      statements: added.statements,
      written: false,
    };
    // the intent first: a crash after the write still leaves what to undo
    await deps.store.put(ctx.runKey, key, record);
    await writeTrust(deps, roleEdit.roleName, added.document);
    await deps.store.put(ctx.runKey, key, { ...record, written: true });
    deps.logger.info("pod identity trust added", {
      roleName: roleEdit.roleName,
      statements: added.statements.length,
      sizeAfter: added.sizeAfter,
    });
    return { changed: true, unscoped: added.unscoped };
  });
}

/**
 * Stage 4 (after approval): adds scoped Pod Identity trust, one writer per role under the role's
 * lease; installs the agent add-on where it is missing (never on Auto Mode clusters).
 */
export async function addPodTrust(deps: MigrationDeps, ctx: ExecutionContext<"run">) {
  const plan = await loadPlan(deps, ctx.runKey);
  const approved = await deps.store.get<{ planHash: string }>(ctx.runKey, KEYS.approval);
  if (!approved || approved.planHash !== planHash(plan))
    throw new PlanChangedError(`the plan of ${ctx.name} is not the plan that was put up for approval`);
  let agentInstalled = false;
  if (plan.agent === "install") agentInstalled = await installAgent(deps, ctx, plan.clusterName);
  const sessionTagsOff = new Set(
    (await readAssociations(deps.clients.eks, plan.clusterName))
      .filter((a) => a.disableSessionTags)
      .map((a) => `${a.namespace}/${a.serviceAccount}`),
  );
  const limit = pLimit(ctx.request.maxConcurrency);
  const results = await Promise.all(
    plan.roleEdits.map((e) => limit(() => addToRole(deps, ctx, plan, e, sessionTagsOff))),
  );
  return {
    rolesEdited: results.filter((r) => r.changed).length,
    rolesUnchanged: results.filter((r) => !r.changed).length,
    unscoped: results.reduce((n, r) => n + r.unscoped.length, 0),
    agentInstalled,
  };
}
