/**
 * "Pods" for tests against the local account: they mint their service account token the way the
 * kubelet projects it and get credentials the way a pod does, on IRSA (STS
 * AssumeRoleWithWebIdentity through the SDK's STS client) or on Pod Identity (EKS Auth
 * AssumeRoleForPodIdentity, as the Pod Identity Agent calls it). Also: the local account's clock
 * and its CloudTrail event history (LookupEvents through the SDK's CloudTrail client).
 */
import { randomUUID } from "node:crypto";
import { CloudTrailClient, type Event, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import {
  CreateOpenIDConnectProviderCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { TrailEntry } from "../../local/cloudtrail.js";
import { mintJwt } from "../../local/jwt.js";
import { ACCOUNT_ID, REGION } from "./local-account.js";

/** A pod: where it runs and as which service account. */
export interface PodRef {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  /** defaults to `<serviceAccount>-pod` */
  podName?: string;
  /** defaults to a stable uid derived from nothing: a fresh UUID per LocalPods instance and pod name */
  podUid?: string;
}

/** The outcome of asking for credentials: what a pod's SDK would get, or the service's error. */
export type CredentialResult =
  | {
      ok: true;
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
      expiration: Date;
      /** arn:aws:sts::…:assumed-role/<role>/<session> */
      assumedRoleArn: string;
    }
  | { ok: false; code: string; message: string; status: number };

/** A change of the local account's clock (`PUT /_local/clock`). */
export interface ClockChange {
  set?: Date | string | number;
  advanceSeconds?: number;
  frozen?: boolean;
}

/** Filters of a CloudTrail lookup (at most one attribute, as LookupEvents allows). */
export interface TrailQuery {
  eventName?: string;
  resourceName?: string;
  startTime?: Date;
  endTime?: Date;
  /** page size (1–50); all pages are read */
  pageSize?: number;
}

/** The IRSA audience EKS's webhook projects into the token. */
export const IRSA_AUDIENCE = "sts.amazonaws.com";
/** The Pod Identity token audience. */
export const POD_IDENTITY_AUDIENCE = "pods.eks.amazonaws.com";

/** Pods, clock and CloudTrail of one local account (one instance per test file is typical). */
export class LocalPods {
  private readonly common;
  private readonly uids = new Map<string, string>();
  private readonly issuers = new Map<string, string>();

  constructor(
    readonly endpoint: string,
    readonly accountId: string = ACCOUNT_ID,
    readonly region: string = REGION,
  ) {
    this.common = {
      endpoint,
      region,
      maxAttempts: 1,
      credentials: { accessKeyId: accountId, secretAccessKey: "testing" },
    };
  }

  private async control(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.endpoint}/_local/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`local account control ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  /** The local account's current time. */
  async now(): Promise<Date> {
    return new Date((await this.control("GET", "clock")).now);
  }

  /** Sets, advances, freezes or unfreezes the clock; returns the new time. */
  async setClock(change: ClockChange): Promise<Date> {
    const set =
      change.set instanceof Date
        ? change.set.toISOString()
        : change.set === undefined
          ? undefined
          : change.set;
    const body = {
      ...(set !== undefined ? { set } : {}),
      ...(change.advanceSeconds !== undefined ? { advanceSeconds: change.advanceSeconds } : {}),
      ...(change.frozen !== undefined ? { frozen: change.frozen } : {}),
    };
    return new Date((await this.control("PUT", "clock", body)).now);
  }

  /** Moves the clock forward by `seconds` (no sleeping); returns the new time. */
  async advanceClock(seconds: number): Promise<Date> {
    return await this.setClock({ advanceSeconds: seconds });
  }

  /** Hides events younger than `seconds` from LookupEvents (CloudTrail's delivery delay). */
  async setDeliveryDelay(seconds: number): Promise<void> {
    await this.control("PUT", "cloudtrail", { deliveryDelaySeconds: seconds });
  }

  /** Appends CloudTrail records as they are (e.g. built with local/cloudtrail-records.ts). */
  async appendEvents(entries: TrailEntry[]): Promise<void> {
    await this.control("POST", "cloudtrail/events", { events: entries });
  }

  /** The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/<ID>). */
  async issuer(cluster: string): Promise<string> {
    const cached = this.issuers.get(cluster);
    if (cached) return cached;
    const eks = new EKSClient(this.common);
    const out = await eks.send(new DescribeClusterCommand({ name: cluster }));
    const issuer = out.cluster?.identity?.oidc?.issuer ?? "";
    if (!issuer) throw new Error(`cluster ${cluster} has no OIDC issuer`);
    this.issuers.set(cluster, issuer);
    return issuer;
  }

  /** The cluster's IAM OIDC provider (client id sts.amazonaws.com), created when missing; its ARN. */
  async ensureOidcProvider(cluster: string): Promise<string> {
    const host = (await this.issuer(cluster)).replace(/^https:\/\//, "");
    const arn = `arn:aws:iam::${this.accountId}:oidc-provider/${host}`;
    const iam = new IAMClient(this.common);
    const list = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    if (list.OpenIDConnectProviderList?.some((p) => p.Arn === arn)) return arn;
    await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: `https://${host}`,
        ClientIDList: [IRSA_AUDIENCE],
        ThumbprintList: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
      }),
    );
    return arn;
  }

  private podUid(pod: PodRef): string {
    if (pod.podUid) return pod.podUid;
    const key = `${pod.cluster}/${pod.namespace}/${pod.podName ?? pod.serviceAccount}`;
    let uid = this.uids.get(key);
    if (!uid) {
      uid = randomUUID();
      this.uids.set(key, uid);
    }
    return uid;
  }

  /**
   * The pod's projected service account token: issued by the cluster's issuer at the local
   * account's current time, valid `lifetimeSeconds` (default 86400), for `audience`.
   */
  async token(
    pod: PodRef,
    options: { audience: string; lifetimeSeconds?: number; issuer?: string },
  ): Promise<string> {
    const iat = Math.floor((await this.now()).getTime() / 1000);
    const podName = pod.podName ?? `${pod.serviceAccount}-pod`;
    return mintJwt({
      iss: options.issuer ?? (await this.issuer(pod.cluster)),
      sub: `system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`,
      aud: [options.audience],
      iat,
      nbf: iat,
      exp: iat + (options.lifetimeSeconds ?? 86_400),
      "kubernetes.io": {
        namespace: pod.namespace,
        pod: { name: podName, uid: this.podUid(pod) },
        serviceaccount: { name: pod.serviceAccount, uid: randomUUID() },
      },
    });
  }

  /** A pod on IRSA refreshes its credentials: AssumeRoleWithWebIdentity with its token. */
  async irsa(
    pod: PodRef,
    roleArn: string,
    options: { token?: string; sessionName?: string; durationSeconds?: number } = {},
  ): Promise<CredentialResult> {
    const sts = new STSClient({ ...this.common, credentials: undefined });
    const token = options.token ?? (await this.token(pod, { audience: IRSA_AUDIENCE }));
    try {
      const out = await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: options.sessionName ?? `botocore-session-${Math.floor(Date.now() / 1000)}`,
          WebIdentityToken: token,
          ...(options.durationSeconds !== undefined ? { DurationSeconds: options.durationSeconds } : {}),
        }),
      );
      const c = out.Credentials!;
      return {
        ok: true,
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
        expiration: c.Expiration!,
        assumedRoleArn: out.AssumedRoleUser?.Arn ?? "",
      };
    } catch (error) {
      return failure(error);
    }
  }

  /**
   * A pod on Pod Identity gets credentials: the agent calls EKS Auth AssumeRoleForPodIdentity with
   * the pod's token (SigV4-scoped for eks-auth; the local account reads the scope, not the signature).
   */
  async podIdentity(
    pod: PodRef,
    options: { token?: string; callerAccessKeyId?: string } = {},
  ): Promise<CredentialResult> {
    const token = options.token ?? (await this.token(pod, { audience: POD_IDENTITY_AUDIENCE }));
    const key = options.callerAccessKeyId ?? this.accountId;
    const res = await fetch(
      `${this.endpoint}/clusters/${encodeURIComponent(pod.cluster)}/assume-role-for-pod-identity`,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `AWS4-HMAC-SHA256 Credential=${key}/20240101/${this.region}/eks-auth/aws4_request, SignedHeaders=host, Signature=0`,
          "user-agent": "eks-pod-identity-agent (local test)",
        },
        body: JSON.stringify({ token }),
      },
    );
    const body = (await res.json()) as any;
    if (!res.ok) {
      return {
        ok: false,
        code: res.headers.get("x-amzn-errortype") ?? "Unknown",
        message: body.message,
        status: res.status,
      };
    }
    return {
      ok: true,
      accessKeyId: body.credentials.accessKeyId,
      secretAccessKey: body.credentials.secretAccessKey,
      sessionToken: body.credentials.sessionToken,
      expiration: new Date(body.credentials.expiration * 1000),
      assumedRoleArn: body.assumedRoleUser.arn,
    };
  }

  /**
   * A pod uses its credentials: STS GetCallerIdentity signed with them. The local account answers
   * for credentials it issued, with ExpiredToken once they expire on its clock.
   */
  async callerIdentity(
    creds: CredentialResult,
  ): Promise<{ ok: true; arn: string; account: string } | { ok: false; code: string; status: number }> {
    if (!creds.ok) throw new Error("no credentials to use");
    const sts = new STSClient({
      ...this.common,
      credentials: {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
      },
    });
    try {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      return { ok: true, arn: out.Arn ?? "", account: out.Account ?? "" };
    } catch (error) {
      const f = failure(error);
      return { ok: false, code: f.ok ? "" : f.code, status: f.ok ? 0 : f.status };
    }
  }

  /** LookupEvents through the SDK, every page, newest first. */
  async lookupEvents(query: TrailQuery = {}): Promise<Event[]> {
    const trail = new CloudTrailClient(this.common);
    const attribute = query.eventName
      ? { AttributeKey: "EventName" as const, AttributeValue: query.eventName }
      : query.resourceName
        ? { AttributeKey: "ResourceName" as const, AttributeValue: query.resourceName }
        : undefined;
    const events: Event[] = [];
    let next: string | undefined;
    do {
      const out = await trail.send(
        new LookupEventsCommand({
          ...(attribute ? { LookupAttributes: [attribute] } : {}),
          ...(query.startTime ? { StartTime: query.startTime } : {}),
          ...(query.endTime ? { EndTime: query.endTime } : {}),
          ...(query.pageSize ? { MaxResults: query.pageSize } : {}),
          ...(next ? { NextToken: next } : {}),
        }),
      );
      events.push(...(out.Events ?? []));
      next = out.NextToken;
    } while (next);
    return events;
  }

  /** The parsed CloudTrail records of a lookup (each event's CloudTrailEvent). */
  async records(query: TrailQuery = {}): Promise<Record<string, any>[]> {
    return (await this.lookupEvents(query)).map((e) => JSON.parse(e.CloudTrailEvent ?? "{}"));
  }
}

function failure(error: unknown): CredentialResult {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return {
    ok: false,
    code: e.name ?? "Unknown",
    message: e.message ?? "",
    status: e.$metadata?.httpStatusCode ?? 0,
  };
}
