import { Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { IAM_EVENT_NAMES } from "../../functions/core/events.js";
import { AUTOPILOT_BUS_NAME } from "../config.js";
import { CatalogBoundary } from "../constructs/catalog-roles.js";
import { acknowledge } from "../nag.js";
import { cloudTrailPattern } from "./autopilot-stack.js";

/** Name of the forwarding rule (one per account: the stack is deployed once, in us-east-1). */
export const FORWARDER_RULE_NAME = `${AUTOPILOT_BUS_NAME}-iam-forwarder`;

/** Props of the forwarder: the regions whose product bus receives IAM events. */
export interface IamEventForwarderStackProps extends StackProps {
  regions: string[];
}

/**
 * IAM's CloudTrail events reach EventBridge only in us-east-1: this stack (deployed there)
 * forwards them to the pod-identity-autopilot bus of every regional stack. Being the one
 * account-wide stack, it also holds the catalog roles' permissions boundary.
 */
export class IamEventForwarderStack extends Stack {
  constructor(scope: Construct, id: string, props: IamEventForwarderStackProps) {
    super(scope, id, props);
    // account-wide: the permissions boundary of every catalog role (regional stacks depend on this stack)
    new CatalogBoundary(this, "CatalogBoundary");
    // Built from its fixed name (not `rule.ruleArn`): the key policy and the role trust below name
    // the rule, and the rule names the queue and the role, so a token would be a dependency cycle.
    const ruleName = FORWARDER_RULE_NAME;
    const ruleArn = `arn:${this.partition}:events:${this.region}:${this.account}:rule/${ruleName}`;
    // Only EventBridge, on behalf of this rule of this account, may use the key and the role
    // (confused deputy). EventBridge sets aws:SourceArn (the rule's ARN) and aws:SourceAccount when it
    // delivers to a target or a dead-letter queue (EventBridge user guide, "Using IAM policy conditions":
    // condition keys table; "Using dead-letter queues": a DLQ under a customer managed key needs
    // kms:Decrypt and kms:GenerateDataKey for events.amazonaws.com).
    const fromThisRule = {
      StringEquals: { "aws:SourceAccount": this.account },
      ArnEquals: { "aws:SourceArn": ruleArn },
    };
    const deadLetterKey = new kms.Key(this, "DeadLetterKey", {
      enableKeyRotation: true,
      description: "pod-identity-autopilot IAM event forwarder: dead-letter queue",
    });
    deadLetterKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "EventBridgeForwarderRuleOnly",
        principals: [new iam.ServicePrincipal("events.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: ["*"],
        conditions: fromThisRule,
      }),
    );
    const deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: deadLetterKey,
      enforceSSL: true,
    });
    acknowledge(
      deadLetterQueue,
      "This queue is the dead-letter queue of the forwarding targets; it has none of its own",
      "Serverless-SQSRedrivePolicy",
      "AwsSolutions-SQS3",
    );
    const rule = new events.Rule(this, "IamEventsRule", {
      description: "IAM role changes, forwarded to each region's pod-identity-autopilot bus",
      ruleName,
      eventPattern: cloudTrailPattern("aws.iam", "iam.amazonaws.com", IAM_EVENT_NAMES),
    });
    const role = new iam.Role(this, "ForwarderRole", {
      description: "EventBridge: forwards IAM events to each region's pod-identity-autopilot bus",
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com").withConditions(fromThisRule),
    });
    for (const region of props.regions) {
      const bus = events.EventBus.fromEventBusArn(
        this,
        `Bus-${region}`,
        `arn:${this.partition}:events:${region}:${this.account}:event-bus/${AUTOPILOT_BUS_NAME}`,
      );
      rule.addTarget(new targets.EventBus(bus, { deadLetterQueue, role }));
    }
  }
}
