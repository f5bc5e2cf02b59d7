import { Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { IAM_EVENT_NAMES } from "../../functions/core/events.js";
import { AUTOPILOT_BUS_NAME } from "../config.js";
import { CatalogBoundary } from "../constructs/catalog-roles.js";
import { acknowledge } from "../nag.js";
import { cloudTrailPattern } from "./autopilot-stack.js";

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
    const deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
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
      eventPattern: cloudTrailPattern("aws.iam", "iam.amazonaws.com", IAM_EVENT_NAMES),
    });
    for (const region of props.regions) {
      const bus = events.EventBus.fromEventBusArn(
        this,
        `Bus-${region}`,
        `arn:${this.partition}:events:${region}:${this.account}:event-bus/${AUTOPILOT_BUS_NAME}`,
      );
      rule.addTarget(new targets.EventBus(bus, { deadLetterQueue }));
    }
  }
}
