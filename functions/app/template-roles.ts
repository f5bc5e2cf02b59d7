import { CATALOG_ROLE_PATH } from "../core/catalog.js";
import type { RoleInfo } from "../core/model.js";
import type { IndexedRole } from "./ports.js";

const POD_IDENTITY_PREFIX = "pod-identity/";

/**
 * Whether the template index keeps a role: any `pod-identity/` tag key (case-insensitive, so a
 * template with a typo is kept and frozen rather than forgotten) or the catalog roles' path.
 */
export function isIndexedRole(role: RoleInfo): boolean {
  return (
    role.path === CATALOG_ROLE_PATH ||
    Object.keys(role.tags).some((k) => k.toLowerCase().startsWith(POD_IDENTITY_PREFIX))
  );
}

/** The index item of a role read from IAM at `readAt`. */
export function indexedRole(role: RoleInfo, readAt: Date): IndexedRole {
  return {
    name: role.name,
    arn: role.arn,
    path: role.path,
    tags: { ...role.tags },
    trustPolicy: role.trustPolicy,
    // template admission by boundary reads it from the index
    ...(role.permissionsBoundaryArn ? { permissionsBoundaryArn: role.permissionsBoundaryArn } : {}),
    readAt: readAt.toISOString(),
  };
}

/** Same name, ARN, path, tags and trust policy. */
export function sameRole(a: RoleInfo, b: RoleInfo): boolean {
  if (a.name !== b.name || a.arn !== b.arn || a.path !== b.path || a.trustPolicy !== b.trustPolicy)
    return false;
  if ((a.permissionsBoundaryArn ?? "") !== (b.permissionsBoundaryArn ?? "")) return false;
  const ka = Object.keys(a.tags);
  return ka.length === Object.keys(b.tags).length && ka.every((k) => b.tags[k] === a.tags[k]);
}
