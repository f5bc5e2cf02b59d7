/**
 * EKS Auth AssumeRoleForPodIdentity, the call the Pod Identity Agent makes for a pod (botocore
 * eks-auth 2023-11-26 model: restJson1, POST /clusters/{clusterName}/assume-role-for-pod-identity,
 * body {token}; response subject, audience, podIdentityAssociation, assumedRoleUser, credentials;
 * errors AccessDeniedException 400, InvalidTokenException 400, ExpiredTokenException 400,
 * InvalidParameterException 400, InvalidRequestException 400, ResourceNotFoundException 404,
 * ThrottlingException 429, InternalServerException 500, ServiceUnavailableException 503).
 *
 * 1. The token is the pod's projected service account token: issued by this cluster's OIDC issuer,
 *    audience pods.eks.amazonaws.com, not expired, `sub` system:serviceaccount:<ns>:<sa>, pod name
 *    and uid in the `kubernetes.io` claim (InvalidTokenException / ExpiredTokenException).
 * 2. The association for (cluster, namespace, service account) gives the role
 *    (ResourceNotFoundException when there is none).
 * 3. EKS assumes the role as pods.eks.amazonaws.com: sts:AssumeRole, plus sts:TagSession with the
 *    six session tags unless the association disables them; the trust policy is evaluated with
 *    aws:RequestTag/<key>, aws:TagKeys, aws:SourceAccount = the cluster's account and
 *    aws:SourceArn = the cluster ARN (which ARN EKS passes is not documented; the local account
 *    assumes the cluster ARN, as the product's trust engine does). A refusal is
 *    AccessDeniedException "Unauthorized Exception! EKS does not have permissions to assume the
 *    associated role." (the message the EKS security immersion day workshop shows).
 * 4. targetRoleArn (role chaining): the first role's session assumes the target role with the
 *    association's externalId (sts:ExternalId) and the same, transitive, session tags; its trust is
 *    evaluated for Principal AWS = the first role's ARN or its account. The credentials returned
 *    are the target role's. This is a minimal model of a feature whose internals are not documented.
 * Credentials last 6 hours (durationSeconds 21600 in the real record). Every call whose cluster
 * exists is recorded: the EKS Auth event and, once a role is known, the STS AssumeRole event(s).
 */
import { randomUUID } from "node:crypto";
import {
  type CallContext,
  type CallError,
  podIdentityRecord,
  podServiceAssumeRoleRecord,
} from "./cloudtrail-records.js";
import { epochSeconds, type LocalResponse } from "./http.js";
import { roleForSts, splitRoleArn } from "./iam-reader.js";
import { audiences, decodeJwt, JwtError, serviceAccountOf } from "./jwt.js";
import type { RequestIdentity } from "./operations.js";
import type { ClusterRef, PodIdentityStore, StoredAssociation } from "./pod-identity.js";
import type { LocalSession } from "./sessions.js";
import type { CredentialDeps, RequestFacts } from "./sts-web-identity.js";
import { decideAll, type RequestContext } from "./trust-eval.js";

/** A cluster with its OIDC issuer, or undefined when the account has no such cluster. */
export type ClusterLookup = (
  accountId: string,
  region: string,
  name: string,
) => Promise<{ ref: ClusterRef; issuer: string } | undefined>;

/** What EKS Auth needs besides the shared credential services. */
export interface EksAuthDeps extends CredentialDeps {
  associations: PodIdentityStore;
  clusters: ClusterLookup;
}

/** The audience of Pod Identity tokens and credentials. */
export const POD_IDENTITY_AUDIENCE = "pods.eks.amazonaws.com";
/** How long Pod Identity credentials last (the real STS record's durationSeconds). */
export const POD_IDENTITY_DURATION_SECONDS = 21600;

const ERROR_STATUS = {
  AccessDeniedException: 400,
  InvalidTokenException: 400,
  ExpiredTokenException: 400,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
} as const;
type EksAuthErrorName = keyof typeof ERROR_STATUS;

const ACCESS_DENIED = "Unauthorized Exception! EKS does not have permissions to assume the associated role.";
const INVALID_TOKEN = "The specified Kubernetes service account token is invalid.";

class EksAuthError extends Error {
  constructor(
    readonly code: EksAuthErrorName,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** An EKS Auth error response (restJson1: status from the model, x-amzn-ErrorType, message). */
export function eksAuthError(code: EksAuthErrorName, message: string): LocalResponse {
  return {
    status: ERROR_STATUS[code],
    headers: {
      "content-type": "application/json",
      "x-amzn-errortype": code,
      "x-amzn-requestid": randomUUID(),
    },
    body: JSON.stringify({ message }),
  };
}

interface PodFacts {
  namespace: string;
  serviceAccount: string;
  podName?: string;
  podUid?: string;
}

function readToken(body: string, issuer: string, nowSeconds: number): PodFacts {
  let token: unknown;
  try {
    token = (JSON.parse(body || "{}") as { token?: unknown }).token;
  } catch {
    throw new EksAuthError("InvalidRequestException", "The request body is not valid JSON");
  }
  if (typeof token !== "string" || token.length === 0) {
    throw new EksAuthError("InvalidParameterException", "token is required");
  }
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch (error) {
    if (error instanceof JwtError) throw new EksAuthError("InvalidTokenException", INVALID_TOKEN);
    throw error;
  }
  if (claims.iss !== issuer || !audiences(claims).includes(POD_IDENTITY_AUDIENCE)) {
    throw new EksAuthError("InvalidTokenException", INVALID_TOKEN);
  }
  if (typeof claims.exp !== "number") throw new EksAuthError("InvalidTokenException", INVALID_TOKEN);
  if (claims.exp <= nowSeconds) {
    throw new EksAuthError(
      "ExpiredTokenException",
      "The specified Kubernetes service account token is expired.",
    );
  }
  const subject = serviceAccountOf(claims.sub);
  const k8s = claims["kubernetes.io"];
  const k8sReadable = k8s === undefined || (typeof k8s === "object" && k8s !== null && !Array.isArray(k8s));
  if (!subject || !k8sReadable || (k8s?.namespace !== undefined && k8s.namespace !== subject.namespace)) {
    throw new EksAuthError("InvalidTokenException", INVALID_TOKEN);
  }
  return {
    ...subject,
    ...(typeof k8s?.pod?.name === "string" ? { podName: k8s.pod.name } : {}),
    ...(typeof k8s?.pod?.uid === "string" ? { podUid: k8s.pod.uid } : {}),
  };
}

/** The six session tags Pod Identity sends (pod name/uid only when the token names the pod). */
export function sessionTags(cluster: ClusterRef, pod: PodFacts): Record<string, string> {
  return {
    "eks-cluster-arn": cluster.arn,
    "eks-cluster-name": cluster.name,
    "kubernetes-namespace": pod.namespace,
    "kubernetes-service-account": pod.serviceAccount,
    ...(pod.podName !== undefined ? { "kubernetes-pod-name": pod.podName } : {}),
    ...(pod.podUid !== undefined ? { "kubernetes-pod-uid": pod.podUid } : {}),
  };
}

function tagContext(tags: Record<string, string>): RequestContext {
  const context: RequestContext = {};
  for (const [key, value] of Object.entries(tags)) context[`aws:requesttag/${key}`.toLowerCase()] = value;
  if (Object.keys(tags).length > 0) context["aws:tagkeys"] = Object.keys(tags);
  return context;
}

function sessionNameFor(cluster: ClusterRef, pod: PodFacts): string {
  // documented form eks-<cluster>-<pod>-<uuid>, within STS's 64 characters
  const name = `eks-${cluster.name.slice(0, 10)}-${(pod.podName ?? "pod").slice(0, 12)}-${randomUUID()}`;
  return name.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}

interface Attempt {
  roleArn: string;
  sessionName: string;
  tags: Record<string, string>;
  externalId?: string;
  invokedBy?: Record<string, unknown>;
  accountId: string;
}

/** Serves one AssumeRoleForPodIdentity request. */
export async function assumeRoleForPodIdentity(
  deps: EksAuthDeps,
  clusterName: string,
  body: string,
  id: RequestIdentity,
  facts: RequestFacts,
  accessKeyId: string,
): Promise<LocalResponse> {
  if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(clusterName)) {
    return eksAuthError("InvalidParameterException", `Invalid cluster name: ${clusterName}`);
  }
  const found = await deps.clusters(id.accountId, id.region, clusterName);
  if (!found) return eksAuthError("ResourceNotFoundException", `No cluster found for name: ${clusterName}.`);
  const now = deps.clock.now();
  const ctx: CallContext = { time: now, accountId: id.accountId, ...facts };
  const caller = deps.sessions.callerIdentity(accessKeyId, id.accountId);
  const attempts: { attempt: Attempt; session?: LocalSession; error?: CallError }[] = [];
  const record = (error?: CallError) => {
    deps.trail.append(podIdentityRecord(ctx, { caller, clusterName, ...(error ? { error } : {}) }));
    for (const a of attempts) {
      deps.trail.append(
        podServiceAssumeRoleRecord(
          { ...ctx, accountId: a.attempt.accountId },
          {
            roleArn: a.attempt.roleArn,
            roleSessionName: a.attempt.sessionName,
            durationSeconds: POD_IDENTITY_DURATION_SECONDS,
            tags: a.attempt.tags,
            ...(a.attempt.externalId ? { externalId: a.attempt.externalId } : {}),
            ...(a.attempt.invokedBy ? { invokedBy: a.attempt.invokedBy } : {}),
            ...(a.session ? { session: a.session } : {}),
            ...(a.error ? { error: a.error } : {}),
          },
        ),
      );
    }
  };
  try {
    const pod = readToken(body, found.issuer, Math.floor(now.getTime() / 1000));
    const association = deps.associations
      .list(found.ref)
      .find((a) => a.namespace === pod.namespace && a.serviceAccount === pod.serviceAccount);
    if (!association) {
      throw new EksAuthError(
        "ResourceNotFoundException",
        `No Pod Identity Association found for service account ${pod.namespace}/${pod.serviceAccount} in cluster ${clusterName}`,
      );
    }
    const tags = association.disableSessionTags ? {} : sessionTags(found.ref, pod);
    const sessionName = sessionNameFor(found.ref, pod);
    let session = await assume(deps, attempts, now, {
      roleArn: association.roleArn,
      sessionName,
      tags,
      accountId: found.ref.accountId,
      context: {
        ...tagContext(tags),
        "aws:sourceaccount": found.ref.accountId,
        "aws:sourcearn": found.ref.arn,
      },
      principal: { type: "Service", ids: [POD_IDENTITY_AUDIENCE] },
    });
    if (association.targetRoleArn)
      session = await chain(deps, attempts, now, association, session, tags, sessionName);
    record();
    return {
      status: 200,
      headers: { "content-type": "application/json", "x-amzn-requestid": randomUUID() },
      body: JSON.stringify({
        subject: { namespace: pod.namespace, serviceAccount: pod.serviceAccount },
        audience: POD_IDENTITY_AUDIENCE,
        podIdentityAssociation: {
          associationArn: association.associationArn,
          associationId: association.associationId,
        },
        assumedRoleUser: { arn: session.assumedRoleArn, assumeRoleId: session.assumedRoleId },
        credentials: {
          sessionToken: session.sessionToken,
          secretAccessKey: session.secretAccessKey,
          accessKeyId: session.accessKeyId,
          expiration: epochSeconds(session.expiration),
        },
      }),
    };
  } catch (error) {
    if (!(error instanceof EksAuthError)) throw error;
    record({ code: error.code, message: error.message });
    return eksAuthError(error.code, error.message);
  }
}

async function assume(
  deps: EksAuthDeps,
  attempts: { attempt: Attempt; session?: LocalSession; error?: CallError }[],
  now: Date,
  input: Attempt & { context: RequestContext; principal: Parameters<typeof decideAll>[1] },
): Promise<LocalSession> {
  const { context, principal, ...attempt } = input;
  const entry: { attempt: Attempt; session?: LocalSession; error?: CallError } = { attempt };
  attempts.push(entry);
  const arn = splitRoleArn(attempt.roleArn);
  const role = arn ? await roleForSts(deps.motoUrl, deps.roleView, arn.accountId, arn.name) : undefined;
  const actions =
    Object.keys(attempt.tags).length > 0 ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"];
  const verdict = role ? decideAll(role.trustPolicy, principal, actions, context) : undefined;
  if (!role || !verdict?.allowed) {
    entry.error = {
      code: "AccessDenied",
      message: role
        ? `${principal.ids[0]} is not authorized to perform: ${verdict && !verdict.allowed ? verdict.action : "sts:AssumeRole"} on resource: ${attempt.roleArn}`
        : `Role ${attempt.roleArn} does not exist`,
    };
    throw new EksAuthError("AccessDeniedException", ACCESS_DENIED);
  }
  entry.session = deps.sessions.issue({
    roleArn: attempt.roleArn,
    roleId: role.roleId,
    sessionName: attempt.sessionName,
    accountId: attempt.accountId,
    now,
    durationSeconds: POD_IDENTITY_DURATION_SECONDS,
  });
  return entry.session;
}

async function chain(
  deps: EksAuthDeps,
  attempts: { attempt: Attempt; session?: LocalSession; error?: CallError }[],
  now: Date,
  association: StoredAssociation,
  first: LocalSession,
  tags: Record<string, string>,
  sessionName: string,
): Promise<LocalSession> {
  const target = splitRoleArn(association.targetRoleArn ?? "");
  const firstAccount = first.accountId;
  return await assume(deps, attempts, now, {
    roleArn: association.targetRoleArn ?? "",
    sessionName,
    tags,
    accountId: target?.accountId ?? firstAccount,
    ...(association.externalId ? { externalId: association.externalId } : {}),
    invokedBy: deps.sessions.callerIdentity(first.accessKeyId, firstAccount),
    context: {
      ...tagContext(tags),
      ...(association.externalId ? { "sts:externalid": association.externalId } : {}),
      "aws:principalarn": first.roleArn,
      "aws:principalaccount": firstAccount,
    },
    principal: {
      type: "AWS",
      ids: [first.roleArn, first.assumedRoleArn, firstAccount, `arn:aws:iam::${firstAccount}:root`],
    },
  });
}
