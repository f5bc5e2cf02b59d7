import { createHash, randomInt } from "node:crypto";
import {
  checkRoleForAssociation,
  parseRoleArn,
  validNamespace,
  validServiceAccount,
} from "./eks-validation.js";
import { EksApiError, epochSeconds } from "./http.js";
import type { MotoRole } from "./moto-client.js";

/** Per-cluster association limit of EKS. */
export const ASSOCIATIONS_PER_CLUSTER = 5000;

/** An association as the local account stores it. */
export interface StoredAssociation {
  clusterKey: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  associationArn: string;
  associationId: string;
  tags: Record<string, string>;
  createdAt: Date;
  modifiedAt: Date;
  ownerArn?: string;
  disableSessionTags: boolean;
  targetRoleArn?: string;
  externalId?: string;
  policy?: string;
  seq: number;
}

/** The cluster an EKS call addresses, already checked to exist. */
export interface ClusterRef {
  key: string;
  name: string;
  arn: string;
  accountId: string;
  region: string;
}

/** Services the store needs from the front: moto's address and IAM eventual consistency. */
export interface StoreEnv {
  invisibleRoles: (accountId: string, roleName: string) => boolean;
  getRole: (accountId: string, roleName: string) => Promise<MotoRole | undefined>;
  /** refuse an Update that changes nothing (opt-in through the fault config; see `update`) */
  rejectNoOpUpdates?: () => boolean;
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function newAssociationId(): string {
  let id = "a-";
  for (let i = 0; i < 17; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

function validateTags(tags: unknown): Record<string, string> {
  if (tags === undefined || tags === null) return {};
  if (typeof tags !== "object" || Array.isArray(tags))
    throw new EksApiError("InvalidParameterException", "tags must be a map");
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > 50)
    throw new EksApiError("InvalidParameterException", "A resource can have at most 50 tags");
  for (const [k, v] of entries) {
    if (
      k.length < 1 ||
      k.length > 128 ||
      typeof v !== "string" ||
      v.length > 256 ||
      k.toLowerCase().startsWith("aws:")
    ) {
      throw new EksApiError("InvalidParameterException", `Invalid tag ${k}`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string")
    throw new EksApiError("InvalidParameterException", `${field} must be a string`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean")
    throw new EksApiError("InvalidParameterException", `${field} must be a boolean`);
  return value;
}

function validatePolicy(policy: string | undefined, disableSessionTags: boolean): void {
  if (policy === undefined || policy === "") return;
  if (!disableSessionTags) {
    throw new EksApiError(
      "InvalidParameterException",
      "A session policy can only be used when session tags are disabled (disableSessionTags=true)",
    );
  }
  if (policy.length > 2048)
    throw new EksApiError("InvalidParameterException", "policy exceeds 2048 characters");
  try {
    JSON.parse(policy);
  } catch {
    throw new EksApiError("InvalidParameterException", "policy is not a valid JSON policy document");
  }
}

/** The association in the API's JSON shape (PodIdentityAssociation). */
export function associationJson(a: StoredAssociation): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationArn: a.associationArn,
    associationId: a.associationId,
    tags: a.tags,
    createdAt: epochSeconds(a.createdAt),
    modifiedAt: epochSeconds(a.modifiedAt),
    ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
    disableSessionTags: a.disableSessionTags,
    ...(a.targetRoleArn ? { targetRoleArn: a.targetRoleArn, externalId: a.externalId } : {}),
    ...(a.policy ? { policy: a.policy } : {}),
  };
}

function summaryJson(a: StoredAssociation): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    associationArn: a.associationArn,
    associationId: a.associationId,
    ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
  };
}

/** Pod Identity associations of every cluster of the local account. */
export class PodIdentityStore {
  private byCluster = new Map<string, Map<string, StoredAssociation>>();
  private tokens = new Map<string, { fingerprint: string; associationId: string }>();
  private seq = 0;

  constructor(private readonly env: StoreEnv) {}

  reset(): void {
    this.byCluster.clear();
    this.tokens.clear();
  }

  /** Drops every association of a deleted cluster. */
  dropCluster(key: string): void {
    this.byCluster.delete(key);
  }

  list(cluster: ClusterRef): StoredAssociation[] {
    return [...(this.byCluster.get(cluster.key)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  private clusterMap(cluster: ClusterRef): Map<string, StoredAssociation> {
    let map = this.byCluster.get(cluster.key);
    if (!map) {
      map = new Map();
      this.byCluster.set(cluster.key, map);
    }
    return map;
  }

  /** The association, or undefined when it does not exist. */
  find(cluster: ClusterRef, associationId: string): StoredAssociation | undefined {
    return this.byCluster.get(cluster.key)?.get(associationId);
  }

  get(cluster: ClusterRef, associationId: string): StoredAssociation {
    const found = this.byCluster.get(cluster.key)?.get(associationId);
    if (!found) {
      throw new EksApiError(
        "ResourceNotFoundException",
        `No Pod Identity Association found with id ${associationId}`,
        {
          clusterName: cluster.name,
        },
      );
    }
    return found;
  }

  /** CreatePodIdentityAssociation, also used by add-ons (with ownerArn). */
  async create(
    cluster: ClusterRef,
    body: Record<string, unknown>,
    ownerArn?: string,
  ): Promise<StoredAssociation> {
    const { namespace, serviceAccount } = body;
    if (!validNamespace(namespace)) {
      throw new EksApiError("InvalidParameterException", `Invalid namespace: ${String(namespace)}`);
    }
    if (!validServiceAccount(serviceAccount)) {
      throw new EksApiError(
        "InvalidParameterException",
        `Invalid service account: ${String(serviceAccount)}`,
      );
    }
    const disableSessionTags = optionalBoolean(body, "disableSessionTags") ?? false;
    const targetRoleArn = optionalString(body, "targetRoleArn") || undefined;
    const policy = optionalString(body, "policy") || undefined;
    const token = optionalString(body, "clientRequestToken");
    const tags = validateTags(body.tags);
    if (targetRoleArn !== undefined && !parseRoleArn(targetRoleArn)) {
      throw new EksApiError("InvalidParameterException", `Invalid target role ARN: ${targetRoleArn}`);
    }
    validatePolicy(policy, disableSessionTags);

    const fingerprint = createHash("sha256")
      .update(
        JSON.stringify([
          cluster.key,
          namespace,
          serviceAccount,
          body.roleArn,
          disableSessionTags,
          targetRoleArn,
          policy,
          tags,
        ]),
      )
      .digest("hex");
    if (token) {
      const previous = this.tokens.get(`${cluster.key}|${token}`);
      if (previous) {
        const existing = this.byCluster.get(cluster.key)?.get(previous.associationId);
        if (previous.fingerprint !== fingerprint) {
          throw new EksApiError(
            "InvalidRequestException",
            "The client request token was already used with different parameters",
          );
        }
        if (existing) return existing;
      }
    }

    const roleArn = await checkRoleForAssociation({
      getRole: this.env.getRole,
      clusterAccountId: cluster.accountId,
      roleArn: body.roleArn,
      disableSessionTags,
      invisibleRoles: this.env.invisibleRoles,
    });

    const map = this.clusterMap(cluster);
    for (const existing of map.values()) {
      if (existing.namespace === namespace && existing.serviceAccount === serviceAccount) {
        throw new EksApiError(
          "ResourceInUseException",
          `Association already exists: ${existing.associationId}`,
          { clusterName: cluster.name },
        );
      }
    }
    if (map.size >= ASSOCIATIONS_PER_CLUSTER) {
      throw new EksApiError(
        "ResourceLimitExceededException",
        `Cluster ${cluster.name} already has ${ASSOCIATIONS_PER_CLUSTER} Pod Identity associations`,
        { clusterName: cluster.name },
      );
    }
    const now = new Date();
    const associationId = newAssociationId();
    const stored: StoredAssociation = {
      clusterKey: cluster.key,
      clusterName: cluster.name,
      namespace,
      serviceAccount,
      roleArn: typeof body.roleArn === "string" ? body.roleArn : roleArn,
      associationArn: `arn:aws:eks:${cluster.region}:${cluster.accountId}:podidentityassociation/${cluster.name}/${associationId}`,
      associationId,
      tags,
      createdAt: now,
      modifiedAt: now,
      disableSessionTags,
      seq: ++this.seq,
      ...(ownerArn ? { ownerArn } : {}),
      ...(targetRoleArn
        ? { targetRoleArn, externalId: externalIdFor(cluster, namespace, serviceAccount) }
        : {}),
      ...(policy ? { policy } : {}),
    };
    map.set(associationId, stored);
    if (token) this.tokens.set(`${cluster.key}|${token}`, { fingerprint, associationId });
    return stored;
  }

  /**
   * UpdatePodIdentityAssociation. Add-on-owned associations may be updated directly too: "You also
   * can directly update or delete the pod identity association if necessary" (EKS User Guide,
   * add-ons-iam, Considerations); the association keeps its ownerArn.
   */
  async update(
    cluster: ClusterRef,
    associationId: string,
    body: Record<string, unknown>,
  ): Promise<StoredAssociation> {
    const current = this.get(cluster, associationId);
    const disableSessionTags = optionalBoolean(body, "disableSessionTags") ?? current.disableSessionTags;
    const targetInput = optionalString(body, "targetRoleArn");
    const policyInput = optionalString(body, "policy");
    const targetRoleArn = targetInput === undefined ? current.targetRoleArn : targetInput || undefined;
    const policy = policyInput === undefined ? current.policy : policyInput || undefined;
    if (targetRoleArn !== undefined && !parseRoleArn(targetRoleArn)) {
      throw new EksApiError("InvalidParameterException", `Invalid target role ARN: ${targetRoleArn}`);
    }
    validatePolicy(policy, disableSessionTags);
    const roleArnInput = body.roleArn ?? current.roleArn;
    const unchanged =
      roleArnInput === current.roleArn &&
      disableSessionTags === current.disableSessionTags &&
      targetRoleArn === current.targetRoleArn &&
      policy === current.policy;
    if (unchanged && this.env.rejectNoOpUpdates?.()) {
      // model: "You must change at least one of these in an update." The error EKS answers is not
      // documented; InvalidParameterException (one of the operation's modelled errors) and this text
      // are the local account's own.
      throw new EksApiError(
        "InvalidParameterException",
        "You must change at least one of roleArn, targetRoleArn, disableSessionTags or policy in an update",
        { clusterName: cluster.name },
      );
    }
    await checkRoleForAssociation({
      getRole: this.env.getRole,
      clusterAccountId: cluster.accountId,
      roleArn: roleArnInput,
      disableSessionTags,
      invisibleRoles: this.env.invisibleRoles,
    });
    const next: StoredAssociation = {
      ...current,
      roleArn: String(roleArnInput),
      disableSessionTags,
      modifiedAt: new Date(),
    };
    delete next.targetRoleArn;
    delete next.externalId;
    delete next.policy;
    if (targetRoleArn) {
      next.targetRoleArn = targetRoleArn;
      next.externalId = externalIdFor(cluster, current.namespace, current.serviceAccount);
    }
    if (policy) next.policy = policy;
    this.clusterMap(cluster).set(associationId, next);
    return next;
  }

  /** DeletePodIdentityAssociation; add-on-owned associations may be deleted directly (see update). */
  delete(cluster: ClusterRef, associationId: string): StoredAssociation {
    const current = this.get(cluster, associationId);
    this.byCluster.get(cluster.key)?.delete(associationId);
    return current;
  }

  /** ListPodIdentityAssociations with filters and an opaque nextToken. */
  page(cluster: ClusterRef, query: URLSearchParams): { associations: unknown[]; nextToken?: string } {
    const namespace = query.get("namespace") ?? undefined;
    const serviceAccount = query.get("serviceAccount") ?? undefined;
    const maxRaw = query.get("maxResults");
    const max = maxRaw === null ? 100 : Number(maxRaw);
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      throw new EksApiError("InvalidParameterException", "maxResults must be between 1 and 100");
    }
    const filterKey = `${namespace ?? ""}|${serviceAccount ?? ""}`;
    let afterSeq = 0;
    const token = query.get("nextToken");
    if (token) {
      const decoded = decodeToken(token);
      if (!decoded || decoded.filter !== filterKey || decoded.cluster !== cluster.key) {
        throw new EksApiError("InvalidParameterException", "The nextToken is not valid for this request");
      }
      afterSeq = decoded.after;
    }
    const matching = this.list(cluster).filter(
      (a) =>
        a.seq > afterSeq &&
        (namespace === undefined || a.namespace === namespace) &&
        (serviceAccount === undefined || a.serviceAccount === serviceAccount),
    );
    const pageItems = matching.slice(0, max);
    const last = pageItems.at(-1);
    return {
      associations: pageItems.map(summaryJson),
      ...(matching.length > max && last
        ? { nextToken: encodeToken({ cluster: cluster.key, filter: filterKey, after: last.seq }) }
        : {}),
    };
  }
}

/**
 * `externalId` as EKS forms it for a target role: `region/account/cluster/namespace/serviceaccount`
 * (EKS User Guide pod-id-assign-target-role: "sts:ExternalId: region/111122223333/cluster-name/
 * namespace/service-account-name"; real CLI output in an AWS blog:
 * "us-west-2/111122223333/eks-pod-identity-xacct-demo/default/demo-app-sa").
 */
export function externalIdFor(cluster: ClusterRef, namespace: string, serviceAccount: string): string {
  return `${cluster.region}/${cluster.accountId}/${cluster.name}/${namespace}/${serviceAccount}`;
}

interface PageToken {
  cluster: string;
  filter: string;
  after: number;
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(raw: string): PageToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Partial<PageToken>;
    if (
      typeof parsed.cluster === "string" &&
      typeof parsed.filter === "string" &&
      typeof parsed.after === "number"
    ) {
      return parsed as PageToken;
    }
  } catch {
    // fall through
  }
  return undefined;
}
