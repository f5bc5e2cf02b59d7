import { EksApiError } from "./http.js";
import type { MotoRole } from "./moto-client.js";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// IAM: path "/" or "/…/" of characters \u0021-\u007E (model `pathType`), role name [\w+=,.@-]{1,64}
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,64})$/;

/** Kubernetes namespace: a DNS-1123 label. */
export function validNamespace(value: unknown): value is string {
  return typeof value === "string" && value.length <= 63 && LABEL.test(value);
}

/** Kubernetes service account name: a DNS-1123 subdomain. */
export function validServiceAccount(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= 253 &&
    value.split(".").every((part) => LABEL.test(part))
  );
}

/** Splits an IAM role ARN into account, path (`/` or `/a/b/`) and role name, or undefined. */
export function parseRoleArn(
  arn: unknown,
): { accountId: string; path: string; roleName: string } | undefined {
  if (typeof arn !== "string") return undefined;
  const match = ROLE_ARN.exec(arn);
  return match ? { accountId: match[1]!, path: match[2]!, roleName: match[3]! } : undefined;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function actionMatches(pattern: unknown, action: string): boolean {
  if (typeof pattern !== "string") return false;
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(action);
}

/**
 * What EKS checks of a role's trust policy when an association is created: an Allow statement for
 * the Service principal pods.eks.amazonaws.com with sts:AssumeRole, and sts:TagSession unless
 * session tags are disabled. Conditions are evaluated by STS later, not here.
 */
export function trustsPodIdentity(policy: unknown, needTagSession: boolean): boolean {
  if (!policy || typeof policy !== "object") return false;
  const statements = asList((policy as { Statement?: unknown }).Statement);
  const granted = (action: string) =>
    statements.some((raw) => {
      if (!raw || typeof raw !== "object") return false;
      const s = raw as Record<string, unknown>;
      if (s.Effect !== "Allow") return false;
      const principal = s.Principal;
      if (!principal || typeof principal !== "object") return false;
      const services = asList((principal as Record<string, unknown>).Service);
      if (!services.includes("pods.eks.amazonaws.com")) return false;
      return asList(s.Action).some((a) => actionMatches(a, action));
    });
  return granted("sts:AssumeRole") && (!needTagSession || granted("sts:TagSession"));
}

/** EKS's answer when the role ARN names no role (real text: terraform-provider-aws#34711). */
export const ROLE_MISSING = "Role provided in the request does not exist.";

/**
 * Checks a role for an association the way EKS does at create/update: it must be a role ARN in
 * the cluster's account, visible in IAM under exactly that path (the name resolves
 * case-insensitively, as IAM resolves names), trusting pods.eks.amazonaws.com. The messages are the
 * real ones (terraform-provider-aws#34711, #41483; eksctl#8718).
 */
export async function checkRoleForAssociation(options: {
  getRole: (accountId: string, roleName: string) => Promise<MotoRole | undefined>;
  clusterAccountId: string;
  roleArn: unknown;
  disableSessionTags: boolean;
  invisibleRoles: (accountId: string, roleName: string) => boolean;
}): Promise<string> {
  const parsed = parseRoleArn(options.roleArn);
  if (!parsed)
    throw new EksApiError("InvalidParameterException", `Invalid role ARN: ${String(options.roleArn)}`);
  if (parsed.accountId !== options.clusterAccountId) {
    throw new EksApiError("InvalidParameterException", "Cross-account pass role is not allowed");
  }
  const role = options.invisibleRoles(parsed.accountId, parsed.roleName)
    ? undefined
    : await options.getRole(parsed.accountId, parsed.roleName);
  const actual = role ? parseRoleArn(role.arn) : undefined;
  if (
    !role ||
    !actual ||
    actual.path !== parsed.path ||
    actual.roleName.toLowerCase() !== parsed.roleName.toLowerCase()
  ) {
    throw new EksApiError("InvalidParameterException", ROLE_MISSING);
  }
  if (!trustsPodIdentity(role.trustPolicy, !options.disableSessionTags)) {
    throw new EksApiError(
      "InvalidParameterException",
      "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.",
    );
  }
  return role.arn;
}
