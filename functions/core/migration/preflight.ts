import { podIdentitySupport } from "../support.js";
import { DEFAULT_TRUST_POLICY_SIZE_LIMIT } from "../trust/lint.js";
import type { ExcludedItem, MigrationItem } from "./discover.js";
import { addScopedPodTrust } from "./scope.js";

/** A service account ready to migrate; `associated` when an association with its role already exists. */
export interface ReadyItem extends MigrationItem {
  associated: boolean;
}

/** A service account that will not be migrated, and why. */
export interface RefusedItem extends MigrationItem {
  reasons: string[];
}

/** One trust policy edit per role, covering all its service accounts. */
export interface RoleEdit {
  roleName: string;
  roleArn: string;
  subjects: string[];
  sizeBefore: number;
  sizeAfterAdd: number;
  /** service accounts whose Pod Identity trust falls back to aws:SourceAccount (session tags disabled) */
  unscoped: string[];
}

/** What preflight decided. */
export interface PreflightResult {
  ready: ReadyItem[];
  refused: RefusedItem[];
  roleEdits: RoleEdit[];
  /** "built-in": an EKS Auto Mode cluster, whose nodes run the agent (never installed there) */
  agent: "present" | "install" | "built-in";
}

/** Everything preflight looks at (read by the adapters). */
export interface PreflightInput {
  cluster: {
    name: string;
    arn: string;
    status: string;
    version: string;
    platformVersion: string;
    accountId: string;
    /** computeConfig.enabled of DescribeCluster */
    autoMode?: boolean;
  };
  items: MigrationItem[];
  /** discovered but excluded by the trust policy itself (Deny, negations, undecidable) */
  excluded?: ExcludedItem[];
  agentPresent: boolean;
  fargateProfiles: { name: string; selectors: { namespace: string; labels?: Record<string, string> }[] }[];
  associations: {
    namespace: string;
    serviceAccount: string;
    roleArn: string;
    ownerArn?: string;
    disableSessionTags?: boolean;
  }[];
  trustByRole: Record<string, string>;
  providerArn: string;
  /** Sid tag of the statements this run adds */
  runTag: string;
  sizeLimit?: number;
}

function roleAccount(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(arn)?.[1];
}

/**
 * Checks, per service account, everything that would make the migration fail or break a
 * workload, each refusal with its reason: cluster ACTIVE and supported, agent present or
 * installable, role in the cluster's account, trust policy within the size limit after the edit,
 * no association with another role, namespace not run on Fargate.
 */
export function preflight(input: PreflightInput): PreflightResult {
  const limit = input.sizeLimit ?? DEFAULT_TRUST_POLICY_SIZE_LIMIT;
  const clusterReasons: string[] = [];
  if (input.cluster.status !== "ACTIVE")
    clusterReasons.push(`cluster ${input.cluster.name} is ${input.cluster.status}, not ACTIVE`);
  const support = podIdentitySupport(input.cluster.version, input.cluster.platformVersion);
  if (!support.supported) clusterReasons.push(support.reason ?? "the cluster does not support Pod Identity");

  const reasons = new Map<string, string[]>();
  const refuse = (item: MigrationItem, reason: string) => {
    const key = `${item.namespace}/${item.serviceAccount}`;
    reasons.set(key, [...(reasons.get(key) ?? []), reason]);
  };
  const existing = new Map(input.associations.map((a) => [`${a.namespace}/${a.serviceAccount}`, a]));
  const roleEdits: RoleEdit[] = [];
  const byRole = new Map<string, MigrationItem[]>();
  for (const item of input.items) byRole.set(item.roleName, [...(byRole.get(item.roleName) ?? []), item]);

  for (const item of input.items) {
    for (const r of clusterReasons) refuse(item, r);
    if (roleAccount(item.roleArn) !== input.cluster.accountId) {
      refuse(item, `role ${item.roleName} is not in the cluster's account ${input.cluster.accountId}`);
    }
    const current = existing.get(`${item.namespace}/${item.serviceAccount}`);
    if (current && current.roleArn !== item.roleArn) {
      refuse(
        item,
        `an association for ${item.namespace}/${item.serviceAccount} already uses another role (${current.roleArn})`,
      );
    }
    if (item.kind === "addon" && item.addonSupportsPodIdentity === false) {
      refuse(
        item,
        `add-on ${item.addonName} version ${item.addonVersion ?? "(unknown)"} does not support Pod Identity (DescribeAddonConfiguration lists no podIdentityConfiguration): update the add-on first`,
      );
    }
    if (item.kind === "addon" && item.addonSupportsPodIdentity === undefined) {
      refuse(
        item,
        `the Pod Identity configuration of add-on ${item.addonName} could not be read (undecided)`,
      );
    }
    if (item.kind === "service-account") {
      for (const profile of input.fargateProfiles) {
        const selector = profile.selectors.find((s) => s.namespace === item.namespace);
        if (selector) {
          const labels = Object.entries(selector.labels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
          refuse(
            item,
            `namespace ${item.namespace} is selected by Fargate profile ${profile.name}${labels ? ` (labels ${labels})` : ""}; Pod Identity does not support Fargate pods`,
          );
        }
      }
    }
  }

  for (const [roleName, items] of byRole) {
    const trust = input.trustByRole[roleName];
    const subjects = items.map((i) => `system:serviceaccount:${i.namespace}:${i.serviceAccount}`);
    const added =
      trust === undefined
        ? undefined
        : addScopedPodTrust(trust, {
            accountId: input.cluster.accountId,
            clusterArn: input.cluster.arn,
            clusterName: input.cluster.name,
            runTag: input.runTag,
            serviceAccounts: items.map((i) => ({
              namespace: i.namespace,
              serviceAccount: i.serviceAccount,
              sessionTags: !existing.get(`${i.namespace}/${i.serviceAccount}`)?.disableSessionTags,
            })),
          });
    if (!added?.ok) {
      for (const item of items) refuse(item, `the trust policy of role ${roleName} cannot be read or edited`);
      continue;
    }
    const edit: RoleEdit = {
      roleName,
      roleArn: items[0]!.roleArn,
      subjects,
      sizeBefore: added.sizeBefore,
      sizeAfterAdd: added.sizeAfter,
      unscoped: added.unscoped,
    };
    if (added.sizeAfter > limit) {
      for (const item of items) {
        refuse(
          item,
          `the trust policy of role ${roleName} would be ${added.sizeAfter} characters after adding Pod Identity trust, above the limit of ${limit}`,
        );
      }
    }
    roleEdits.push(edit);
  }

  const ready: ReadyItem[] = [];
  const refused: RefusedItem[] = [];
  for (const item of input.items) {
    const r = reasons.get(`${item.namespace}/${item.serviceAccount}`);
    if (r) refused.push({ ...item, reasons: r });
    else
      ready.push({
        ...item,
        associated: existing.get(`${item.namespace}/${item.serviceAccount}`)?.roleArn === item.roleArn,
      });
  }
  for (const item of input.excluded ?? []) refused.push(item);
  const readyRoles = new Set(ready.map((i) => i.roleName));
  return {
    ready,
    refused,
    roleEdits: roleEdits
      .filter((e) => readyRoles.has(e.roleName))
      .map((e) => {
        const keep = new Set(
          ready
            .filter((i) => i.roleName === e.roleName)
            .map((i) => `system:serviceaccount:${i.namespace}:${i.serviceAccount}`),
        );
        return { ...e, subjects: e.subjects.filter((s) => keep.has(s)) };
      }),
    agent: input.cluster.autoMode ? "built-in" : input.agentPresent ? "present" : "install",
  };
}
