import { EKSClient } from "@aws-sdk/client-eks";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { SFNClient } from "@aws-sdk/client-sfn";
import { STSClient } from "@aws-sdk/client-sts";
import { iamRegionOf, partitionOfRegion } from "../core/partition.js";

/** The SDK clients the product uses; passed to use cases so tests can substitute them. */
export interface AwsClients {
  eks: EKSClient;
  iam: IAMClient;
  sts: STSClient;
  events: EventBridgeClient;
  sfn: SFNClient;
}

/**
 * Whether this process runs against the local account: `PODID_LOCAL=1`, which the stack never
 * sets. Only then do the SDK's endpoint settings (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`,
 * `endpoint_url` in the config file) count: a deployed function ignores them, so a configuration
 * change alone cannot point its IAM or EKS calls at another endpoint.
 */
export function isLocalRun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PODID_LOCAL === "1";
}

/** The endpoint part of every client's configuration (see isLocalRun). */
export function endpointSettings(honourOverrides: boolean = isLocalRun()): {
  ignoreConfiguredEndpointUrls: boolean;
} {
  return { ignoreConfiguredEndpointUrls: !honourOverrides };
}

/** Client settings: region, the SDK retry budget, and whether endpoint overrides count. */
export interface ClientOptions {
  region?: string;
  /**
   * honour AWS_ENDPOINT_URL* (default: only when PODID_LOCAL=1); the podid CLI on a workstation
   * passes true, deployed functions never do
   */
  endpointOverrides?: boolean;
  /** attempts per call including the first (SDK retry strategy: throttling, 5xx, timeouts) */
  maxAttempts?: number;
  retryMode?: "standard" | "adaptive";
}

/**
 * Creates the clients. Run locally (`PODID_LOCAL=1`) every client honours the SDK's standard
 * endpoint settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>), so the same bundle runs in
 * Lambda and against the local account; deployed, endpoint overrides are ignored.
 */
export function createClients(options: ClientOptions = {}): AwsClients {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
  const common = {
    region,
    // AWS_MAX_ATTEMPTS, the SDK's standard setting, wins over the default budget
    maxAttempts: options.maxAttempts ?? (Number(process.env.AWS_MAX_ATTEMPTS) || 8),
    retryMode: options.retryMode ?? "adaptive",
    ...endpointSettings(options.endpointOverrides ?? isLocalRun()),
  };
  return {
    eks: new EKSClient(common),
    // IAM is global per partition: its endpoint lives in the partition's IAM region
    iam: new IAMClient({ ...common, region: iamRegionOf(partitionOfRegion(region)) }),
    sts: new STSClient(common),
    events: new EventBridgeClient(common),
    sfn: new SFNClient(common),
  };
}
