import { EKSClient } from "@aws-sdk/client-eks";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { IAMClient } from "@aws-sdk/client-iam";
import { SFNClient } from "@aws-sdk/client-sfn";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { AwsClients } from "../../functions/aws/clients.js";
import { type LocalAccount, startLocalAccount } from "../../local/index.js";

export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";

/** SDK clients pointed at a local account explicitly (no process-wide environment). */
export function clientsFor(endpoint: string, maxAttempts = 3) {
  const common = {
    endpoint,
    region: REGION,
    maxAttempts,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
  return { eks: new EKSClient(common), iam: new IAMClient(common), sts: new STSClient(common) };
}

/**
 * Starts one local account for the test file and resets it before each test, so tests own their
 * fixtures and can run in any order. Files run in parallel, each with its own account.
 */
export function useLocalAccount(): { readonly account: LocalAccount } {
  const holder: { account?: LocalAccount } = {};
  beforeAll(async () => {
    holder.account = await startLocalAccount();
  });
  afterAll(async () => {
    await holder.account?.stop();
  });
  beforeEach(async () => {
    await holder.account?.reset();
  });
  return {
    get account(): LocalAccount {
      if (!holder.account) throw new Error("local account not started");
      return holder.account;
    },
  };
}

/** The product's client bundle pointed at a local account. */
export function awsClientsFor(endpoint: string, maxAttempts = 8, accessKeyId = "testing"): AwsClients {
  const common = {
    endpoint,
    region: REGION,
    maxAttempts,
    // the local account takes a 12-digit access key id as the account of the call
    credentials: { accessKeyId, secretAccessKey: "testing" },
  };
  return {
    eks: new EKSClient(common),
    iam: new IAMClient(common),
    sts: new STSClient(common),
    events: new EventBridgeClient(common),
    sfn: new SFNClient(common),
  };
}

/**
 * Operations in a call count that change something (not Describe/List/Get). DynamoDB UpdateItem
 * is left out: every paced EKS, IAM or CloudTrail call takes its slot of the account-wide pacing
 * schedule with one (functions/aws/shared-pacing.ts); the only other UpdateItem, the deletion
 * budget, moves only with a DeletePodIdentityAssociation, itself counted here.
 */
export function writeCalls(calls: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(calls).filter(([op]) => !/^(Describe|List|Get)/.test(op) && op !== "UpdateItem"),
  );
}
