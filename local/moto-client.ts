/**
 * The front's own calls to moto (not counted, not faulted): a role's trust policy, a cluster's
 * description. They are signed with a dummy SigV4 header because moto routes by credential scope.
 */

function authHeader(service: string, accountId: string): string {
  // moto takes a 12-digit access key id as the account of the call
  return `AWS4-HMAC-SHA256 Credential=${accountId}/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/** The parts of an IAM role the EKS emulation checks. */
export interface MotoRole {
  arn: string;
  trustPolicy: unknown;
}

/** Undoes XML escaping in moto's answers. */
export function decodeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** GetRole's raw XML from moto; undefined when the role does not exist. */
export async function getRoleXml(
  motoUrl: string,
  accountId: string,
  roleName: string,
): Promise<string | undefined> {
  const res = await fetch(`${motoUrl}/`, {
    method: "POST",
    headers: {
      "x-moto-account-id": accountId,
      authorization: authHeader("iam", accountId),
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ Action: "GetRole", Version: "2010-05-08", RoleName: roleName }).toString(),
  });
  const text = await res.text();
  return res.ok ? text : undefined;
}

/** The XML-escaped, URL-encoded trust policy element of a GetRole answer. */
export const TRUST_ELEMENT = /<AssumeRolePolicyDocument>([^<]*)<\/AssumeRolePolicyDocument>/;

/** Parses a GetRole answer (arn and trust policy). */
export function parseRoleXml(text: string): MotoRole | undefined {
  const arn = /<Arn>([^<]*)<\/Arn>/.exec(text)?.[1];
  const doc = TRUST_ELEMENT.exec(text)?.[1];
  if (!arn) return undefined;
  let trustPolicy: unknown;
  try {
    trustPolicy = doc ? JSON.parse(decodeURIComponent(decodeXml(doc))) : undefined;
  } catch {
    trustPolicy = undefined;
  }
  return { arn: decodeXml(arn), trustPolicy };
}

/** Reads a role from moto's IAM; undefined when it does not exist. */
export async function getRole(
  motoUrl: string,
  accountId: string,
  roleName: string,
): Promise<MotoRole | undefined> {
  const text = await getRoleXml(motoUrl, accountId, roleName);
  return text === undefined ? undefined : parseRoleXml(text);
}

/** A cluster as moto describes it, or undefined when moto does not know it. */
export async function describeCluster(
  motoUrl: string,
  accountId: string,
  name: string,
): Promise<{ arn: string; status: string } | undefined> {
  const res = await fetch(`${motoUrl}/clusters/${encodeURIComponent(name)}`, {
    headers: { "x-moto-account-id": accountId, authorization: authHeader("eks", accountId) },
  });
  const text = await res.text();
  if (!res.ok) return undefined;
  const body = JSON.parse(text) as { cluster?: { arn: string; status: string } };
  return body.cluster;
}
