/**
 * JSON Web Tokens as the local account reads them: the claims are decoded, the signature is not
 * checked (the local account has no keys; a token is as good as its claims). Tokens it mints are
 * unsigned (`alg: none`) but keep the three-part form the EKS Auth model's JwtToken pattern asks for.
 */

/** Claims a projected Kubernetes service account token carries. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  "kubernetes.io"?: {
    namespace?: string;
    pod?: { name?: string; uid?: string };
    serviceaccount?: { name?: string; uid?: string };
  };
  [claim: string]: unknown;
}

/** Why a token could not be read. */
export class JwtError extends Error {
  override name = "JwtError";
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An unsigned JWT with these claims (the signature part is a fixed placeholder). */
export function mintJwt(claims: JwtClaims): string {
  return `${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims)}.${Buffer.from("unsigned").toString("base64url")}`;
}

/** Decodes a JWT's claims; throws JwtError when it is not three base64url parts with a JSON object. */
export function decodeJwt(token: string): JwtClaims {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_=-]+$/.test(p))) {
    throw new JwtError("the token is not a JWT (three base64url parts)");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
  } catch {
    throw new JwtError("the token's payload is not JSON");
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
    throw new JwtError("the token's payload is not a JSON object");
  }
  return payload as JwtClaims;
}

/** The `aud` claim as a list. */
export function audiences(claims: JwtClaims): string[] {
  const aud = claims.aud;
  if (typeof aud === "string") return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : [];
}

/** `system:serviceaccount:<namespace>:<name>` split, or undefined when `sub` is not that form. */
export function serviceAccountOf(sub: unknown): { namespace: string; serviceAccount: string } | undefined {
  if (typeof sub !== "string") return undefined;
  const match = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub);
  return match ? { namespace: match[1]!, serviceAccount: match[2]! } : undefined;
}
