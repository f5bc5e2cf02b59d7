/**
 * The credential path of the local account: how a pod gets credentials (STS
 * AssumeRoleWithWebIdentity for IRSA, EKS Auth AssumeRoleForPodIdentity for Pod Identity), the
 * CloudTrail event history that records both (LookupEvents), and the clock they share. The front
 * hands it every AWS request first and its `/_local/clock` and `/_local/cloudtrail…` control paths.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { clockChangeSchema, LocalClock } from "./clock.js";
import { CloudTrailLog } from "./cloudtrail.js";
import { assumeRoleForPodIdentity, type ClusterLookup } from "./eks-auth.js";
import type { LocalResponse } from "./http.js";
import type { RoleView } from "./iam-reader.js";
import type { RequestIdentity } from "./operations.js";
import type { PodIdentityStore } from "./pod-identity.js";
import type { LocalSession } from "./sessions.js";
import { SessionRegistry } from "./sessions.js";
import {
  assumeRoleWithWebIdentity,
  type CredentialDeps,
  type RequestFacts,
  stsError,
  xml,
} from "./sts-web-identity.js";

// the SDK sends `CloudTrail_20131101.LookupEvents`, the CLI the namespaced form
const LOOKUP_EVENTS_TARGET = /(^|\.)CloudTrail_20131101\.LookupEvents$/;
const EKS_AUTH_PATH = /^\/clusters\/([^/]+)\/assume-role-for-pod-identity$/;

/** STS, EKS Auth and CloudTrail of the local account, with their clock. */
export class CredentialPath {
  readonly clock = new LocalClock();
  readonly trail = new CloudTrailLog(this.clock);
  readonly sessions = new SessionRegistry();
  private readonly deps: CredentialDeps;

  constructor(
    motoUrl: string,
    private readonly associations: PodIdentityStore,
    private readonly clusters: ClusterLookup,
    roleView?: RoleView,
  ) {
    this.deps = {
      motoUrl,
      clock: this.clock,
      trail: this.trail,
      sessions: this.sessions,
      ...(roleView ? { roleView } : {}),
    };
  }

  reset(): void {
    this.clock.reset();
    this.trail.reset();
    this.sessions.reset();
  }

  /** Answers the request when it is one of the credential path's operations; undefined otherwise. */
  async serve(
    method: string,
    url: URL,
    body: Buffer,
    id: RequestIdentity,
    headers: IncomingHttpHeaders,
  ): Promise<LocalResponse | undefined> {
    const facts: RequestFacts = {
      region: id.region,
      userAgent: String(headers["user-agent"] ?? "local"),
      sourceIp: "127.0.0.1",
    };
    if (method === "POST" && id.operation === "AssumeRoleWithWebIdentity" && id.protocol === "query") {
      const text = body.toString("utf8");
      const params = new URLSearchParams(text);
      for (const [k, v] of url.searchParams) if (!params.has(k)) params.set(k, v);
      return await assumeRoleWithWebIdentity(this.deps, params, facts);
    }
    if (id.protocol === "query" && id.operation === "GetCallerIdentity") {
      const session = this.sessions.find(accessKeyOf(headers));
      if (session) return callerIdentity(session, headers, this.clock.nowMs());
    }
    if (method === "POST" && LOOKUP_EVENTS_TARGET.test(String(headers["x-amz-target"] ?? ""))) {
      return this.trail.lookup(id.accountId, id.region, body.toString("utf8"));
    }
    const eksAuth = EKS_AUTH_PATH.exec(url.pathname);
    if (eksAuth && method === "POST" && id.service === "eks-auth") {
      return await assumeRoleForPodIdentity(
        { ...this.deps, associations: this.associations, clusters: this.clusters },
        decodeURIComponent(eksAuth[1]!),
        body.toString("utf8"),
        id,
        facts,
        accessKeyOf(headers),
      );
    }
    return undefined;
  }

  /** The `/_local/clock` and `/_local/cloudtrail…` control paths; undefined for any other path. */
  control(method: string, path: string, body: unknown): LocalResponse | undefined {
    if (path === "/_local/clock" && method === "GET") return json(200, this.clock.state());
    if (path === "/_local/clock" && method === "PUT") {
      const parsed = clockChangeSchema.safeParse(body);
      if (!parsed.success) return json(400, { message: z.prettifyError(parsed.error) });
      this.clock.apply(parsed.data);
      return json(200, this.clock.state());
    }
    return this.trail.control(method, path, body);
  }
}

/**
 * STS GetCallerIdentity signed with credentials the local account issued: the assumed role session
 * (botocore sts model: Arn, UserId, Account), or the errors STS answers for a session token that is
 * expired ("ExpiredToken", 403) or does not belong to the key ("InvalidClientTokenId", 403).
 * Calls signed with other keys go to moto as before.
 */
function callerIdentity(session: LocalSession, headers: IncomingHttpHeaders, nowMs: number): LocalResponse {
  if (headers["x-amz-security-token"] !== session.sessionToken) {
    return stsError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  }
  if (nowMs >= session.expiration.getTime()) {
    return stsError(403, "ExpiredToken", "The security token included in the request is expired");
  }
  return {
    status: 200,
    headers: { "content-type": "text/xml" },
    body:
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
      `<Arn>${xml(session.assumedRoleArn)}</Arn><UserId>${xml(session.assumedRoleId)}</UserId>` +
      `<Account>${session.accountId}</Account></GetCallerIdentityResult>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  };
}

function accessKeyOf(headers: IncomingHttpHeaders): string {
  const auth = String(headers.authorization ?? "");
  return /Credential=([^/]+)\//.exec(auth)?.[1] ?? "";
}

function json(status: number, body: unknown): LocalResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
