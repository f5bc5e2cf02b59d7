import { GetRoleCommand, type IAMClient, NoSuchEntityException } from "@aws-sdk/client-iam";
import { podIdentityRefusals } from "../core/trust/context.js";
import { decodePolicyText } from "../core/trust/parse.js";

/**
 * A role ARN as IAM forms it: partition, account, optional path, name. Pod Identity needs the
 * exact ARN (with its path); IAM paths allow `\u0021-\u007E` between slashes.
 */
export const IAM_ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/((?:[\u0021-\u002E\u0030-\u007E]+\/)*)([\w+=,.@-]{1,64})$/;

/**
 * Whether an EKS refusal of a role can be IAM propagation. EKS answers every problem with the
 * role with one error type (`InvalidParameterException`, botocore EKS model: no error code
 * member), so the product decides from what IAM says now, never from the message text:
 * `propagating` when the role exists at exactly that ARN and its trust policy satisfies what
 * EKS checks at create (the only case AWS describes as clearing by itself: IAM eventual
 * consistency, "Role provided in the request does not exist" for a role just created, or a
 * trust policy just updated); otherwise `permanent` with the reason.
 */
export type RoleVerdict = { kind: "propagating" } | { kind: "permanent"; reason: string };

/** Checks a role as EKS would see it once IAM has converged. */
export type RoleCheck = (roleArn: string, options: { disableSessionTags: boolean }) => Promise<RoleVerdict>;

/** Syntax and account checks that need no AWS call (EKS: "Cross-account pass role is not allowed"). */
export function roleArnProblem(roleArn: string, accountId?: string): string | undefined {
  const m = IAM_ROLE_ARN.exec(roleArn);
  if (!m) return `${roleArn.slice(0, 200)} is not an IAM role ARN`;
  if (accountId && m[2] !== accountId)
    return `role ${roleArn} is in account ${m[2]}, not in the cluster's account ${accountId} (EKS refuses cross-account roles)`;
  return undefined;
}

/**
 * A {@link RoleCheck} that re-reads the role from IAM. `trustWrittenByCaller`: the caller has
 * just written (and verified) the trust policy itself, as a migration does; IAM reads may still
 * return the previous document for a while, so the trust is not judged again, only the role.
 */
export function iamRoleCheck(
  iam: IAMClient,
  accountId?: string,
  settings: { trustWrittenByCaller?: boolean } = {},
): RoleCheck {
  return async (roleArn, options) => {
    const problem = roleArnProblem(roleArn, accountId);
    if (problem) return { kind: "permanent", reason: problem };
    const name = IAM_ROLE_ARN.exec(roleArn)![4]!;
    let role: { Arn?: string; AssumeRolePolicyDocument?: string } | undefined;
    try {
      role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role;
    } catch (error) {
      if (error instanceof NoSuchEntityException)
        return { kind: "permanent", reason: `role ${name} does not exist in IAM` };
      throw error;
    }
    if (!role?.Arn || role.Arn !== roleArn)
      return { kind: "permanent", reason: `no role has the ARN ${roleArn} (IAM has ${role?.Arn ?? "none"})` };
    if (settings.trustWrittenByCaller) return { kind: "propagating" };
    const account = IAM_ROLE_ARN.exec(roleArn)![2]!;
    const partition = IAM_ROLE_ARN.exec(roleArn)![1]!;
    const refusal = podIdentityRefusals(decodePolicyText(role.AssumeRolePolicyDocument ?? ""), {
      accountId: account,
      clusters: [{ name: "*", arn: `arn:${partition}:eks:*:${account}:cluster/*` }],
      sessionTagsDisabled: options.disableSessionTags,
    }).find((r) => r.by === "eks");
    return refusal
      ? { kind: "permanent", reason: `the trust policy of ${name} is refused by EKS: ${refusal.reason}` }
      : { kind: "propagating" };
  };
}
