/**
 * STS AssumeRoleWithWebIdentity, the call a pod on IRSA makes (botocore sts 2011-06-15 model:
 * query protocol, unsigned, AssumeRoleWithWebIdentityRequest/Response with resultWrapper
 * AssumeRoleWithWebIdentityResult; errors InvalidIdentityToken, ExpiredTokenException,
 * IDPRejectedClaim, MalformedPolicyDocument…). moto serves the operation without looking at the
 * role's trust policy, so the front answers it here:
 * 1. the token is a JWT whose `iss` names an OIDC provider of the role's account
 *    ("No OpenIDConnect provider found in your account for <iss>", InvalidIdentityToken);
 * 2. it has not expired (ExpiredTokenException) and one `aud` is a client id of that provider
 *    ("Incorrect token audience", InvalidIdentityToken);
 * 3. the role's trust policy allows sts:AssumeRoleWithWebIdentity for Federated = the provider ARN
 *    with `<issuer>:sub`, `<issuer>:aud` (and `sts:RoleSessionName`) in the request context; a
 *    missing role or a refusal is AccessDenied, HTTP 403, "Not authorized to perform
 *    sts:AssumeRoleWithWebIdentity" (STS does not say which);
 * 4. DurationSeconds (default 3600) is at most the role's MaxSessionDuration (ValidationError).
 * Each call whose token could be read is recorded in the CloudTrail log, failures with errorCode.
 */
import { randomUUID } from "node:crypto";
import type { LocalClock } from "./clock.js";
import type { CloudTrailLog } from "./cloudtrail.js";
import { type CallContext, type CallError, webIdentityRecord } from "./cloudtrail-records.js";
import type { LocalResponse } from "./http.js";
import {
  type OidcProvider,
  type RoleView,
  readOidcProviders,
  roleForSts,
  splitRoleArn,
} from "./iam-reader.js";
import { audiences, decodeJwt, type JwtClaims, JwtError } from "./jwt.js";
import type { SessionRegistry } from "./sessions.js";
import { decideTrust } from "./trust-eval.js";

/** What the credential path needs from the front. */
export interface CredentialDeps {
  motoUrl: string;
  clock: LocalClock;
  trail: CloudTrailLog;
  sessions: SessionRegistry;
  /** IAM's current view of a role (case-insensitive names, trust consistency window) */
  roleView?: RoleView;
}

/** Request facts CloudTrail records (region from the signing scope or the default). */
export interface RequestFacts {
  region: string;
  userAgent: string;
  sourceIp: string;
}

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** Escapes text for an XML element. */
export function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** An STS error response (query protocol ErrorResponse with the STS namespace). */
export function stsError(status: number, code: string, message: string): LocalResponse {
  return {
    status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": randomUUID() },
    body:
      `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${xml(code)}</Code>` +
      `<Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

class StsRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** whether CloudTrail records the refused call (the token was readable) */
    readonly recorded: boolean,
  ) {
    super(message);
    this.name = code;
  }
}

function validation(message: string): StsRefusal {
  return new StsRefusal(400, "ValidationError", message, false);
}

const ACCESS_DENIED = "Not authorized to perform sts:AssumeRoleWithWebIdentity";

function readParams(params: URLSearchParams): {
  roleArn: string;
  sessionName: string;
  token: string;
  duration?: number;
} {
  const roleArn = params.get("RoleArn") ?? "";
  const sessionName = params.get("RoleSessionName") ?? "";
  const token = params.get("WebIdentityToken") ?? "";
  const durationRaw = params.get("DurationSeconds");
  if (roleArn.length < 20 || roleArn.length > 2048) {
    throw validation(
      "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: length 20-2048",
    );
  }
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw validation(
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: " +
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*, length 2-64",
    );
  }
  if (token.length < 4 || token.length > 20000) {
    throw validation(
      "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: length 4-20000",
    );
  }
  let duration: number | undefined;
  if (durationRaw !== null) {
    duration = Number(durationRaw);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      throw validation(
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: between 900 and 43200",
      );
    }
  }
  return { roleArn, sessionName, token, ...(duration !== undefined ? { duration } : {}) };
}

interface Evaluated {
  providerArn: string;
  sub: string;
  aud: string;
}

async function check(
  deps: CredentialDeps,
  accountId: string,
  roleName: string,
  request: ReturnType<typeof readParams>,
  claims: JwtClaims,
  seen: Partial<Evaluated>,
): Promise<{ roleId: string; duration: number; evaluated: Evaluated }> {
  const iss = typeof claims.iss === "string" ? claims.iss : "";
  const host = iss.replace(/^https:\/\//, "");
  seen.sub = typeof claims.sub === "string" ? claims.sub : "";
  seen.aud = audiences(claims)[0] ?? "";
  const providers: OidcProvider[] = host ? await readOidcProviders(deps.motoUrl, accountId) : [];
  const provider = providers.find((p) => p.url === host);
  seen.providerArn = provider?.arn ?? `arn:aws:iam::${accountId}:oidc-provider/${host}`;
  if (!provider) {
    throw new StsRefusal(
      400,
      "InvalidIdentityToken",
      `No OpenIDConnect provider found in your account for ${iss}`,
      true,
    );
  }
  const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
  if (typeof claims.exp !== "number") {
    throw new StsRefusal(400, "InvalidIdentityToken", "The token has no expiration (exp) claim", true);
  }
  if (claims.exp <= nowSeconds) {
    throw new StsRefusal(
      400,
      "ExpiredTokenException",
      `Token expired: current date/time ${nowSeconds} must be before the expiration date/time ${claims.exp}`,
      true,
    );
  }
  const aud = audiences(claims).find((a) => provider.clientIds.includes(a));
  if (!aud) throw new StsRefusal(400, "InvalidIdentityToken", "Incorrect token audience", true);
  seen.aud = aud;
  if (!seen.sub)
    throw new StsRefusal(400, "InvalidIdentityToken", "The token has no subject (sub) claim", true);
  const role = await roleForSts(deps.motoUrl, deps.roleView, accountId, roleName);
  if (!role) throw new StsRefusal(403, "AccessDenied", ACCESS_DENIED, true);
  const context = {
    [`${provider.url}:sub`.toLowerCase()]: seen.sub,
    [`${provider.url}:aud`.toLowerCase()]: aud,
    "sts:rolesessionname": request.sessionName,
  };
  const decision = decideTrust(
    role.trustPolicy,
    { type: "Federated", ids: [provider.arn] },
    "sts:AssumeRoleWithWebIdentity",
    context,
  );
  if (decision.decision !== "allow") throw new StsRefusal(403, "AccessDenied", ACCESS_DENIED, true);
  const duration = request.duration ?? 3600;
  if (duration > role.maxSessionDuration) {
    throw new StsRefusal(
      400,
      "ValidationError",
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      true,
    );
  }
  return { roleId: role.roleId, duration, evaluated: { providerArn: provider.arn, sub: seen.sub, aud } };
}

/** Serves one AssumeRoleWithWebIdentity request (form parameters of the query protocol). */
export async function assumeRoleWithWebIdentity(
  deps: CredentialDeps,
  params: URLSearchParams,
  facts: RequestFacts,
): Promise<LocalResponse> {
  let request: ReturnType<typeof readParams>;
  try {
    request = readParams(params);
  } catch (error) {
    if (error instanceof StsRefusal) return stsError(error.status, error.code, error.message);
    throw error;
  }
  const arn = splitRoleArn(request.roleArn);
  if (!arn) return stsError(400, "ValidationError", "Request ARN is invalid");
  let claims: JwtClaims;
  try {
    claims = decodeJwt(request.token);
  } catch (error) {
    if (error instanceof JwtError)
      return stsError(400, "InvalidIdentityToken", `The web identity token is invalid: ${error.message}`);
    throw error;
  }
  const now = deps.clock.now();
  const ctx: CallContext = { time: now, accountId: arn.accountId, ...facts };
  const seen: Partial<Evaluated> = {};
  const base = {
    roleArn: request.roleArn,
    roleSessionName: request.sessionName,
    ...(request.duration !== undefined ? { durationSeconds: request.duration } : {}),
  };
  try {
    const { roleId, duration, evaluated } = await check(deps, arn.accountId, arn.name, request, claims, seen);
    const session = deps.sessions.issue({
      roleArn: request.roleArn,
      roleId,
      sessionName: request.sessionName,
      accountId: arn.accountId,
      now,
      durationSeconds: duration,
    });
    deps.trail.append(webIdentityRecord(ctx, { ...base, ...evaluated, session }));
    return {
      status: 200,
      headers: { "content-type": "text/xml", "x-amzn-requestid": randomUUID() },
      body:
        `<AssumeRoleWithWebIdentityResponse xmlns="${STS_NS}"><AssumeRoleWithWebIdentityResult>` +
        `<SubjectFromWebIdentityToken>${xml(evaluated.sub)}</SubjectFromWebIdentityToken>` +
        `<Audience>${xml(evaluated.aud)}</Audience>` +
        `<AssumedRoleUser><Arn>${xml(session.assumedRoleArn)}</Arn>` +
        `<AssumedRoleId>${xml(session.assumedRoleId)}</AssumedRoleId></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId>` +
        `<SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey>` +
        `<SessionToken>${xml(session.sessionToken)}</SessionToken>` +
        `<Expiration>${session.expiration.toISOString()}</Expiration></Credentials>` +
        `<Provider>${xml(String(claims.iss))}</Provider>` +
        `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId>` +
        `</ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
    };
  } catch (error) {
    if (!(error instanceof StsRefusal)) throw error;
    if (error.recorded) {
      const failure: CallError = { code: error.code, message: error.message };
      deps.trail.append(
        webIdentityRecord(ctx, {
          ...base,
          providerArn: seen.providerArn ?? "",
          sub: seen.sub ?? "",
          aud: seen.aud ?? "",
          error: failure,
        }),
      );
    }
    return stsError(error.status, error.code, error.message);
  }
}
