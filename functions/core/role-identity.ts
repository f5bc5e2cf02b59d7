/**
 * Role identity as IAM defines it: a role ARN names a role with its path
 * (`arn:aws:iam::123456789012:role/team/app` and `…:role/app` are not the same ARN), and role
 * names are unique regardless of case (`Web-App` and `web-app` are one role).
 */

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,64})$/;

/** The parts of a role ARN. */
export interface RoleArnParts {
  partition: string;
  accountId: string;
  /** the IAM path, `/` or `/a/b/` */
  path: string;
  name: string;
}

/** Splits a role ARN into partition, account, path and name; undefined when it is not one. */
export function parseRoleArn(arn: string): RoleArnParts | undefined {
  const m = ROLE_ARN.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, accountId: m[2]!, path: m[3]!, name: m[4]! };
}

/** The key two role names share when they name one role (IAM role names ignore case). */
export function roleNameKey(name: string): string {
  return name.toLowerCase();
}

/** Whether two role names name one role. */
export function sameRoleName(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && roleNameKey(a) === roleNameKey(b);
}

/**
 * Whether two role ARNs name one role: same partition, account and path (exact), same name
 * (case-insensitive). Strings that are not role ARNs compare exactly.
 */
export function sameRoleArn(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const pa = parseRoleArn(a);
  const pb = parseRoleArn(b);
  if (!pa || !pb) return a === b;
  return (
    pa.partition === pb.partition &&
    pa.accountId === pb.accountId &&
    pa.path === pb.path &&
    sameRoleName(pa.name, pb.name)
  );
}
