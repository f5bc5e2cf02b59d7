import { CreateClusterCommand, type EKSClient } from "@aws-sdk/client-eks";
import { CreateRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { DEFAULT_TEMPLATE_PATH } from "../../functions/core/admission.js";
import { createClusterServiceRole, podIdentityTrust } from "../../local/sample-fleet.js";
import { ACCOUNT_ID } from "./local-account.js";

/** Creates a cluster (and the cluster service role on first use). */
export async function createCluster(
  clients: { eks: EKSClient; iam: IAMClient },
  name: string,
  options: { version?: string; tags?: Record<string, string> } = {},
): Promise<string> {
  await createClusterServiceRole(clients.iam);
  const out = await clients.eks.send(
    new CreateClusterCommand({
      name,
      version: options.version ?? "1.31",
      roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/eks-cluster-role`,
      resourcesVpcConfig: { subnetIds: ["subnet-1"] },
      tags: options.tags,
    }),
  );
  return out.cluster?.arn ?? "";
}

/**
 * Creates a role with the given trust policy (Pod Identity trust by default); returns its ARN.
 * A role created with `pod-identity/*` tags lives under the template path unless `path` says
 * otherwise (templates are admitted only there).
 */
export async function createRole(
  iam: IAMClient,
  name: string,
  options: { trust?: string; tags?: Record<string, string>; path?: string } = {},
): Promise<string> {
  const tagged = Object.keys(options.tags ?? {}).some((k) => k.startsWith("pod-identity/"));
  const out = await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      Path: options.path ?? (tagged ? DEFAULT_TEMPLATE_PATH : undefined),
      AssumeRolePolicyDocument: options.trust ?? podIdentityTrust(),
      Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return out.Role?.Arn ?? "";
}
