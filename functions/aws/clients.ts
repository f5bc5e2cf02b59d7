import { EKSClient } from "@aws-sdk/client-eks";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { SFNClient } from "@aws-sdk/client-sfn";
import { STSClient } from "@aws-sdk/client-sts";

/** The SDK clients the product uses; passed to use cases so tests can substitute them. */
export interface AwsClients {
  eks: EKSClient;
  iam: IAMClient;
  sts: STSClient;
  events: EventBridgeClient;
  sfn: SFNClient;
}

/** Client settings: region and the SDK retry budget. Endpoints come from AWS_ENDPOINT_URL. */
export interface ClientOptions {
  region?: string;
  /** attempts per call including the first (SDK retry strategy: throttling, 5xx, timeouts) */
  maxAttempts?: number;
  retryMode?: "standard" | "adaptive";
}

/**
 * Creates the clients. Every client honours the SDK's standard endpoint settings
 * (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same code runs in Lambda and locally.
 */
export function createClients(options: ClientOptions = {}): AwsClients {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
  const common = {
    region,
    // AWS_MAX_ATTEMPTS, the SDK's standard setting, wins over the default budget
    maxAttempts: options.maxAttempts ?? (Number(process.env.AWS_MAX_ATTEMPTS) || 8),
    retryMode: options.retryMode ?? "adaptive",
  };
  return {
    eks: new EKSClient(common),
    // IAM is a global service whose endpoint lives in us-east-1 (aws partition)
    iam: new IAMClient({ ...common, region: "us-east-1" }),
    sts: new STSClient(common),
    events: new EventBridgeClient(common),
    sfn: new SFNClient(common),
  };
}
