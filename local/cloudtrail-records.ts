/**
 * CloudTrail records of the credential path, shaped after real ones:
 * - AssumeRoleWithWebIdentity (userIdentity WebIdentityUser with the OIDC provider ARN,
 *   principalId `<provider ARN>:<aud>:<sub>`, responseElements provider/audience/
 *   subjectFromWebIdentityToken): the record in github.com/ccbrown/cloud-snitch's report tests and
 *   the EKS `WebIdentityUser` example in the CloudTrail userIdentity reference
 *   (docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html,
 *   "Values for AWS STS APIs with SAML and web identity federation").
 * - AssumeRoleForPodIdentity (eventSource eks-auth.amazonaws.com, caller = the Pod Identity Agent's
 *   node credentials, requestParameters {clusterName, token: "HIDDEN_DUE_TO_SECURITY_REASONS"},
 *   responseElements null, resource AWS::EKS::Cluster = cluster name) and the STS AssumeRole it
 *   makes (userIdentity {type: AWSService, invokedBy: pods.eks.amazonaws.com}, requestParameters
 *   with roleArn, roleSessionName `eks-<cluster>-<pod>-<uuid>`, durationSeconds 21600, the six
 *   session tags and transitiveTagKeys; lookup resources AccessKey, AssumedRole ×3, IAM::Role):
 *   aws-samples/amazon-eks-security-immersion-day,
 *   content/2-identity-and-access-management/3-eks-pod-identity/3.eks-pod-identity-deep-dive/index.en.md.
 * Failed calls carry errorCode/errorMessage and null responseElements, as every failed call does.
 */
import { randomUUID } from "node:crypto";
import type { LookupResource, TrailEntry } from "./cloudtrail.js";

/** Where and when a call happened. */
export interface CallContext {
  time: Date;
  accountId: string;
  region: string;
  userAgent: string;
  sourceIp: string;
}

/** Credentials a successful call handed out. */
export interface IssuedSession {
  accessKeyId: string;
  expiration: Date;
  assumedRoleArn: string;
  assumedRoleId: string;
  sessionName: string;
}

/** A failed call's error. */
export interface CallError {
  code: string;
  message: string;
}

/** CloudTrail's eventTime: ISO-8601 to the second. */
export function eventTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** responseElements.credentials.expiration as STS writes it in CloudTrail ("Apr 16, 2025, 3:46:56 AM"). */
export function trailExpiration(date: Date): string {
  return date
    .toLocaleString("en-US", {
      timeZone: "UTC",
      month: "short",
      day: "numeric",
      year: "numeric",
      hour: "numeric",
      minute: "2-digit",
      second: "2-digit",
      hour12: true,
    })
    .replace(/\u202f/g, " ");
}

/** A date in IAM's responseElements as CloudTrail writes it ("Nov 22, 2026 9:14:05 AM": no comma before the time). */
export function trailIamDate(date: Date): string {
  return trailExpiration(date).replace(/, (\d+:)/, " $1");
}

function envelope(ctx: CallContext, eventSource: string, eventName: string): Record<string, unknown> {
  return {
    eventVersion: "1.08",
    eventTime: eventTime(ctx.time),
    eventSource,
    eventName,
    awsRegion: ctx.region,
    sourceIPAddress: ctx.sourceIp,
    userAgent: ctx.userAgent,
  };
}

function trailer(ctx: CallContext, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: true,
    ...extra,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ctx.accountId,
    eventCategory: "Management",
  };
}

function outcome(
  error: CallError | undefined,
  response: () => Record<string, unknown>,
): Record<string, unknown> {
  return error
    ? { errorCode: error.code, errorMessage: error.message, responseElements: null }
    : { responseElements: response() };
}

/** The event history's resources of an STS role assumption (AssumeRole, AssumeRoleWithWebIdentity). */
function assumeResources(roleArn: string, session: IssuedSession | undefined): LookupResource[] {
  const role = { ResourceType: "AWS::IAM::Role", ResourceName: roleArn };
  if (!session) return [role];
  return [
    { ResourceType: "AWS::IAM::AccessKey", ResourceName: session.accessKeyId },
    { ResourceType: "AWS::STS::AssumedRole", ResourceName: session.assumedRoleArn },
    { ResourceType: "AWS::STS::AssumedRole", ResourceName: session.assumedRoleId },
    { ResourceType: "AWS::STS::AssumedRole", ResourceName: session.sessionName },
    role,
  ];
}

/** STS AssumeRoleWithWebIdentity, the call a pod on IRSA makes. */
export function webIdentityRecord(
  ctx: CallContext,
  call: {
    roleArn: string;
    roleSessionName: string;
    durationSeconds?: number;
    providerArn: string;
    sub: string;
    aud: string;
    session?: IssuedSession;
    error?: CallError;
  },
): TrailEntry {
  const record = {
    ...envelope(ctx, "sts.amazonaws.com", "AssumeRoleWithWebIdentity"),
    userIdentity: {
      type: "WebIdentityUser",
      principalId: `${call.providerArn}:${call.aud}:${call.sub}`,
      userName: call.sub,
      identityProvider: call.providerArn,
    },
    requestParameters: {
      roleArn: call.roleArn,
      roleSessionName: call.roleSessionName,
      ...(call.durationSeconds !== undefined ? { durationSeconds: call.durationSeconds } : {}),
    },
    ...outcome(call.error, () => ({
      credentials: {
        accessKeyId: call.session!.accessKeyId,
        sessionToken: "",
        expiration: trailExpiration(call.session!.expiration),
      },
      subjectFromWebIdentityToken: call.sub,
      assumedRoleUser: { assumedRoleId: call.session!.assumedRoleId, arn: call.session!.assumedRoleArn },
      provider: call.providerArn,
      audience: call.aud,
    })),
    ...trailer(ctx, {
      resources: [{ accountId: ctx.accountId, type: "AWS::IAM::Role", ARN: call.roleArn }],
    }),
  };
  return { record, resources: assumeResources(call.roleArn, call.error ? undefined : call.session) };
}

/** The identity of an EKS Auth caller (the Pod Identity Agent, with the node's credentials). */
export type CallerIdentity = Record<string, unknown>;

/** EKS Auth AssumeRoleForPodIdentity, the call the Pod Identity Agent makes for a pod. */
export function podIdentityRecord(
  ctx: CallContext,
  call: { caller: CallerIdentity; clusterName: string; error?: CallError },
): TrailEntry {
  const record = {
    ...envelope(ctx, "eks-auth.amazonaws.com", "AssumeRoleForPodIdentity"),
    eventVersion: "1.09",
    userIdentity: call.caller,
    requestParameters: { clusterName: call.clusterName, token: "HIDDEN_DUE_TO_SECURITY_REASONS" },
    // the real record has no response elements even on success
    ...(call.error ? { errorCode: call.error.code, errorMessage: call.error.message } : {}),
    responseElements: null,
    ...trailer(ctx),
  };
  return { record, resources: [{ ResourceType: "AWS::EKS::Cluster", ResourceName: call.clusterName }] };
}

/** The STS AssumeRole that EKS Auth makes as pods.eks.amazonaws.com (session tags unless disabled). */
export function podServiceAssumeRoleRecord(
  ctx: CallContext,
  call: {
    roleArn: string;
    roleSessionName: string;
    durationSeconds: number;
    tags: Record<string, string>;
    externalId?: string;
    invokedBy?: CallerIdentity;
    session?: IssuedSession;
    error?: CallError;
  },
): TrailEntry {
  const tags = Object.entries(call.tags).map(([key, value]) => ({ key, value }));
  const record = {
    ...envelope(ctx, "sts.amazonaws.com", "AssumeRole"),
    userIdentity: call.invokedBy ?? { type: "AWSService", invokedBy: "pods.eks.amazonaws.com" },
    ...(call.invokedBy
      ? {}
      : { sourceIPAddress: "pods.eks.amazonaws.com", userAgent: "pods.eks.amazonaws.com" }),
    requestParameters: {
      roleArn: call.roleArn,
      roleSessionName: call.roleSessionName,
      durationSeconds: call.durationSeconds,
      ...(call.externalId ? { externalId: call.externalId } : {}),
      ...(tags.length > 0 ? { tags, transitiveTagKeys: tags.map((t) => t.key) } : {}),
    },
    ...outcome(call.error, () => ({
      credentials: {
        accessKeyId: call.session!.accessKeyId,
        sessionToken: "",
        expiration: trailExpiration(call.session!.expiration),
      },
      assumedRoleUser: { assumedRoleId: call.session!.assumedRoleId, arn: call.session!.assumedRoleArn },
    })),
    ...trailer(ctx, {
      resources: [{ accountId: ctx.accountId, type: "AWS::IAM::Role", ARN: call.roleArn }],
      sharedEventID: randomUUID(),
    }),
  };
  return { record, resources: assumeResources(call.roleArn, call.error ? undefined : call.session) };
}
