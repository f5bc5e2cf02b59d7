import type { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import {
  allCatalogManagedPolicyArns,
  CATALOG,
  CATALOG_ROLE_PATH,
  catalogRoleName,
} from "../../functions/core/catalog.js";
import { CATALOG_BOUNDARY_NAME, catalogBoundaryPolicy } from "../../functions/core/catalog-boundary.js";
import { MANAGED_BY_VALUE, TAG } from "../../functions/core/tags.js";
import { acknowledge } from "../nag.js";

/**
 * The permissions boundary of catalog roles: one customer managed policy per account (IAM is
 * global), so it lives in the account-wide us-east-1 stack; every regional stack depends on it.
 * Its document is the core's `catalogBoundaryPolicy()`: the catalog's services, IAM action by action.
 */
export class CatalogBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.policy = new iam.ManagedPolicy(this, "Policy", {
      managedPolicyName: CATALOG_BOUNDARY_NAME,
      path: CATALOG_ROLE_PATH,
      description: "pod-identity-autopilot: the most any catalog role may do, whatever policy it is given",
      document: iam.PolicyDocument.fromJson(catalogBoundaryPolicy()),
    });
    acknowledge(
      this.policy,
      "A permissions boundary caps, it grants nothing: service-wide entries for the catalog's services keep it under the managed-policy size quota; IAM actions are listed one by one",
      "AwsSolutions-IAM5[Resource::*]",
      "AwsSolutions-IAM5[Resource::arn:*:iam::*:role/KarpenterNodeRole-*]",
      ...catalogBoundaryPolicy()
        .Statement.flatMap((s) => ([] as string[]).concat(s.Action as string | string[]))
        .filter((a) => a.endsWith(":*"))
        .map((a) => `AwsSolutions-IAM5[Action::${a}]`),
    );
  }
}

/** The boundary's ARN, as the reconciler computes it (`catalogBoundaryArn`). */
export function catalogBoundaryArnOf(stack: Stack): string {
  return `arn:${stack.partition}:iam::${stack.account}:policy${CATALOG_ROLE_PATH}${CATALOG_BOUNDARY_NAME}`;
}

/**
 * What the reconciler may do to catalog roles: only the roles of catalog names, created and
 * changed only with the catalog boundary (`iam:PermissionsBoundary` on CreateRole, PutRolePolicy,
 * AttachRolePolicy, DetachRolePolicy, DeleteRolePolicy), attach only the catalog's managed
 * policies, and tag or rewrite the trust only of roles carrying the automation's tag.
 */
export function catalogRoleStatements(stack: Stack): iam.PolicyStatement[] {
  const roles = CATALOG.map(
    (e) => `arn:${stack.partition}:iam::${stack.account}:role${CATALOG_ROLE_PATH}${catalogRoleName(e.name)}`,
  );
  const withBoundary = { StringEquals: { "iam:PermissionsBoundary": catalogBoundaryArnOf(stack) } };
  return [
    new iam.PolicyStatement({
      sid: "ReadCatalogRolePolicies",
      actions: ["iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
      resources: roles,
    }),
    new iam.PolicyStatement({
      sid: "WriteCatalogRolesWithBoundary",
      actions: ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"],
      resources: roles,
      conditions: withBoundary,
    }),
    new iam.PolicyStatement({
      sid: "AttachCatalogManagedPolicies",
      actions: ["iam:AttachRolePolicy"],
      resources: roles,
      conditions: {
        ...withBoundary,
        ArnEquals: { "iam:PolicyARN": allCatalogManagedPolicyArns(stack.partition) },
      },
    }),
    new iam.PolicyStatement({
      sid: "TagCatalogRolesOnCreate",
      actions: ["iam:TagRole"],
      resources: roles,
      conditions: { StringEquals: { [`aws:RequestTag/${TAG.managedBy}`]: MANAGED_BY_VALUE } },
    }),
    new iam.PolicyStatement({
      sid: "TagAndTrustOwnCatalogRoles",
      actions: ["iam:TagRole", "iam:UpdateAssumeRolePolicy"],
      resources: roles,
      conditions: { StringEquals: { [`iam:ResourceTag/${TAG.managedBy}`]: MANAGED_BY_VALUE } },
    }),
  ];
}
