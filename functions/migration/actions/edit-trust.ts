import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import pLimit from "p-limit";
import { decodeTrust } from "../../aws/inventory.js";
import { AutopilotError } from "../../core/errors.js";
import type { RoleEdit } from "../../core/migration/preflight.js";
import type { EditResult } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";
import { KEYS } from "../plan.js";

/** Reads a role's current trust policy (decoded). */
export async function currentTrust(deps: MigrationDeps, roleName: string): Promise<string> {
  const { Role } = await deps.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
  return decodeTrust(Role?.AssumeRolePolicyDocument ?? "");
}

type Edited = Extract<EditResult, { ok: true }>;

/**
 * One writer per role: reads its trust policy, snapshots it before the run's first change (the
 * first snapshot wins, so a retried step never overwrites the original), applies `edit`, and
 * writes the document only when it changed. Roles are edited `maxConcurrency` at a time.
 */
export async function editTrustPolicies<T extends Edited>(
  deps: MigrationDeps,
  migrationId: string,
  roleEdits: RoleEdit[],
  maxConcurrency: number,
  what: string,
  edit: (trust: string, roleEdit: RoleEdit) => T | { ok: false; reason: string },
): Promise<{ roleEdit: RoleEdit; result: T }[]> {
  const limit = pLimit(maxConcurrency);
  return await Promise.all(
    roleEdits.map((roleEdit) =>
      limit(async () => {
        const trust = await currentTrust(deps, roleEdit.roleName);
        await deps.store.put(
          migrationId,
          KEYS.role(roleEdit.roleName),
          { original: trust },
          { onlyIfAbsent: true },
        );
        const result = edit(trust, roleEdit);
        if (!result.ok) throw new AutopilotError(`cannot ${what} ${roleEdit.roleName}: ${result.reason}`);
        if (result.changed) {
          await deps.clients.iam.send(
            new UpdateAssumeRolePolicyCommand({
              RoleName: roleEdit.roleName,
              PolicyDocument: JSON.stringify(result.document),
            }),
          );
        }
        return { roleEdit, result };
      }),
    ),
  );
}
