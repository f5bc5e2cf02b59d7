import { GetRoleCommand, UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { decodeTrust } from "../../aws/inventory.js";
import { TransientError } from "../../core/errors.js";
import { policiesEqual } from "../../core/trust/edit.js";
import type { MigrationDeps } from "../deps.js";

/** Reads a role's current trust policy (decoded) and its MaxSessionDuration. */
export async function readRole(
  deps: MigrationDeps,
  roleName: string,
): Promise<{ trust: string; maxSessionSeconds: number }> {
  const { Role } = await deps.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
  return {
    trust: decodeTrust(Role?.AssumeRolePolicyDocument ?? ""),
    maxSessionSeconds: Role?.MaxSessionDuration ?? 3600,
  };
}

/** Reads a role's current trust policy (decoded). */
export async function currentTrust(deps: MigrationDeps, roleName: string): Promise<string> {
  return (await readRole(deps, roleName)).trust;
}

/**
 * Writes a trust policy and waits until IAM reads it back (IAM is eventually consistent: a
 * read-modify-write by the next lease holder must see this write). Throws TransientError when it
 * never shows.
 */
export async function writeTrust(
  deps: MigrationDeps,
  roleName: string,
  document: Record<string, unknown>,
): Promise<void> {
  await deps.clients.iam.send(
    new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(document) }),
  );
  for (let attempt = 0; attempt < 8; attempt++) {
    if (policiesEqual(await currentTrust(deps, roleName), document)) return;
    await deps.sleep(Math.min(2000, 100 * 2 ** attempt));
  }
  throw new TransientError(`the trust policy written to ${roleName} does not read back`);
}
