import { CreateAddonCommand, CreateFargateProfileCommand, DescribeClusterCommand } from "@aws-sdk/client-eks";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import type { AwsClients } from "../../functions/aws/clients.js";
import { readAssociations } from "../../functions/aws/inventory.js";
import { irsaTrust } from "../../local/sample-fleet.js";
import { createCluster, createRole } from "./fixtures.js";
import { ACCOUNT_ID } from "./local-account.js";

/** A cluster's OIDC issuer (moto gives every cluster one). */
export async function issuerOf(clients: AwsClients, cluster: string): Promise<string> {
  const out = await clients.eks.send(new DescribeClusterCommand({ name: cluster }));
  return out.cluster?.identity?.oidc?.issuer ?? "";
}

/** Creates an IRSA role trusting `subjects` (ns/sa) of the given clusters' OIDC providers. */
export async function createIrsaRole(
  clients: AwsClients,
  name: string,
  byCluster: Record<string, string[]>,
  operator = "StringEquals",
): Promise<string> {
  const statements = [];
  for (const [cluster, subjects] of Object.entries(byCluster)) {
    const issuer = await issuerOf(clients, cluster);
    const doc = JSON.parse(
      irsaTrust(
        ACCOUNT_ID,
        issuer,
        subjects.map((s) => (s.startsWith("system:") ? s : `system:serviceaccount:${s.replace("/", ":")}`)),
      ),
    ) as {
      Statement: { Condition: Record<string, Record<string, unknown>> }[];
    };
    const statement = doc.Statement[0]!;
    if (operator !== "StringEquals") {
      const block = statement.Condition.StringEquals!;
      const sub = Object.keys(block).find((k) => k.endsWith(":sub"))!;
      statement.Condition[operator] = { [sub]: block[sub] };
      delete block[sub];
    }
    statements.push(statement);
  }
  return await createRole(clients.iam, name, {
    trust: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  });
}

/** A cluster ready for IRSA migrations. */
export async function irsaCluster(clients: AwsClients, name: string, version = "1.31"): Promise<void> {
  await createCluster(clients, name, { version });
}

export async function trustOf(clients: AwsClients, role: string): Promise<string> {
  const out = await clients.iam.send(new GetRoleCommand({ RoleName: role }));
  return decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? "");
}

export async function associationsOf(clients: AwsClients, cluster: string) {
  return (await readAssociations(clients.eks, cluster)).map((a) => ({
    slot: `${a.namespace}/${a.serviceAccount}`,
    role: a.roleArn.split("/").pop(),
    owned: Boolean(a.ownerArn),
  }));
}

export async function fargateProfile(clients: AwsClients, cluster: string, namespace: string): Promise<void> {
  await clients.eks.send(
    new CreateFargateProfileCommand({
      clusterName: cluster,
      fargateProfileName: `fp-${namespace}`,
      podExecutionRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/eks-cluster-role`,
      subnets: ["subnet-1"],
      selectors: [{ namespace }],
    }),
  );
}

export async function addonWithIrsaRole(
  clients: AwsClients,
  cluster: string,
  addonName: string,
  roleArn: string,
): Promise<void> {
  await clients.eks.send(
    new CreateAddonCommand({ clusterName: cluster, addonName, serviceAccountRoleArn: roleArn }),
  );
}
