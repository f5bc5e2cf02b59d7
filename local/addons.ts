import { randomUUID } from "node:crypto";
import { parseRoleArn } from "./eks-validation.js";
import { EksApiError, epochSeconds } from "./http.js";
import type { ClusterRef, PodIdentityStore } from "./pod-identity.js";

/** Add-ons the local account knows, with their default version and the service accounts they run as. */
export const KNOWN_ADDONS: Record<string, { version: string; namespace: string; serviceAccounts: string[] }> =
  {
    "eks-pod-identity-agent": { version: "v1.3.8-eksbuild.2", namespace: "kube-system", serviceAccounts: [] },
    "vpc-cni": { version: "v1.19.5-eksbuild.1", namespace: "kube-system", serviceAccounts: ["aws-node"] },
    coredns: { version: "v1.11.4-eksbuild.14", namespace: "kube-system", serviceAccounts: [] },
    "kube-proxy": { version: "v1.32.3-eksbuild.7", namespace: "kube-system", serviceAccounts: [] },
    "aws-ebs-csi-driver": {
      version: "v1.44.0-eksbuild.1",
      namespace: "kube-system",
      serviceAccounts: ["ebs-csi-controller-sa"],
    },
    "aws-efs-csi-driver": {
      version: "v2.1.8-eksbuild.1",
      namespace: "kube-system",
      serviceAccounts: ["efs-csi-controller-sa"],
    },
    "amazon-cloudwatch-observability": {
      version: "v4.1.0-eksbuild.1",
      namespace: "amazon-cloudwatch",
      serviceAccounts: ["cloudwatch-agent"],
    },
    "aws-mountpoint-s3-csi-driver": {
      version: "v1.15.0-eksbuild.1",
      namespace: "kube-system",
      serviceAccounts: ["s3-csi-driver-sa"],
    },
  };

interface StoredAddon {
  addonName: string;
  clusterName: string;
  addonVersion: string;
  addonArn: string;
  createdAt: Date;
  modifiedAt: Date;
  serviceAccountRoleArn?: string;
  tags: Record<string, string>;
  configurationValues?: string;
  associationIds: string[];
}

function addonJson(a: StoredAddon, associationArns: string[]): Record<string, unknown> {
  return {
    addonName: a.addonName,
    clusterName: a.clusterName,
    status: "ACTIVE",
    addonVersion: a.addonVersion,
    health: { issues: [] },
    addonArn: a.addonArn,
    createdAt: epochSeconds(a.createdAt),
    modifiedAt: epochSeconds(a.modifiedAt),
    ...(a.serviceAccountRoleArn ? { serviceAccountRoleArn: a.serviceAccountRoleArn } : {}),
    tags: a.tags,
    ...(a.configurationValues ? { configurationValues: a.configurationValues } : {}),
    podIdentityAssociations: associationArns,
  };
}

interface AddonPodIdentity {
  serviceAccount: string;
  roleArn: string;
}

function parsePodIdentityList(addonName: string, raw: unknown): AddonPodIdentity[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw new EksApiError("InvalidParameterException", "podIdentityAssociations must be a list");
  const known = KNOWN_ADDONS[addonName];
  const seen = new Set<string>();
  return raw.map((item) => {
    const entry = item as Partial<AddonPodIdentity> | null;
    if (!entry || typeof entry.serviceAccount !== "string" || typeof entry.roleArn !== "string") {
      throw new EksApiError(
        "InvalidParameterException",
        "Each pod identity association needs serviceAccount and roleArn",
      );
    }
    if (!known?.serviceAccounts.includes(entry.serviceAccount)) {
      throw new EksApiError(
        "InvalidParameterException",
        `Add-on ${addonName} does not use service account ${entry.serviceAccount}`,
        { addonName },
      );
    }
    if (seen.has(entry.serviceAccount)) {
      throw new EksApiError(
        "InvalidParameterException",
        `Duplicate service account ${entry.serviceAccount}`,
        { addonName },
      );
    }
    seen.add(entry.serviceAccount);
    return { serviceAccount: entry.serviceAccount, roleArn: entry.roleArn };
  });
}

/** EKS add-ons of every cluster, with the pod identity associations they own. */
export class AddonStore {
  private byCluster = new Map<string, Map<string, StoredAddon>>();

  constructor(private readonly associations: PodIdentityStore) {}

  reset(): void {
    this.byCluster.clear();
  }

  dropCluster(key: string): void {
    this.byCluster.delete(key);
  }

  private arns(cluster: ClusterRef, addon: StoredAddon): string[] {
    return addon.associationIds.map((id) => this.associations.get(cluster, id).associationArn);
  }

  private find(cluster: ClusterRef, name: string): StoredAddon {
    const addon = this.byCluster.get(cluster.key)?.get(name);
    if (!addon) {
      throw new EksApiError(
        "ResourceNotFoundException",
        `No addon: ${name} found in cluster: ${cluster.name}`,
        {
          clusterName: cluster.name,
          addonName: name,
        },
      );
    }
    return addon;
  }

  list(cluster: ClusterRef, query: URLSearchParams): { addons: string[]; nextToken?: string } {
    const max = query.get("maxResults") === null ? 100 : Number(query.get("maxResults"));
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      throw new EksApiError("InvalidParameterException", "maxResults must be between 1 and 100");
    }
    const names = [...(this.byCluster.get(cluster.key)?.keys() ?? [])].sort();
    const token = query.get("nextToken");
    const start = token ? names.indexOf(Buffer.from(token, "base64url").toString()) + 1 : 0;
    if (token && start === 0)
      throw new EksApiError("InvalidParameterException", "The nextToken is not valid");
    const page = names.slice(start, start + max);
    const more = start + max < names.length;
    return {
      addons: page,
      ...(more ? { nextToken: Buffer.from(page.at(-1) ?? "").toString("base64url") } : {}),
    };
  }

  describe(cluster: ClusterRef, name: string): Record<string, unknown> {
    const addon = this.find(cluster, name);
    return addonJson(addon, this.arns(cluster, addon));
  }

  async create(cluster: ClusterRef, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const name = body.addonName;
    if (typeof name !== "string" || !KNOWN_ADDONS[name]) {
      throw new EksApiError("InvalidParameterException", `Addon ${String(name)} specified is not supported`);
    }
    let map = this.byCluster.get(cluster.key);
    if (!map) {
      map = new Map();
      this.byCluster.set(cluster.key, map);
    }
    if (map.has(name)) {
      throw new EksApiError("ResourceInUseException", `Addon already exists: ${name}`, {
        clusterName: cluster.name,
        addonName: name,
      });
    }
    const serviceAccountRoleArn = body.serviceAccountRoleArn;
    if (serviceAccountRoleArn !== undefined && !parseRoleArn(serviceAccountRoleArn)) {
      throw new EksApiError("InvalidParameterException", "Invalid serviceAccountRoleArn", {
        addonName: name,
      });
    }
    const pods = parsePodIdentityList(name, body.podIdentityAssociations) ?? [];
    const now = new Date();
    const addon: StoredAddon = {
      addonName: name,
      clusterName: cluster.name,
      addonVersion: typeof body.addonVersion === "string" ? body.addonVersion : KNOWN_ADDONS[name]!.version,
      addonArn: `arn:aws:eks:${cluster.region}:${cluster.accountId}:addon/${cluster.name}/${name}/${randomUUID()}`,
      createdAt: now,
      modifiedAt: now,
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      associationIds: [],
      ...(typeof serviceAccountRoleArn === "string" ? { serviceAccountRoleArn } : {}),
      ...(typeof body.configurationValues === "string"
        ? { configurationValues: body.configurationValues }
        : {}),
    };
    const created: string[] = [];
    try {
      for (const pod of pods) {
        const a = await this.associations.create(
          cluster,
          {
            namespace: KNOWN_ADDONS[name]!.namespace,
            serviceAccount: pod.serviceAccount,
            roleArn: pod.roleArn,
          },
          addon.addonArn,
        );
        created.push(a.associationId);
      }
    } catch (error) {
      for (const id of created) this.associations.delete(cluster, id, addon.addonArn);
      throw error;
    }
    addon.associationIds = created;
    map.set(name, addon);
    return addonJson(addon, this.arns(cluster, addon));
  }

  /** UpdateAddon: podIdentityAssociations, when given, replaces the add-on's associations. */
  async update(
    cluster: ClusterRef,
    name: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const addon = this.find(cluster, name);
    const pods = parsePodIdentityList(name, body.podIdentityAssociations);
    const params: { type: string; value: string }[] = [];
    if (typeof body.addonVersion === "string") {
      addon.addonVersion = body.addonVersion;
      params.push({ type: "AddonVersion", value: body.addonVersion });
    }
    if (typeof body.serviceAccountRoleArn === "string") {
      if (body.serviceAccountRoleArn === "") delete addon.serviceAccountRoleArn;
      else addon.serviceAccountRoleArn = body.serviceAccountRoleArn;
      params.push({ type: "ServiceAccountRoleArn", value: body.serviceAccountRoleArn });
    }
    if (typeof body.configurationValues === "string") {
      addon.configurationValues = body.configurationValues;
      params.push({ type: "ConfigurationValues", value: body.configurationValues });
    }
    if (pods) {
      const namespace = KNOWN_ADDONS[name]!.namespace;
      const current = addon.associationIds.map((id) => this.associations.get(cluster, id));
      const keep: string[] = [];
      for (const pod of pods) {
        const existing = current.find((a) => a.serviceAccount === pod.serviceAccount);
        if (existing) {
          await this.associations.update(
            cluster,
            existing.associationId,
            { roleArn: pod.roleArn },
            addon.addonArn,
          );
          keep.push(existing.associationId);
        } else {
          const a = await this.associations.create(
            cluster,
            { namespace, serviceAccount: pod.serviceAccount, roleArn: pod.roleArn },
            addon.addonArn,
          );
          keep.push(a.associationId);
        }
      }
      for (const a of current) {
        if (!keep.includes(a.associationId))
          this.associations.delete(cluster, a.associationId, addon.addonArn);
      }
      addon.associationIds = keep;
      params.push({ type: "PodIdentityAssociations", value: JSON.stringify(pods) });
    }
    addon.modifiedAt = new Date();
    return {
      id: randomUUID(),
      status: "InProgress",
      type: "AddonUpdate",
      params,
      createdAt: epochSeconds(addon.modifiedAt),
      errors: [],
    };
  }

  delete(cluster: ClusterRef, name: string): Record<string, unknown> {
    const addon = this.find(cluster, name);
    const json = addonJson(addon, this.arns(cluster, addon));
    for (const id of addon.associationIds) this.associations.delete(cluster, id, addon.addonArn);
    this.byCluster.get(cluster.key)?.delete(name);
    return { ...json, status: "DELETING" };
  }
}
