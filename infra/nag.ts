import { type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import type { IConstruct } from "constructs";

/** Acknowledges cdk-nag findings on a construct; every acknowledgement carries its reason. */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}

/** The findings CDK's LambdaInvoke grants raise on a state machine role, acknowledged with the reason. */
export function acknowledgeTaskRole(stateMachine: StateMachine, fn: IFunction): void {
  const cfnFunction = fn.node.defaultChild as CfnElement | undefined;
  acknowledge(
    stateMachine.role,
    "LambdaInvoke grants the function and its versions (<arn>:*); X-Ray and log delivery actions support no resource-level permissions",
    "AwsSolutions-IAM5[Resource::*]",
    cfnFunction
      ? `AwsSolutions-IAM5[Resource::<${Stack.of(stateMachine).getLogicalId(cfnFunction)}.Arn>:*]`
      : `AwsSolutions-IAM5[Resource::${fn.functionArn}:*]`,
  );
}
