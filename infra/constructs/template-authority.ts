import type { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { CATALOG_ROLE_PATH } from "../../functions/core/catalog.js";
import type { AutopilotConfig } from "../config.js";

/**
 * The template authority of issue 13 in IAM and in the functions' environment.
 *
 * `iam:PassRole` is scoped by resource to the template path and the catalog path: IAM paths cannot
 * change after a role is created, so tagging a role never makes it passable. IAM offers no
 * condition on a role's permissions boundary for `iam:PassRole` (`iam:PermissionsBoundary`
 * applies to CreateRole, PutRolePolicy, AttachRolePolicy and the boundary actions only; PassRole
 * takes `iam:PassedToService`, `iam:AssociatedResourceARN` and the role's resource tags). A
 * boundary criterion is therefore enforced by the reconciler's admission check, on top of the
 * path, and a tag condition is not used: whoever may tag a role could satisfy it.
 */
export function passRoleStatement(scope: Stack, config: AutopilotConfig): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: "PassTemplateAndCatalogRolesToPodIdentity",
    actions: ["iam:PassRole"],
    resources: [roleArnUnder(scope, config.templatePath), roleArnUnder(scope, CATALOG_ROLE_PATH)],
    conditions: { StringEquals: { "iam:PassedToService": "pods.eks.amazonaws.com" } },
  });
}

/** `arn:…:role/<path>*`: every role under an IAM path (sub-paths included). */
export function roleArnUnder(scope: Stack, path: string): string {
  return `arn:${scope.partition}:iam::${scope.account}:role${path}*`;
}

/** The admission settings the functions read (functions/aws/admission-settings.ts). */
export function admissionEnvironment(config: AutopilotConfig): Record<string, string> {
  return {
    TEMPLATE_PATH: config.templatePath,
    CLUSTER_TAG_PREFIX: config.clusterTagPrefix,
    ...(config.templateBoundaryArn ? { TEMPLATE_BOUNDARY_ARN: config.templateBoundaryArn } : {}),
    ...(config.catalogEntries ? { CATALOG_ENTRIES: config.catalogEntries.join(" ") } : {}),
    ...(Object.keys(config.catalogOverrides).length > 0
      ? { CATALOG_OVERRIDES: JSON.stringify(config.catalogOverrides) }
      : {}),
  };
}
