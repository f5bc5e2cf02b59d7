import {
  GetRoleCommand,
  type IAMClient,
  NoSuchEntityException,
  paginateGetAccountAuthorizationDetails,
} from "@aws-sdk/client-iam";
import type { RoleDirectory } from "../app/ports.js";
import type { CatalogRequest } from "../core/catalog-requests.js";
import type { RoleInfo } from "../core/model.js";
import { ensureCatalogRoles } from "./catalog-roles.js";
import { decodeTrust } from "./inventory.js";
import type { RoleLock } from "./leases.js";

function tagsOf(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? ""]] : [])));
}

/**
 * IAM reads of the template index. All roles: GetAccountAuthorizationDetails (Filter Role), which
 * returns each role's tags and trust policy, up to 1,000 roles per call (botocore iam/2010-05-08:
 * RoleDetailList[].Tags, AssumeRolePolicyDocument URL-encoded), instead of ListRoles plus one
 * ListRoleTags per role. One role: GetRole (tags included).
 */
export class IamRoleDirectory implements RoleDirectory {
  /**
   * @param lock serializes each catalog role's read-modify-write across all writers (workers of
   * different clusters run concurrently and share catalog roles); see ensureCatalogRoles
   */
  constructor(
    private readonly iam: IAMClient,
    private readonly lock?: RoleLock,
  ) {}

  async readRole(name: string): Promise<RoleInfo | undefined> {
    try {
      const { Role: r } = await this.iam.send(new GetRoleCommand({ RoleName: name }));
      if (!r?.RoleName || !r.Arn) return undefined;
      return {
        name: r.RoleName,
        arn: r.Arn,
        path: r.Path ?? "/",
        tags: tagsOf(r.Tags),
        trustPolicy: decodeTrust(r.AssumeRolePolicyDocument ?? ""),
        ...(r.PermissionsBoundary?.PermissionsBoundaryArn
          ? { permissionsBoundaryArn: r.PermissionsBoundary.PermissionsBoundaryArn }
          : {}),
      };
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  }

  async readAllRoles(): Promise<RoleInfo[]> {
    const roles: RoleInfo[] = [];
    const pages = paginateGetAccountAuthorizationDetails(
      { client: this.iam, pageSize: 1000 },
      { Filter: ["Role"] },
    );
    for await (const page of pages) {
      for (const r of page.RoleDetailList ?? []) {
        if (!r.RoleName || !r.Arn) continue;
        roles.push({
          name: r.RoleName,
          arn: r.Arn,
          path: r.Path ?? "/",
          tags: tagsOf(r.Tags),
          trustPolicy: decodeTrust(r.AssumeRolePolicyDocument ?? ""),
          ...(r.PermissionsBoundary?.PermissionsBoundaryArn
            ? { permissionsBoundaryArn: r.PermissionsBoundary.PermissionsBoundaryArn }
            : {}),
        });
      }
    }
    return roles;
  }

  ensureCatalogRoles(
    accountId: string,
    partition: string,
    requests: Map<string, CatalogRequest>,
    covered: Set<string>,
    existing: readonly string[] = [],
  ) {
    return ensureCatalogRoles(this.iam, requests, {
      accountId,
      partition,
      dryRun: false,
      covered,
      existing: [...existing],
      ...(this.lock ? { lock: this.lock } : {}),
    });
  }
}
