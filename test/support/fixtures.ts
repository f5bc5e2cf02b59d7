import { CreateClusterCommand, type EKSClient } from "@aws-sdk/client-eks";
import { CreateRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { podIdentityTrust } from "../../local/sample-fleet.js";
import { ACCOUNT_ID } from "./local-account.js";

/** Creates a cluster (and the cluster service role on first use). */
export async function createCluster(
  clients: { eks: EKSClient; iam: IAMClient },
  name: string,
  options: { version?: string; tags?: Record<string, string> } = {},
): Promise<string> {
  try {
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: "eks-cluster-role",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    );
  } catch (error) {
    if ((error as Error).name !== "EntityAlreadyExistsException") throw error;
  }
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

/** Creates a role with the given trust policy (Pod Identity trust by default); returns its ARN. */
export async function createRole(
  iam: IAMClient,
  name: string,
  options: { trust?: string; tags?: Record<string, string>; path?: string } = {},
): Promise<string> {
  const out = await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      Path: options.path,
      AssumeRolePolicyDocument: options.trust ?? podIdentityTrust(),
      Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return out.Role?.Arn ?? "";
}
