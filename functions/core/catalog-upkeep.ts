import { CATALOG_BY_NAME, CATALOG_ROLE_PATH, catalogEntryOfRole, catalogRoleName } from "./catalog.js";
import type { CatalogRequest } from "./catalog-requests.js";
import { readTrustBindings } from "./catalog-trust.js";
import type { RoleInfo } from "./model.js";
import { TAG } from "./tags.js";

/** Catalog entries a cluster's reconcile must bring up to date, as the template index last read them. */
export interface CatalogUpkeep {
  /** entries the cluster asks for whose role is missing, of another version, or trusts it differently */
  stale: string[];
  /** entries the cluster no longer asks for whose role's trust still names it */
  naming: string[];
}

const key = (ns: string, sa: string) => `${ns}/${sa}`;

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // unreadable trust: the role is checked (and reported) by the catalog role upkeep itself
    return undefined;
  }
}

/**
 * Which shared catalog roles disagree with what one cluster needs, judged from the index (no IAM
 * call): so a cluster whose associations are all in place still gets a catalog upgrade, and a
 * cluster that opted out, stopped asking or is gone is dropped from the roles' trust.
 */
export function catalogUpkeep(
  roles: readonly RoleInfo[],
  requests: ReadonlyMap<string, CatalogRequest>,
  clusterArn: string,
): CatalogUpkeep {
  const byName = new Map(
    roles.filter((r) => r.path === CATALOG_ROLE_PATH).map((r) => [r.name.toLowerCase(), r]),
  );
  const trustedHere = (role: RoleInfo) =>
    new Set(
      readTrustBindings(parsed(role.trustPolicy))
        .filter((b) => b.clusterArn === clusterArn)
        .map((b) => key(b.namespace, b.serviceAccount)),
    );
  const stale: string[] = [];
  for (const [name, request] of requests) {
    const entry = CATALOG_BY_NAME.get(name);
    const role = byName.get(catalogRoleName(name).toLowerCase());
    if (!entry || !role || role.tags[TAG.catalogVersion] !== entry.version) {
      stale.push(name);
      continue;
    }
    const wanted = new Set(
      request.bindings
        .filter((b) => b.clusterArn === clusterArn)
        .map((b) => key(b.namespace, b.serviceAccount)),
    );
    const have = trustedHere(role);
    if (wanted.size !== have.size || [...wanted].some((w) => !have.has(w))) stale.push(name);
  }
  const naming: string[] = [];
  for (const role of byName.values()) {
    const entry = catalogEntryOfRole(role.name);
    if (!entry || requests.has(entry.name)) continue;
    if (trustedHere(role).size > 0) naming.push(entry.name);
  }
  return { stale: stale.sort(), naming: naming.sort() };
}
