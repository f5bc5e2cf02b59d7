/**
 * The permissions boundary every catalog role carries. The automation may create and change
 * catalog roles only with this boundary (the stack's policy tests `iam:PermissionsBoundary`), so
 * whatever it is made to write into a catalog role, the role can never do more than the catalog
 * needs: the services the catalog's policies use, and of IAM only the actions they name.
 */
import { CATALOG, CATALOG_ROLE_PATH } from "./catalog.js";
import { catalogActions } from "./catalog-policy.js";

/** Name of the boundary's managed policy (one per account, under the catalog path). */
export const CATALOG_BOUNDARY_NAME = "pod-identity-catalog-boundary";

/** Services the AWS managed policies of the catalog use (their documents are AWS's, not ours). */
const MANAGED_POLICY_SERVICES = ["ec2", "elasticfilesystem", "aps", "logs", "cloudwatch", "xray", "ssm"];

/** Services the boundary allows action by action only (never service-wide). */
const GUARDED_SERVICES = new Set(["iam", "sts", "organizations", "account", "kms", "eks"]);

/** The boundary's ARN in an account. */
export function catalogBoundaryArn(accountId: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:policy${CATALOG_ROLE_PATH}${CATALOG_BOUNDARY_NAME}`;
}

/** The boundary document: service-wide for the catalog's services, action by action for IAM. */
export function catalogBoundaryPolicy(): { Version: string; Statement: Record<string, unknown>[] } {
  const actions = CATALOG.flatMap((e) => catalogActions(e));
  const services = new Set(MANAGED_POLICY_SERVICES);
  const guarded = new Set<string>();
  for (const a of actions) {
    const service = a.split(":")[0]!.toLowerCase();
    if (GUARDED_SERVICES.has(service)) guarded.add(a);
    else services.add(service);
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "CatalogServices",
        Effect: "Allow",
        Action: [...services].sort().map((s) => `${s}:*`),
        Resource: "*",
      },
      {
        Sid: "CatalogGuardedActions",
        Effect: "Allow",
        Action: [...guarded].filter((a) => a !== "iam:PassRole").sort(),
        Resource: "*",
      },
      // Karpenter passes its node role to EC2; nothing else in the catalog passes a role
      {
        Sid: "PassKarpenterNodeRoles",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: "arn:*:iam::*:role/KarpenterNodeRole-*",
      },
    ],
  };
}
