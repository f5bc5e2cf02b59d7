import { Aspects, type IAspect, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct, type IConstruct } from "constructs";

/**
 * Issue 13's hardening of the regional stack, added without touching the constructs it applies to:
 * - the stack's tables get a key of their own (one key per data class);
 * - every log group of the stack (functions, state machines, present and future) is encrypted
 *   with its own CMK, whose key policy lets only CloudWatch Logs of this account and region use
 *   it, for this account's log groups;
 * - every Lambda role of the stack denies itself changes to the product's own functions, roles
 *   and keys (a compromised function cannot widen its own rights; the deploying principal is not
 *   a function role, so deployments are unaffected). The organisation-wide part is the SCP in
 *   README "Security model".
 */
export class SecurityHardening extends Construct {
  readonly logsKey: kms.Key;
  /** the key of the stack's tables (one key per data class: queues/topic have their own) */
  readonly tableKey: kms.Key;

  constructor(scope: Stack, id: string, props: { keys: kms.IKey[] }) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logsKey = new kms.Key(this, "LogsKey", {
      enableKeyRotation: true,
      description: "pod-identity-autopilot log groups (functions and state machines)",
    });
    this.logsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchLogsOfThisAccount",
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources: ["*"],
        conditions: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
          StringEquals: { "aws:SourceAccount": stack.account },
        },
      }),
    );
    this.tableKey = new kms.Key(this, "TableKey", {
      enableKeyRotation: true,
      description: "pod-identity-autopilot tables (trust policy snapshots, state)",
    });
    const logsKeyArn = this.logsKey.keyArn;
    const ownKeys = [this.logsKey, this.tableKey, ...props.keys].map((k) => k.keyArn);
    const selfDeny = new iam.PolicyStatement({
      sid: "DenyChangesToTheProductItself",
      effect: iam.Effect.DENY,
      actions: [
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:AddPermission",
        "lambda:DeleteFunction",
        "lambda:PutFunctionConcurrency",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
        "iam:TagRole",
        "iam:UntagRole",
        "kms:PutKeyPolicy",
        "kms:CreateGrant",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
      ],
      resources: [
        `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${stack.stackName}*`,
        `arn:${stack.partition}:iam::${stack.account}:role/${stack.stackName}*`,
        ...ownKeys,
      ],
    });
    Aspects.of(stack).add(new HardenEachResource(logsKeyArn, selfDeny));
  }
}

class HardenEachResource implements IAspect {
  private readonly hardenedRoles = new Set<iam.Role>();

  constructor(
    private readonly logsKeyArn: string,
    private readonly selfDeny: iam.PolicyStatement,
  ) {}

  visit(node: IConstruct): void {
    if (node instanceof logs.CfnLogGroup && node.kmsKeyId === undefined) node.kmsKeyId = this.logsKeyArn;
    if (node instanceof iam.Role && !this.hardenedRoles.has(node) && assumedByLambda(node)) {
      this.hardenedRoles.add(node);
      node.addToPolicy(this.selfDeny);
    }
  }
}

function assumedByLambda(role: iam.Role): boolean {
  return JSON.stringify(Stack.of(role).resolve(role.assumeRolePolicy?.toJSON() ?? {})).includes(
    "lambda.amazonaws.com",
  );
}

/** A service principal usable only on behalf of this account (key policies; confused deputy). */
export function sourceAccountOnly(service: string, account: string): iam.IPrincipal {
  return new iam.ServicePrincipal(service).withConditions({ StringEquals: { "aws:SourceAccount": account } });
}
