/**
 * Catalog roles in IAM: one shared role per entry under /pod-identity/, created and changed only
 * with the stack's permissions boundary, and only if the automation created it. One idempotent
 * step brings a role up to the catalog: trust (the clusters and service accounts that requested
 * it), inline policy (static statements and per-cluster grants), managed policies (attach the
 * listed, detach the rest), extra inline policies removed, version tags. Each step compares
 * before it writes. Shapes: botocore iam/2010-05-08 service-2.json (GetRole → Role with RoleId,
 * Tags, PermissionsBoundary.PermissionsBoundaryArn, URL-encoded AssumeRolePolicyDocument;
 * GetRolePolicy → URL-encoded PolicyDocument).
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CATALOG_BY_NAME,
  CATALOG_POLICY_NAME,
  CATALOG_ROLE_PATH,
  type CatalogEntry,
  catalogRoleName,
  managedPolicyArns,
} from "../core/catalog.js";
import { catalogBoundaryArn } from "../core/catalog-boundary.js";
import { catalogVersion, diffCatalogVersions } from "../core/catalog-history.js";
import {
  mergeClusterGrants,
  readClusterGrants,
  renderCatalogPolicy,
  wantedClusterGrants,
} from "../core/catalog-policy.js";
import type { CatalogRequest } from "../core/catalog-requests.js";
import {
  catalogTrustPolicy,
  mergeTrustBindings,
  readTrustBindings,
  trustPolicySize,
} from "../core/catalog-trust.js";
import { errorMessage } from "../core/errors.js";
import type { Finding } from "../core/findings.js";
import { MANAGED_BY_VALUE, TAG } from "../core/tags.js";
import { LeaseBusyError, type RoleLock } from "./leases.js";

/** Tag recording the catalog version a role was at before its last upgrade (for `podid catalog diff`). */
export const PREVIOUS_VERSION_TAG = "pod-identity/catalog-previous-version";
/** Default IAM quota of a trust policy (characters, whitespace not counted). */
export const TRUST_POLICY_QUOTA = 2048;

/**
 * Where the automation records the roles it created (RoleId), so that a role of the same name
 * created by someone else, even with forged tags, is never taken for one of ours.
 */
export interface CatalogRoleRecords {
  get(roleName: string): Promise<{ roleId: string } | undefined>;
  put(roleName: string, roleId: string): Promise<void>;
}

/** What ensuring the catalog roles did. */
export interface CatalogRolesResult {
  created: string[];
  updated: string[];
  /** entries whose role is missing, foreign or failed: their associations must not be made */
  failed: { name: string; error: string }[];
  findings: Finding[];
}

/** Options of {@link ensureCatalogRoles}. */
export interface CatalogRolesOptions {
  accountId: string;
  partition?: string;
  dryRun: boolean;
  /** clusters whose grants and bindings this run replaces (see catalogRequests) */
  covered: ReadonlySet<string>;
  /** existing catalog role names to bring up to date even if no cluster of this run asks for them */
  existing?: Iterable<string>;
  records?: CatalogRoleRecords;
  trustQuota?: number;
  /**
   * Serializes the read-modify-write of one catalog role across every writer (workers of other
   * clusters run at the same time and edit the same shared role): runs `edit` holding the role's
   * lease, or throws LeaseBusyError (the caller retries later). Without it, one writer at a time
   * is assumed. Not taken in a dry run (nothing is written).
   */
  lock?: RoleLock;
}

interface LiveRole {
  roleId: string;
  tags: Record<string, string>;
  boundaryArn?: string;
  trust: unknown;
}

function decode(document: string | undefined): unknown {
  if (!document) return undefined;
  try {
    return JSON.parse(decodeURIComponent(document));
  } catch {
    try {
      return JSON.parse(document);
    } catch {
      return undefined;
    }
  }
}

async function readRole(iam: IAMClient, roleName: string): Promise<LiveRole | undefined> {
  try {
    const out = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    const role = out.Role;
    return {
      roleId: role?.RoleId ?? "",
      tags: Object.fromEntries((role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
      ...(role?.PermissionsBoundary?.PermissionsBoundaryArn
        ? { boundaryArn: role.PermissionsBoundary.PermissionsBoundaryArn }
        : {}),
      trust: decode(role?.AssumeRolePolicyDocument),
    };
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

async function readInline(iam: IAMClient, roleName: string): Promise<{ names: string[]; catalog: unknown }> {
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const out = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    names.push(...(out.PolicyNames ?? []));
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  let catalog: unknown;
  if (names.includes(CATALOG_POLICY_NAME)) {
    const out = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: CATALOG_POLICY_NAME }),
    );
    catalog = decode(out.PolicyDocument);
  }
  return { names, catalog };
}

async function readAttached(iam: IAMClient, roleName: string): Promise<string[]> {
  const arns: string[] = [];
  let marker: string | undefined;
  do {
    const out = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    arns.push(...(out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? ""));
    marker = out.IsTruncated ? out.Marker : undefined;
  } while (marker);
  return arns;
}

const canonical = (doc: unknown) => JSON.stringify(doc ?? null);

/** Why a live role is not one the automation may change, or undefined when it is. */
async function ownershipProblem(
  role: LiveRole,
  roleName: string,
  boundaryArn: string,
  records: CatalogRoleRecords | undefined,
): Promise<Finding | undefined> {
  if (role.tags[TAG.managedBy] !== MANAGED_BY_VALUE) {
    return {
      code: "CATALOG_ROLE_FOREIGN",
      severity: "error",
      roleName,
      message: `Role ${roleName} exists but pod-identity-autopilot did not create it; it is never adopted and no catalog association uses it. Delete or rename it to let the automation create its own.`,
    };
  }
  if (role.boundaryArn !== boundaryArn) {
    return {
      code: "CATALOG_ROLE_UNVERIFIED",
      severity: "error",
      roleName,
      message: `Role ${roleName} carries the automation's tag but not its permissions boundary ${boundaryArn}${role.boundaryArn ? ` (it has ${role.boundaryArn})` : ""}; tags can be forged, so it is left alone. If an earlier version of the automation created it, attach the boundary (aws iam put-role-permissions-boundary --role-name ${roleName} --permissions-boundary ${boundaryArn}).`,
    };
  }
  if (records) {
    const record = await records.get(roleName);
    if (record && record.roleId !== role.roleId) {
      return {
        code: "CATALOG_ROLE_FOREIGN",
        severity: "error",
        roleName,
        message: `Role ${roleName} is not the role the automation created (role id ${role.roleId}, recorded ${record.roleId}): it was deleted and recreated by someone else; it is never adopted.`,
      };
    }
  }
  return undefined;
}

async function ensureOne(
  iam: IAMClient,
  entry: CatalogEntry,
  request: CatalogRequest | undefined,
  options: CatalogRolesOptions,
  result: CatalogRolesResult,
): Promise<void> {
  const partition = options.partition ?? "aws";
  const roleName = catalogRoleName(entry.name);
  const boundaryArn = catalogBoundaryArn(options.accountId, partition);
  const wanted = wantedClusterGrants(entry, request?.clusters ?? [], options.accountId, partition);
  result.findings.push(...wanted.findings);

  let role = await readRole(iam, roleName);
  let created = false;
  if (!role) {
    if (!request || request.bindings.length === 0) return;
    const trust = catalogTrustPolicy(options.accountId, request.bindings);
    if (options.dryRun) {
      result.created.push(roleName);
      return;
    }
    const out = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        Path: CATALOG_ROLE_PATH,
        Description: `pod-identity-autopilot catalog: ${entry.description}`.slice(0, 1000),
        AssumeRolePolicyDocument: JSON.stringify(trust),
        PermissionsBoundary: boundaryArn,
        Tags: [
          { Key: TAG.managedBy, Value: MANAGED_BY_VALUE },
          { Key: TAG.catalog, Value: entry.name },
        ],
      }),
    );
    // EntityAlreadyExists (another run created it meanwhile) propagates: the next run judges that role
    await options.records?.put(roleName, out.Role?.RoleId ?? "");
    role = {
      roleId: out.Role?.RoleId ?? "",
      tags: { [TAG.managedBy]: MANAGED_BY_VALUE },
      boundaryArn,
      trust,
    };
    created = true;
    result.created.push(roleName);
  }

  const problem = await ownershipProblem(role, roleName, boundaryArn, options.records);
  if (problem) {
    result.findings.push(problem);
    result.failed.push({ name: entry.name, error: problem.message });
    return;
  }

  let changed = false;
  const write = async (what: () => Promise<unknown>) => {
    changed = true;
    if (!options.dryRun) await what();
  };

  // trust: the clusters this run covers as it wants them, the others as they were
  const bindings = mergeTrustBindings(
    readTrustBindings(role.trust),
    request?.bindings ?? [],
    options.covered,
  );
  const trust = catalogTrustPolicy(options.accountId, bindings);
  if (!created && canonical(trust) !== canonical(role.trust)) {
    const size = trustPolicySize(trust);
    if (size > (options.trustQuota ?? TRUST_POLICY_QUOTA)) {
      result.findings.push({
        code: "CATALOG_TRUST_TOO_LARGE",
        severity: "error",
        roleName,
        message: `Role ${roleName}'s trust for ${bindings.length} cluster/service-account bindings would be ${size} characters, over the quota of ${options.trustQuota ?? TRUST_POLICY_QUOTA}; its trust is left as it is (raise the IAM quota "Role trust policy length")`,
      });
    } else {
      await write(() =>
        iam.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(trust) }),
        ),
      );
    }
  }

  // new permissions first, old ones removed after, so a running controller never sees a gap
  const inline = created ? { names: [] as string[], catalog: undefined } : await readInline(iam, roleName);
  const grants = mergeClusterGrants(readClusterGrants(entry, inline.catalog), wanted.grants, options.covered);
  const policy = renderCatalogPolicy(entry, { accountId: options.accountId, partition, grants });
  if (policy && canonical(policy) !== canonical(inline.catalog)) {
    await write(() =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: CATALOG_POLICY_NAME,
          PolicyDocument: JSON.stringify(policy),
        }),
      ),
    );
  }
  const attached = created ? [] : await readAttached(iam, roleName);
  const listed = managedPolicyArns(entry, partition);
  for (const arn of listed.filter((a) => !attached.includes(a))) {
    await write(() => iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })));
  }
  const extraManaged = attached.filter((a) => !listed.includes(a));
  const extraInline = inline.names.filter((n) => n !== CATALOG_POLICY_NAME || !policy);
  for (const arn of extraManaged) {
    await write(() => iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })));
  }
  for (const name of extraInline) {
    await write(() => iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })));
  }
  const previous = role.tags[TAG.catalogVersion];
  const versionChanged = previous !== entry.version;
  if ((extraManaged.length > 0 || extraInline.length > 0) && !versionChanged) {
    result.findings.push({
      code: "CATALOG_ROLE_DRIFT",
      severity: "warning",
      roleName,
      message: `Role ${roleName} had policies the catalog does not list (${[...extraManaged, ...extraInline].join(", ")}); ${options.dryRun ? "they would be removed" : "removed"}`,
    });
  }
  if (versionChanged) {
    if (previous && !created) {
      const from = catalogVersion(entry, previous);
      const diff = from ? diffCatalogVersions(from, entry) : undefined;
      if (!from || (diff && (diff.removedActions.length > 0 || diff.removedManagedPolicies.length > 0))) {
        result.findings.push({
          code: "CATALOG_ACTIONS_REMOVED",
          severity: "warning",
          roleName,
          message: from
            ? `Role ${roleName} goes from catalog ${previous} to ${entry.version} and loses ${[...(diff?.removedActions ?? []), ...(diff?.removedManagedPolicies ?? [])].join(", ")}: a controller of the older version that still calls them gets AccessDenied (podid catalog diff ${entry.name})`
            : `Role ${roleName} goes from catalog ${previous}, which this version does not know, to ${entry.version}: what it loses cannot be listed`,
        });
      }
    }
    const tags: { Key: string; Value: string }[] = [{ Key: TAG.catalogVersion, Value: entry.version }];
    if (previous && !created) tags.push({ Key: PREVIOUS_VERSION_TAG, Value: previous });
    await write(() => iam.send(new TagRoleCommand({ RoleName: roleName, Tags: tags })));
  }
  if (changed && !created) result.updated.push(roleName);
}

/**
 * Brings the catalog roles that `requests` ask for (and the `existing` ones) up to the catalog.
 * An entry whose role could not be made usable is in `failed`: the caller must not associate it.
 * A role whose lease (`options.lock`) could not be had throws LeaseBusyError.
 */
export async function ensureCatalogRoles(
  iam: IAMClient,
  requests: ReadonlyMap<string, CatalogRequest>,
  options: CatalogRolesOptions,
): Promise<CatalogRolesResult> {
  const result: CatalogRolesResult = { created: [], updated: [], failed: [], findings: [] };
  const names = new Set([...requests.keys(), ...(options.existing ?? [])]);
  for (const name of [...names].sort()) {
    const entry = CATALOG_BY_NAME.get(name);
    if (!entry) continue;
    const ensure = () => ensureOne(iam, entry, requests.get(name), options, result);
    const roleArn = `arn:${options.partition ?? "aws"}:iam::${options.accountId}:role${CATALOG_ROLE_PATH}${catalogRoleName(name)}`;
    try {
      // the role is read inside the lease: the trust and grants merged are the latest written
      await (options.lock && !options.dryRun ? options.lock(roleArn, ensure) : ensure());
    } catch (error) {
      // a busy role is not a failed one: the whole cluster is retried later, nothing is skipped
      if (error instanceof LeaseBusyError) throw error;
      result.failed.push({ name, error: errorMessage(error) });
    }
  }
  return result;
}
