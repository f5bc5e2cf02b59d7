/**
 * What the credential path reads from moto's IAM (not counted, not faulted): a role with its id,
 * trust policy and MaxSessionDuration, and the account's OIDC providers with their client ids.
 * Requests carry a dummy SigV4 header because moto routes by the credential scope.
 */

/** A role as STS sees it. */
export interface IamRole {
  arn: string;
  name: string;
  /** AROA… id, the first part of an assumed role's id */
  roleId: string;
  trustPolicy: string;
  maxSessionDuration: number;
}

/** An IAM OIDC identity provider. */
export interface OidcProvider {
  arn: string;
  /** issuer host and path, without `https://` (IAM stores it so) */
  url: string;
  clientIds: string[];
}

function decodeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function tag(xml: string, name: string): string | undefined {
  const found = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
  return found === undefined ? undefined : decodeXml(found);
}

async function iam(
  motoUrl: string,
  accountId: string,
  params: Record<string, string>,
): Promise<string | undefined> {
  const res = await fetch(`${motoUrl}/`, {
    method: "POST",
    headers: {
      "x-moto-account-id": accountId,
      authorization: `AWS4-HMAC-SHA256 Credential=${accountId}/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ Version: "2010-05-08", ...params }).toString(),
  });
  const text = await res.text();
  return res.ok ? text : undefined;
}

/** Reads a role from moto; undefined when it does not exist. */
export async function readRole(
  motoUrl: string,
  accountId: string,
  roleName: string,
): Promise<IamRole | undefined> {
  const xml = await iam(motoUrl, accountId, { Action: "GetRole", RoleName: roleName });
  if (!xml) return undefined;
  const arn = tag(xml, "Arn");
  const roleId = tag(xml, "RoleId");
  if (!arn || !roleId) return undefined;
  const document = tag(xml, "AssumeRolePolicyDocument") ?? "";
  let trustPolicy = document;
  try {
    trustPolicy = decodeURIComponent(document);
  } catch {
    // left as stored: the evaluator reports it unreadable
  }
  return {
    arn,
    name: tag(xml, "RoleName") ?? roleName,
    roleId,
    trustPolicy,
    maxSessionDuration: Number(tag(xml, "MaxSessionDuration") ?? 3600) || 3600,
  };
}

/**
 * How IAM shows a role to STS right now: the role's name as stored (IAM resolves names
 * case-insensitively) and the trust policy inside IAM's consistency window (the previous one for a
 * while after UpdateAssumeRolePolicy); undefined while a new role is not yet visible or when it
 * does not exist. The front provides it from its IAM model (`iam-roles.ts`).
 */
export type RoleView = (
  accountId: string,
  roleName: string,
) => Promise<{ arn: string; trustPolicy: unknown } | undefined>;

/** The role as STS evaluates it: id and MaxSessionDuration from IAM, name and trust from the view. */
export async function roleForSts(
  motoUrl: string,
  view: RoleView | undefined,
  accountId: string,
  roleName: string,
): Promise<IamRole | undefined> {
  if (!view) return await readRole(motoUrl, accountId, roleName);
  const seen = await view(accountId, roleName);
  if (!seen) return undefined;
  const stored = seen.arn.split("/").pop() ?? roleName;
  const role = await readRole(motoUrl, accountId, stored);
  if (!role) return undefined;
  const trust = seen.trustPolicy === undefined ? "" : JSON.stringify(seen.trustPolicy);
  return { ...role, trustPolicy: trust };
}

/** Every OIDC provider of the account, with its URL and client ids. */
export async function readOidcProviders(motoUrl: string, accountId: string): Promise<OidcProvider[]> {
  const list = await iam(motoUrl, accountId, { Action: "ListOpenIDConnectProviders" });
  if (!list) return [];
  const arns = [...list.matchAll(/<Arn>([^<]*)<\/Arn>/g)].map((m) => decodeXml(m[1]!));
  const providers: OidcProvider[] = [];
  for (const arn of arns) {
    const xml = await iam(motoUrl, accountId, {
      Action: "GetOpenIDConnectProvider",
      OpenIDConnectProviderArn: arn,
    });
    if (!xml) continue;
    const clientBlock = /<ClientIDList>([\s\S]*?)<\/ClientIDList>/.exec(xml)?.[1] ?? "";
    const clientIds = [...clientBlock.matchAll(/<member>([^<]*)<\/member>/g)].map((m) => decodeXml(m[1]!));
    const url = (tag(xml, "Url") ?? arn.slice(arn.indexOf(":oidc-provider/") + 15)).replace(
      /^https:\/\//,
      "",
    );
    providers.push({ arn, url, clientIds });
  }
  return providers;
}

/** Splits a role ARN into account, path and name; undefined when it is not a role ARN. */
export function splitRoleArn(
  arn: string,
): { partition: string; accountId: string; name: string } | undefined {
  const match = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(arn);
  return match ? { partition: match[1]!, accountId: match[2]!, name: match[3]! } : undefined;
}
