import { createHash } from "node:crypto";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import pLimit from "p-limit";
import { describeAddonConfiguration, describeAddonVersions } from "./addon-catalog.js";
import { AddonStore } from "./addons.js";
import { CredentialPath } from "./credential-path.js";
import { eksAuthError } from "./eks-auth.js";
import { applyTagOperation, parseLocalResourceArn } from "./eks-tags.js";
import { FaultInjector, faultConfigSchema } from "./faults.js";
import { awsJsonError, EksApiError, eksError, jsonResponse, type LocalResponse, queryError } from "./http.js";
import { IamRoles } from "./iam-roles.js";
import { describeCluster } from "./moto-client.js";
import { identify, type RequestIdentity } from "./operations.js";
import { associationJson, type ClusterRef, PodIdentityStore } from "./pod-identity.js";

/** A write to an association made through the API (tests check who touched what). */
export interface JournalEntry {
  op: "update" | "delete";
  accountId: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  associationId: string;
  tags: Record<string, string>;
  ownerArn?: string;
}

/**
 * Status, platform version and Auto Mode overrides for a cluster (moto always reports ACTIVE /
 * eks.4 and no `computeConfig`; shape `ComputeConfigResponse` of botocore's EKS model).
 */
export interface ClusterOverlay {
  status?: string;
  platformVersion?: string;
  computeConfig?: { enabled: boolean };
}

/**
 * The HTTP front of the local account: serves the EKS Pod Identity and add-on paths moto lacks,
 * proxies everything else to moto, and applies faults to every AWS call.
 */
export class LocalFront {
  readonly faults = new FaultInjector();
  readonly associations: PodIdentityStore;
  readonly addons: AddonStore;
  /** IAM semantics moto lacks: case-insensitive role names, eventual consistency */
  readonly iam: IamRoles;
  private readonly overlays = new Map<string, ClusterOverlay>();
  // moto is the source of truth; this cache only saves round trips and is dropped on every
  // write the front proxies (all writes pass through it), so it is never stale.
  private readonly clusterCache = new Map<string, ClusterRef>();
  private server?: Server;
  /** one DynamoDB write at a time (see handle) */
  private readonly dynamoWrites = { run: pLimit(1) as <T>(fn: () => Promise<T>) => Promise<T> };
  /** every update and delete of an association made through the API, with what it was before */
  readonly journal: JournalEntry[] = [];
  /** STS web identity, EKS Auth, CloudTrail LookupEvents and their clock */
  readonly credentials: CredentialPath;
  /** runs after every reset (the work queue and tables are re-created: local/work-resources.ts) */
  afterReset?: () => Promise<void>;

  constructor(private readonly motoUrl: string) {
    const now = () => this.now();
    this.iam = new IamRoles(motoUrl, now, {
      roleVisibilityDelayMs: () => this.faults.settings.iamConsistencyDelayMs ?? 0,
      trustDelayMs: () => this.faults.settings.trustPolicyConsistencyDelayMs ?? 0,
    });
    this.associations = new PodIdentityStore({
      invisibleRoles: (accountId, roleName) => this.iam.invisible(accountId, roleName),
      getRole: (accountId, roleName) => this.iam.roleForEks(accountId, roleName),
      rejectNoOpUpdates: () => this.faults.settings.rejectNoOpUpdates ?? false,
    });
    this.addons = new AddonStore(this.associations, {
      now,
      transitionMs: () => this.faults.settings.addonTransitionMs ?? 0,
    });
    this.credentials = new CredentialPath(
      motoUrl,
      this.associations,
      async (accountId, region, name) => {
        const found = (await describeCluster(motoUrl, accountId, name)) as
          | Record<string, unknown>
          | undefined;
        if (!found || typeof found.arn !== "string") return undefined;
        uniqueIssuer(found);
        const issuer = (found.identity as { oidc?: { issuer?: string } } | undefined)?.oidc?.issuer ?? "";
        return {
          ref: { key: `${accountId}/${region}/${name}`, name, arn: found.arn, accountId, region },
          issuer,
        };
      },
      async (accountId, roleName) =>
        this.iam.invisible(accountId, this.iam.resolve(accountId, roleName))
          ? undefined
          : await this.iam.roleForEks(accountId, roleName),
    );
  }

  /**
   * The front's clock (ms): wall time plus what tests advanced it by (`POST /_local/clock`). Add-on
   * transitions and IAM consistency windows run on it, so tests tick instead of sleeping.
   */
  now(): number {
    return this.credentials.clock.nowMs();
  }

  /** Moves the front's clock forward. */
  advanceClock(ms: number): void {
    this.credentials.clock.apply({ advanceSeconds: ms / 1000 });
  }

  /** Starts listening on 127.0.0.1:port (0 picks a free port) and returns the port. */
  async listen(port = 0): Promise<number> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        send(res, eksError("ServerException", `local account error: ${String(error)}`));
      });
    });
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(port, "127.0.0.1", () => resolve());
    });
    const address = this.server.address();
    return typeof address === "object" && address ? address.port : port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resets moto, the local stores, faults, counters and overlays. */
  async reset(): Promise<void> {
    const res = await fetch(`${this.motoUrl}/moto-api/reset`, { method: "POST" });
    await res.arrayBuffer();
    this.associations.reset();
    this.addons.reset();
    this.faults.reset();
    this.iam.reset();
    this.overlays.clear();
    this.clusterCache.clear();
    this.journal.length = 0;
    this.credentials.reset();
    await this.afterReset?.();
    // the work resources re-created above are the account's furniture, not calls of the test
    this.faults.resetCounters();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname.startsWith("/_local/")) {
      send(res, await this.control(req.method ?? "GET", url, body));
      return;
    }
    const id = identify(req.method ?? "GET", url, req.headers, body.toString("utf8"));
    const latency = this.faults.latencyFor(id.family);
    if (latency > 0) await sleep(latency);
    const decision = this.faults.decide(id.operation, id.family);
    if (decision.kind !== "pass") {
      send(res, faultResponse(id, decision.kind));
      return;
    }
    const credential = await this.credentials.serve(req.method ?? "GET", url, body, id, req.headers);
    if (credential) {
      send(res, credential);
      return;
    }
    if (id.service === "eks") {
      const local = await this.eks(req.method ?? "GET", url, body, id);
      if (local) {
        send(res, local);
        return;
      }
    }
    if (id.family === "iam-write") this.iam.clearCache();
    if (id.service === "eks" && id.family === "eks-write") this.clusterCache.clear();
    const iam = id.service === "iam" ? await this.iam.before(id, body) : undefined;
    if (iam?.response) {
      send(res, iam.response);
      return;
    }
    const forward = () => proxy(this.motoUrl, req, iam?.body ?? body, id.accountId);
    // DynamoDB applies a conditional write atomically per item; moto's threaded server checks
    // and writes without a lock (two concurrent `SET n = n + :d` could both read the old n), so
    // the front lets one DynamoDB write through at a time
    const proxied =
      id.service === "dynamodb" && DYNAMODB_WRITES.has(id.operation)
        ? await this.dynamoWrites.run(forward)
        : await forward();
    const out = this.afterProxy(url, id, proxied);
    send(res, iam ? this.iam.after(id, iam, out) : out);
  }

  private afterProxy(url: URL, id: RequestIdentity, res: LocalResponse): LocalResponse {
    if (res.status >= 300) return eksErrorAsModelled(id, res);
    if (id.service === "eks" && id.operation === "DeleteCluster") {
      const name = decodeURIComponent(url.pathname.split("/")[2] ?? "");
      const key = clusterKey(id, name);
      this.associations.dropCluster(key);
      this.addons.dropCluster(key);
      this.overlays.delete(key);
    }
    if (id.service === "eks" && (id.operation === "DescribeCluster" || id.operation === "CreateCluster")) {
      const parsed = JSON.parse(res.body) as { cluster?: Record<string, unknown> };
      if (!parsed.cluster) return res;
      uniqueIssuer(parsed.cluster);
      const name = String(parsed.cluster.name ?? "");
      Object.assign(parsed.cluster, this.overlays.get(clusterKey(id, name)) ?? {});
      return { ...res, body: JSON.stringify(parsed) };
    }
    return res;
  }

  private async cluster(id: RequestIdentity, name: string): Promise<ClusterRef> {
    const key = clusterKey(id, name);
    const cached = this.clusterCache.get(key);
    if (cached) return cached;
    const found = await describeCluster(this.motoUrl, id.accountId, name);
    if (!found) {
      throw new EksApiError("ResourceNotFoundException", `No cluster found for name: ${name}.`, {
        clusterName: name,
      });
    }
    const ref = { key, name, arn: found.arn, accountId: id.accountId, region: id.region };
    this.clusterCache.set(key, ref);
    return ref;
  }

  /** The EKS paths moto does not serve; undefined means "proxy it". */
  private async eks(
    method: string,
    url: URL,
    raw: Buffer,
    id: RequestIdentity,
  ): Promise<LocalResponse | undefined> {
    const parts = url.pathname.split("/").map((p) => decodeURIComponent(p));
    const tagged = parts[1] === "tags" ? parseLocalResourceArn(parts.slice(2).join("/")) : undefined;
    const catalog = parts[1] === "addons" && parts.length === 3;
    const addonUpdate = parts[3] === "updates" && parts.length === 5 && url.searchParams.has("addonName");
    if (
      !tagged &&
      !catalog &&
      !addonUpdate &&
      (parts[1] !== "clusters" || (parts[3] !== "pod-identity-associations" && parts[3] !== "addons"))
    ) {
      return undefined;
    }
    try {
      let body: Record<string, unknown> = {};
      if (raw.length > 0) {
        try {
          const parsed: unknown = JSON.parse(raw.toString("utf8"));
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
            body = parsed as Record<string, unknown>;
          else throw new Error("not an object");
        } catch {
          throw new EksApiError("InvalidRequestException", "The request body is not valid JSON");
        }
      }
      if (catalog && method === "GET" && parts[2] === "supported-versions")
        return jsonResponse(200, describeAddonVersions(url.searchParams));
      if (catalog && method === "GET" && parts[2] === "configuration-schemas")
        return jsonResponse(200, describeAddonConfiguration(url.searchParams));
      if (catalog) return eksError("InvalidRequestException", `Unsupported ${method} ${url.pathname}`);
      if (tagged) return jsonResponse(200, await this.tags(method, parts.slice(2).join("/"), body, url, id));
      const cluster = await this.cluster(id, parts[2] ?? "");
      if (addonUpdate && method === "GET") {
        const addonName = url.searchParams.get("addonName") ?? "";
        return jsonResponse(200, { update: this.addons.describeUpdate(cluster, addonName, parts[4] ?? "") });
      }
      const sub = parts[4];
      if (parts[3] === "pod-identity-associations") {
        const a = this.associations;
        if (sub === undefined && method === "GET")
          return jsonResponse(200, a.page(cluster, url.searchParams));
        if (sub === undefined && method === "POST") {
          return jsonResponse(200, { association: associationJson(await a.create(cluster, body)) });
        }
        if (sub !== undefined && parts.length === 5) {
          if (method === "GET")
            return jsonResponse(200, { association: associationJson(a.get(cluster, sub)) });
          if (method === "POST" || method === "DELETE") {
            this.record(method === "POST" ? "update" : "delete", cluster, sub, id);
          }
          if (method === "POST")
            return jsonResponse(200, { association: associationJson(await a.update(cluster, sub, body)) });
          if (method === "DELETE")
            return jsonResponse(200, { association: associationJson(a.delete(cluster, sub)) });
        }
      } else {
        const s = this.addons;
        if (sub === undefined && method === "GET")
          return jsonResponse(200, s.list(cluster, url.searchParams));
        if (sub === undefined && method === "POST")
          return jsonResponse(200, { addon: await s.create(cluster, body) });
        if (sub !== undefined && parts.length === 5 && method === "GET")
          return jsonResponse(200, { addon: s.describe(cluster, sub) });
        if (sub !== undefined && parts.length === 5 && method === "DELETE")
          return jsonResponse(200, {
            addon: s.delete(cluster, sub, url.searchParams.get("preserve") === "true"),
          });
        if (sub !== undefined && parts[5] === "update" && method === "POST") {
          return jsonResponse(200, { update: await s.update(cluster, sub, body) });
        }
      }
      return eksError("InvalidRequestException", `Unsupported ${method} ${url.pathname}`);
    } catch (error) {
      if (error instanceof EksApiError) return eksError(error.code, error.message, error.fields);
      throw error;
    }
  }

  /** Tags of an association or add-on ARN; NotFoundException when it does not exist (model). */
  private async tags(
    method: string,
    arn: string,
    body: Record<string, unknown>,
    url: URL,
    id: RequestIdentity,
  ): Promise<Record<string, unknown>> {
    const parsed = parseLocalResourceArn(arn);
    const notFound = new EksApiError("NotFoundException", `Resource was not found: ${arn}`);
    if (!parsed || parsed.accountId !== id.accountId || parsed.region !== id.region) throw notFound;
    const cluster = await this.cluster(id, parsed.clusterName).catch(() => {
      throw notFound;
    });
    const resource =
      parsed.kind === "addon"
        ? this.addons.byArn(cluster, arn)
        : this.associations.find(cluster, arn.split("/").at(-1) ?? "");
    if (!resource || ("associationArn" in resource && resource.associationArn !== arn)) throw notFound;
    return applyTagOperation(method, resource, body, url.searchParams);
  }

  private record(
    op: "update" | "delete",
    cluster: ClusterRef,
    associationId: string,
    id: RequestIdentity,
  ): void {
    try {
      const before = this.associations.get(cluster, associationId);
      this.journal.push({
        op,
        accountId: id.accountId,
        clusterName: cluster.name,
        namespace: before.namespace,
        serviceAccount: before.serviceAccount,
        associationId,
        tags: { ...before.tags },
        ...(before.ownerArn ? { ownerArn: before.ownerArn } : {}),
      });
    } catch {
      // unknown association: the call answers 404 and changes nothing
    }
  }

  private async control(method: string, url: URL, body: Buffer): Promise<LocalResponse> {
    const path = url.pathname;
    if (path === "/_local/health") return jsonResponse(200, { ok: true, motoUrl: this.motoUrl });
    const credentialControl = this.credentials.control(method, path, safeJson(body));
    if (credentialControl) return credentialControl;
    if (path === "/_local/reset" && method === "POST") {
      await this.reset();
      return jsonResponse(200, { ok: true });
    }
    if (path === "/_local/faults" && method === "GET") return jsonResponse(200, this.faults.settings);
    if (path === "/_local/faults" && method === "PUT") {
      const parsed = faultConfigSchema.safeParse(safeJson(body));
      if (!parsed.success) return jsonResponse(400, { message: parsed.error.message });
      this.faults.configure(parsed.data);
      return jsonResponse(200, parsed.data);
    }
    if (path === "/_local/calls" && method === "GET") {
      return jsonResponse(200, {
        calls: Object.fromEntries(this.faults.calls),
        families: Object.fromEntries(this.faults.callsByFamily),
        throttled: Object.fromEntries(this.faults.throttled),
        throttledFamilies: Object.fromEntries(this.faults.throttledByFamily),
      });
    }
    if (path === "/_local/clock" && method === "POST") {
      const input = safeJson(body) as { advanceMs?: unknown } | undefined;
      const ms = input?.advanceMs;
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        return jsonResponse(400, { message: "advanceMs must be a number >= 0" });
      }
      this.advanceClock(ms);
      return jsonResponse(200, { now: this.now() });
    }
    if (path === "/_local/calls" && method === "DELETE") {
      this.faults.resetCounters();
      return jsonResponse(200, { ok: true });
    }
    const clusterMatch = /^\/_local\/clusters\/([^/]+)$/.exec(path);
    if (clusterMatch && method === "PUT") {
      const input = safeJson(body) as ClusterOverlay & { accountId?: string; region?: string };
      const key = `${input.accountId ?? "123456789012"}/${input.region ?? "us-east-1"}/${decodeURIComponent(clusterMatch[1]!)}`;
      const overlay: ClusterOverlay = {};
      if (typeof input.status === "string") overlay.status = input.status;
      if (typeof input.platformVersion === "string") overlay.platformVersion = input.platformVersion;
      if (typeof input.computeConfig?.enabled === "boolean")
        overlay.computeConfig = { enabled: input.computeConfig.enabled };
      this.overlays.set(key, overlay);
      return jsonResponse(200, overlay);
    }
    return jsonResponse(404, { message: `unknown control path ${method} ${path}` });
  }
}

/**
 * moto gives every cluster the same OIDC issuer (one random id per process); EKS gives each
 * cluster its own. The issuer id is derived from the cluster ARN: stable, unique, EKS-shaped.
 */
function uniqueIssuer(cluster: Record<string, unknown>): void {
  const identity = cluster.identity as { oidc?: { issuer?: string } } | undefined;
  const issuer = identity?.oidc?.issuer;
  if (!issuer || typeof cluster.arn !== "string") return;
  const id = createHash("sha256").update(cluster.arn).digest("hex").slice(0, 32).toUpperCase();
  identity.oidc!.issuer = issuer.replace(/\/id\/[^/]+$/, `/id/${id}`);
}

/**
 * moto's EKS errors differ from the model in two ways: they carry every error member, unset ones as
 * JSON null (EKS omits them), and tag calls on unknown resources answer ResourceNotFoundException
 * while the model lists only BadRequestException (400) and NotFoundException (404) for them.
 */
function eksErrorAsModelled(id: RequestIdentity, res: LocalResponse): LocalResponse {
  if (id.service !== "eks" || res.status < 400 || res.status >= 500) return res;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return res;
  }
  const members = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== null));
  if (/^(TagResource|UntagResource|ListTagsForResource)$/.test(id.operation)) {
    const message = String(members.message ?? members.Message ?? "Resource was not found");
    return eksError(res.status === 404 ? "NotFoundException" : "BadRequestException", message);
  }
  return { ...res, body: JSON.stringify(members) };
}

function clusterKey(id: RequestIdentity, name: string): string {
  return `${id.accountId}/${id.region}/${name}`;
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8") || "{}");
  } catch {
    return undefined;
  }
}

function faultResponse(id: RequestIdentity, kind: "throttle" | "server-error"): LocalResponse {
  if (id.service === "eks-auth") {
    return kind === "throttle"
      ? eksAuthError("ThrottlingException", "Rate exceeded")
      : eksAuthError("InternalServerException", "We encountered an internal error. Please try again.");
  }
  if (id.protocol === "rest-json") {
    return kind === "throttle"
      ? eksError("TooManyRequestsException", "Rate exceeded")
      : eksError("ServerException", "We encountered an internal error. Please try again.");
  }
  if (id.protocol === "json") {
    return kind === "throttle"
      ? awsJsonError(400, "ThrottlingException", "Rate exceeded")
      : awsJsonError(500, "InternalException", "Internal error");
  }
  if (kind === "throttle") return queryError(400, "Throttling", "Rate exceeded");
  return id.service === "iam"
    ? queryError(
        500,
        "ServiceFailure",
        "The request processing has failed because of an unknown error.",
        "Receiver",
      )
    : queryError(500, "InternalFailure", "Internal failure", "Receiver");
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, out: LocalResponse): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) {
    if (k === "content-length" || k === "transfer-encoding" || k === "connection") continue;
    headers[k] = v;
  }
  headers["content-length"] = String(Buffer.byteLength(out.body));
  res.writeHead(out.status, headers);
  res.end(out.body);
}

async function proxy(
  motoUrl: string,
  req: IncomingMessage,
  body: Buffer,
  accountId: string,
): Promise<LocalResponse> {
  const target = new URL(req.url ?? "/", motoUrl);
  return await new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    delete headers.connection;
    // moto picks the account from this header; EKS/IAM pick it from the credentials
    headers["x-moto-account-id"] = accountId;
    headers["content-length"] = String(body.length);
    const out = httpRequest(target, { method: req.method, headers, agent: proxyAgent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h[k] = v;
        resolve({ status: res.statusCode ?? 500, headers: h, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    out.on("error", reject);
    out.end(body);
  });
}

/** DynamoDB operations that write items (conditionally or not): serialized in front of moto. */
const DYNAMODB_WRITES = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "TransactWriteItems",
  "ExecuteStatement",
  "BatchExecuteStatement",
  "ExecuteTransaction",
]);

const proxyAgent = new Agent({ keepAlive: true, maxSockets: 32 });
