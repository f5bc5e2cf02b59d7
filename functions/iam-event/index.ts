import { GetRoleCommand, NoSuchEntityException } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { decodeTrust } from "../aws/inventory.js";
import { compactSummary, createRuntime, type Runtime, reconcileWithSettings } from "../aws/runtime.js";
import { CATALOG_ROLE_PATH } from "../core/catalog.js";
import { parseIamEvent } from "../core/cloudtrail.js";
import { errorMessage } from "../core/errors.js";
import { DETAIL_TYPES } from "../core/events.js";
import { TAG } from "../core/tags.js";
import { lintTrustPolicy, type TrustFinding } from "../core/trust/index.js";

let runtime: Runtime | undefined;

/** Lints the role's trust policy when the role matters to Pod Identity (a template or catalog role). */
async function lintRole(
  rt: Runtime,
  roleName: string,
  accountId: string,
): Promise<TrustFinding[] | undefined> {
  try {
    const { Role: role } = await rt.deps.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
    const tags = Object.fromEntries((role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
    const relevant =
      Object.keys(tags).some((k) => k.startsWith(TAG.bind)) || role?.Path === CATALOG_ROLE_PATH;
    if (!role || !relevant) return undefined;
    const findings = lintTrustPolicy(decodeTrust(role.AssumeRolePolicyDocument ?? ""), {
      accountId,
      sessionTagsDisabled: tags[TAG.sessionTags] === "disabled",
    });
    for (const f of findings) {
      rt.deps.publisher.publish(DETAIL_TYPES.finding, {
        ...f,
        source: "trust-lint",
        roleName,
        roleArn: role.Arn,
      });
    }
    return findings;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

/**
 * IAM CloudTrail events (CreateRole, TagRole, UntagRole, UpdateAssumeRolePolicy, DeleteRole),
 * forwarded from us-east-1: re-plans only that role's associations across all clusters, and
 * lints its trust policy. Invalid, failed-call and foreign events are rejected with a logged reason.
 */
export const handler = async (event: unknown) => {
  runtime ??= createRuntime();
  const rt = runtime;
  const parsed = parseIamEvent(event);
  if (!parsed.ok) {
    rt.logger.warn("event rejected", { reason: parsed.reason });
    return { status: "rejected" as const, reason: parsed.reason };
  }
  const { roleName } = parsed;
  rt.logger.appendKeys({ roleName });
  try {
    const accountId =
      rt.env.ACCOUNT_ID ?? (await rt.deps.clients.sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
    const trustFindings =
      parsed.eventName === "DeleteRole" ? undefined : await lintRole(rt, roleName, accountId);
    const summary = await reconcileWithSettings(rt, { kind: "role", roleName }, { accountId });
    return {
      status: "reconciled" as const,
      roleName,
      eventName: parsed.eventName,
      trustFindings: trustFindings ?? [],
      summary: compactSummary(summary),
    };
  } catch (error) {
    rt.logger.error("iam event failed", { error: errorMessage(error) });
    throw error;
  } finally {
    rt.logger.removeKeys(["roleName"]);
  }
};
