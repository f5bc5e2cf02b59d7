import { randomUUID } from "node:crypto";
import {
  type AddonVersion,
  addonDefinition,
  addonVersion,
  checkPodIdentitySupport,
} from "./addon-catalog.js";
import { parseRoleArn } from "./eks-validation.js";
import { EksApiError, epochSeconds } from "./http.js";
import type { ClusterRef, PodIdentityStore } from "./pod-identity.js";

/** An add-on update as DescribeUpdate reports it (model shape `Update`). */
interface StoredUpdate {
  id: string;
  params: { type: string; value: string }[];
  createdAt: Date;
  readyAt: number;
}

/** An add-on as the local account stores it. */
export interface StoredAddon {
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
  /** CREATING or UPDATING until `readyAt` (front clock, ms), then ACTIVE */
  pending: "CREATING" | "UPDATING";
  readyAt: number;
  updates: StoredUpdate[];
}

/** The front's clock and the configured CREATING/UPDATING duration. */
export interface AddonClock {
  now(): number;
  transitionMs(): number;
}

interface AddonPodIdentity {
  serviceAccount: string;
  roleArn: string;
}

function parsePodIdentityList(addonName: string, raw: unknown): AddonPodIdentity[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw new EksApiError("InvalidParameterException", "podIdentityAssociations must be a list");
  const seen = new Set<string>();
  return raw.map((item) => {
    const entry = item as Partial<AddonPodIdentity> | null;
    if (!entry || typeof entry.serviceAccount !== "string" || typeof entry.roleArn !== "string") {
      throw new EksApiError(
        "InvalidParameterException",
        "Each pod identity association needs serviceAccount and roleArn",
        { addonName },
      );
    }
    if (seen.has(entry.serviceAccount)) {
      throw new EksApiError(
        "InvalidParameterException",
        `Duplicate service account ${entry.serviceAccount}`,
        {
          addonName,
        },
      );
    }
    seen.add(entry.serviceAccount);
    return { serviceAccount: entry.serviceAccount, roleArn: entry.roleArn };
  });
}

/** EKS add-ons of every cluster, with the pod identity associations they own. */
export class AddonStore {
  private byCluster = new Map<string, Map<string, StoredAddon>>();

  constructor(
    private readonly associations: PodIdentityStore,
    private readonly clock: AddonClock = { now: () => Date.now(), transitionMs: () => 0 },
  ) {}

  reset(): void {
    this.byCluster.clear();
  }

  dropCluster(key: string): void {
    this.byCluster.delete(key);
  }

  /** The ARNs of the add-on's associations that still exist (a direct delete removes one). */
  private arns(cluster: ClusterRef, addon: StoredAddon): string[] {
    addon.associationIds = addon.associationIds.filter((id) => this.associations.find(cluster, id));
    return addon.associationIds.map((id) => this.associations.get(cluster, id).associationArn);
  }

  private status(addon: StoredAddon): string {
    return this.clock.now() < addon.readyAt ? addon.pending : "ACTIVE";
  }

  private json(cluster: ClusterRef, a: StoredAddon): Record<string, unknown> {
    return {
      addonName: a.addonName,
      clusterName: a.clusterName,
      status: this.status(a),
      addonVersion: a.addonVersion,
      health: { issues: [] },
      addonArn: a.addonArn,
      createdAt: epochSeconds(a.createdAt),
      modifiedAt: epochSeconds(a.modifiedAt),
      ...(a.serviceAccountRoleArn ? { serviceAccountRoleArn: a.serviceAccountRoleArn } : {}),
      tags: a.tags,
      publisher: "eks",
      owner: "aws",
      ...(a.configurationValues ? { configurationValues: a.configurationValues } : {}),
      podIdentityAssociations: this.arns(cluster, a),
    };
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

  /** The add-on with this ARN (TagResource on add-on ARNs), if any. */
  byArn(cluster: ClusterRef, arn: string): StoredAddon | undefined {
    return [...(this.byCluster.get(cluster.key)?.values() ?? [])].find((a) => a.addonArn === arn);
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
    return this.json(cluster, this.find(cluster, name));
  }

  /** CreateAddon: the add-on is CREATING for the configured transition time, then ACTIVE. */
  async create(cluster: ClusterRef, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const name = body.addonName;
    const definition = addonDefinition(name);
    const addonName = name as string;
    const version = addonVersion(addonName, body.addonVersion);
    let map = this.byCluster.get(cluster.key);
    if (!map) {
      map = new Map();
      this.byCluster.set(cluster.key, map);
    }
    if (map.has(addonName)) {
      throw new EksApiError("ResourceInUseException", `Addon already exists: ${addonName}`, {
        clusterName: cluster.name,
        addonName,
      });
    }
    const serviceAccountRoleArn = body.serviceAccountRoleArn;
    if (serviceAccountRoleArn !== undefined && !parseRoleArn(serviceAccountRoleArn)) {
      throw new EksApiError("InvalidParameterException", "Invalid serviceAccountRoleArn", { addonName });
    }
    const pods = parsePodIdentityList(addonName, body.podIdentityAssociations) ?? [];
    checkPodIdentitySupport(
      addonName,
      version,
      pods.map((p) => p.serviceAccount),
    );
    const now = new Date(this.clock.now());
    const addon: StoredAddon = {
      addonName,
      clusterName: cluster.name,
      addonVersion: version.addonVersion,
      addonArn: `arn:aws:eks:${cluster.region}:${cluster.accountId}:addon/${cluster.name}/${addonName}/${randomUUID()}`,
      createdAt: now,
      modifiedAt: now,
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      associationIds: [],
      pending: "CREATING",
      readyAt: now.getTime() + this.clock.transitionMs(),
      updates: [],
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
          { namespace: definition.namespace, serviceAccount: pod.serviceAccount, roleArn: pod.roleArn },
          addon.addonArn,
        );
        created.push(a.associationId);
      }
    } catch (error) {
      for (const id of created) this.associations.delete(cluster, id);
      throw error;
    }
    addon.associationIds = created;
    map.set(addonName, addon);
    // CreateAddon answers CREATING; DescribeAddon says ACTIVE once the transition time has passed
    return { ...this.json(cluster, addon), status: "CREATING" };
  }

  /**
   * UpdateAddon: podIdentityAssociations, when given, replaces the add-on's associations; the add-on
   * is UPDATING for the configured transition time. A second update while it is CREATING or UPDATING
   * is refused with ResourceInUseException (the message text is the local account's own).
   */
  async update(
    cluster: ClusterRef,
    name: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const addon = this.find(cluster, name);
    const state = this.status(addon);
    if (state !== "ACTIVE") {
      throw new EksApiError("ResourceInUseException", `Addon ${name} is ${state}; wait until it is ACTIVE`, {
        clusterName: cluster.name,
        addonName: name,
      });
    }
    const target: AddonVersion = addonVersion(name, body.addonVersion ?? addon.addonVersion);
    const pods = parsePodIdentityList(name, body.podIdentityAssociations);
    if (pods)
      checkPodIdentitySupport(
        name,
        target,
        pods.map((p) => p.serviceAccount),
      );
    const params: { type: string; value: string }[] = [];
    if (typeof body.addonVersion === "string") {
      addon.addonVersion = target.addonVersion;
      params.push({ type: "AddonVersion", value: body.addonVersion });
    }
    if (typeof body.serviceAccountRoleArn === "string") {
      if (body.serviceAccountRoleArn === "") delete addon.serviceAccountRoleArn;
      else addon.serviceAccountRoleArn = body.serviceAccountRoleArn;
      params.push({ type: "ServiceAccountRoleArn", value: body.serviceAccountRoleArn });
    }
    if (typeof body.resolveConflicts === "string")
      params.push({ type: "ResolveConflicts", value: body.resolveConflicts });
    if (typeof body.configurationValues === "string") {
      addon.configurationValues = body.configurationValues;
      params.push({ type: "ConfigurationValues", value: body.configurationValues });
    }
    if (pods) {
      const namespace = addonDefinition(name).namespace;
      this.arns(cluster, addon);
      const current = addon.associationIds.map((id) => this.associations.get(cluster, id));
      const keep: string[] = [];
      for (const pod of pods) {
        const existing = current.find((a) => a.serviceAccount === pod.serviceAccount);
        if (existing) {
          if (existing.roleArn !== pod.roleArn)
            await this.associations.update(cluster, existing.associationId, { roleArn: pod.roleArn });
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
        if (!keep.includes(a.associationId)) this.associations.delete(cluster, a.associationId);
      }
      addon.associationIds = keep;
      params.push({ type: "PodIdentityAssociations", value: JSON.stringify(pods) });
    }
    const now = this.clock.now();
    addon.modifiedAt = new Date(now);
    addon.pending = "UPDATING";
    addon.readyAt = now + this.clock.transitionMs();
    const update: StoredUpdate = {
      id: randomUUID(),
      params,
      createdAt: addon.modifiedAt,
      readyAt: addon.readyAt,
    };
    addon.updates.push(update);
    // UpdateAddon always answers InProgress (EKS User Guide, add-ons-iam; model `UpdateAddonResponse`)
    return { ...updateJson(update, now), status: "InProgress" };
  }

  /** DescribeUpdate for an add-on update: InProgress until the add-on is ACTIVE again, then Successful. */
  describeUpdate(cluster: ClusterRef, name: string, updateId: string): Record<string, unknown> {
    const addon = this.find(cluster, name);
    const update = addon.updates.find((u) => u.id === updateId);
    if (!update) {
      throw new EksApiError("ResourceNotFoundException", `No update found for ID: ${updateId}`, {
        clusterName: cluster.name,
        addonName: name,
      });
    }
    return updateJson(update, this.clock.now());
  }

  /** DeleteAddon; `preserve` keeps the add-on's associations (they keep their ownerArn). */
  delete(cluster: ClusterRef, name: string, preserve = false): Record<string, unknown> {
    const addon = this.find(cluster, name);
    const json = this.json(cluster, addon);
    if (!preserve) for (const id of addon.associationIds) this.associations.delete(cluster, id);
    this.byCluster.get(cluster.key)?.delete(name);
    return { ...json, status: "DELETING" };
  }
}

function updateJson(u: StoredUpdate, now: number): Record<string, unknown> {
  return {
    id: u.id,
    status: now < u.readyAt ? "InProgress" : "Successful",
    type: "AddonUpdate",
    params: u.params,
    createdAt: epochSeconds(u.createdAt),
    errors: [],
  };
}
