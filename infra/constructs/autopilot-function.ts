import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { acknowledge } from "../nag.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Props of one product function. */
export interface AutopilotFunctionProps {
  /** folder under functions/ (cluster-event, iam-event, sweeper, migration) */
  name: string;
  description: string;
  timeout: Duration;
  memorySize?: number;
  environment: Record<string, string>;
  /** where failed asynchronous invocations go */
  deadLetterQueue: sqs.IQueue;
  logRetention: logs.RetentionDays;
  reservedConcurrentExecutions?: number;
}

/**
 * A product function: NodejsFunction bundled by esbuild (ESM, minified, source maps, AWS SDK
 * bundled rather than taken from the runtime), Node.js 22 on arm64, JSON logs, active tracing,
 * its own log group and role, failed async invocations sent to the dead-letter queue.
 */
export class AutopilotFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AutopilotFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `pod-identity-autopilot ${props.name} function`,
    });
    // basic execution without the AWS managed policy: write to its own log group only
    logGroup.grantWrite(this.role);
    this.fn = new nodejs.NodejsFunction(this, "Function", {
      entry: path.join(ROOT, "functions", props.name, "index.ts"),
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        POWERTOOLS_SERVICE_NAME: `pod-identity-autopilot-${props.name}`,
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.deadLetterQueue,
      onFailure: new SqsDestination(props.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      projectRoot: ROOT,
      depsLockFilePath: path.join(ROOT, "package-lock.json"),
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        externalModules: [],
        mainFields: ["module", "main"],
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    acknowledge(
      this.fn,
      "Node.js 22 is the runtime the product is built and tested for (bundles target node22; tests pin Node 22)",
      "AwsSolutions-L1",
      "Serverless-LambdaLatestVersion",
    );
    acknowledge(
      this.role,
      "X-Ray active tracing needs xray:PutTraceSegments/PutTelemetryRecords, which support no resource-level permissions",
      "AwsSolutions-IAM5[Resource::*]",
    );
    acknowledge(
      this.role,
      "CDK's grant to send to the KMS-encrypted dead-letter queue: kms:GenerateDataKey* and kms:ReEncrypt* on that one key",
      "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
      "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
    );
  }
}
