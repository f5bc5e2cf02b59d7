import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  type IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
  TagRoleCommand,
} from "@aws-sdk/client-iam";
import {
  CATALOG_BY_NAME,
  CATALOG_POLICY_NAME,
  CATALOG_ROLE_PATH,
  type CatalogEntry,
  catalogRoleName,
  catalogTrustPolicy,
} from "../core/catalog.js";
import { errorMessage } from "../core/errors.js";
import type { Finding } from "../core/findings.js";
import type { RoleInfo } from "../core/model.js";
import { MANAGED_BY_VALUE, TAG } from "../core/tags.js";
import { podIdentityRefusals } from "../core/trust/context.js";
import { decodeTrust } from "./inventory.js";

/** What ensuring the catalog roles did. */
export interface CatalogRolesResult {
  created: string[];
  updated: string[];
  failed: { name: string; error: string }[];
  findings: Finding[];
}

async function writePolicy(iam: IAMClient, roleName: string, entry: CatalogEntry): Promise<void> {
  for (const arn of entry.managedPolicyArns) {
    await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn }));
  }
  if (entry.inlinePolicy) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: CATALOG_POLICY_NAME,
        PolicyDocument: JSON.stringify(entry.inlinePolicy),
      }),
    );
  }
  await iam.send(
    new TagRoleCommand({ RoleName: roleName, Tags: [{ Key: TAG.catalogVersion, Value: entry.version }] }),
  );
}

/**
 * Keeps one shared role per catalog entry in use, under /pod-identity/, trusting Pod Identity from
 * this account, with its policy at the catalog version. Only creates, tags, attaches and puts.
 */
export async function ensureCatalogRoles(
  iam: IAMClient,
  accountId: string,
  names: Iterable<string>,
  options: { dryRun: boolean; known?: RoleInfo[] },
): Promise<CatalogRolesResult> {
  const result: CatalogRolesResult = { created: [], updated: [], failed: [], findings: [] };
  for (const name of names) {
    const entry = CATALOG_BY_NAME.get(name);
    if (!entry) continue;
    const roleName = catalogRoleName(name);
    try {
      let role: { tags: Record<string, string>; trust: string } | undefined;
      const known = options.known?.find((r) => r.name === roleName);
      if (known) role = { tags: known.tags, trust: known.trustPolicy };
      else
        try {
          const out = await iam.send(new GetRoleCommand({ RoleName: roleName }));
          role = {
            tags: Object.fromEntries((out.Role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
            trust: decodeTrust(out.Role?.AssumeRolePolicyDocument ?? ""),
          };
        } catch (error) {
          if (!(error instanceof NoSuchEntityException)) throw error;
        }
      if (!role) {
        if (!options.dryRun) {
          try {
            await iam.send(
              new CreateRoleCommand({
                RoleName: roleName,
                Path: CATALOG_ROLE_PATH,
                Description: `pod-identity-autopilot catalog: ${entry.description}`.slice(0, 1000),
                AssumeRolePolicyDocument: JSON.stringify(catalogTrustPolicy(accountId)),
                Tags: [
                  { Key: TAG.managedBy, Value: MANAGED_BY_VALUE },
                  { Key: TAG.catalog, Value: name },
                ],
              }),
            );
          } catch (error) {
            // another run created it meanwhile: converge on it
            if (!(error instanceof EntityAlreadyExistsException)) throw error;
          }
          await writePolicy(iam, roleName, entry);
        }
        result.created.push(roleName);
        continue;
      }
      if (role.tags[TAG.managedBy] !== MANAGED_BY_VALUE) {
        result.findings.push({
          code: "CATALOG_ROLE_DRIFT",
          severity: "warning",
          roleName,
          message: `Role ${roleName} exists but was not created by pod-identity-autopilot; its policy is left as it is`,
        });
      } else if (role.tags[TAG.catalogVersion] !== entry.version) {
        if (!options.dryRun) await writePolicy(iam, roleName, entry);
        result.updated.push(roleName);
      }
      if (
        podIdentityRefusals(role.trust, {
          accountId,
          clusters: [{ name: "*", arn: `arn:aws:eks:*:${accountId}:cluster/*` }],
        }).length > 0
      ) {
        result.findings.push({
          code: "CATALOG_ROLE_DRIFT",
          severity: "error",
          roleName,
          message: `Role ${roleName}'s trust policy no longer allows Pod Identity from account ${accountId}; restore it (the automation does not rewrite trust policies)`,
        });
      }
    } catch (error) {
      result.failed.push({ name, error: errorMessage(error) });
    }
  }
  return result;
}
