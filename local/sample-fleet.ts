import { CreateClusterCommand, DescribeClusterCommand, type EKSClient } from "@aws-sdk/client-eks";
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { DEFAULT_TEMPLATE_PATH } from "../functions/core/admission.js";

/** Trust policy of a role that only EKS Pod Identity may assume. */
export function podIdentityTrust(accountId?: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        ...(accountId ? { Condition: { StringEquals: { "aws:SourceAccount": accountId } } } : {}),
      },
    ],
  });
}

/** IRSA trust policy for one cluster's OIDC provider and service accounts. */
export function irsaTrust(accountId: string, issuer: string, subjects: string[]): string {
  const host = issuer.replace(/^https:\/\//, "");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${accountId}:oidc-provider/${host}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${host}:aud`]: "sts.amazonaws.com",
            [`${host}:sub`]: subjects.length === 1 ? subjects[0] : subjects,
          },
        },
      },
    ],
  });
}

/** The EKS cluster service role clusters are created with (`eks-cluster-role`); exists already is fine. */
export async function createClusterServiceRole(iam: IAMClient): Promise<void> {
  try {
    await iam.send(
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
}

/** A cluster of the sample fleet. */
export interface SampleCluster {
  name: string;
  version: string;
  tags: Record<string, string>;
}

export const SAMPLE_CLUSTERS: SampleCluster[] = [
  {
    name: "payments-prod",
    version: "1.31",
    tags: {
      env: "prod",
      team: "payments",
      "pod-identity-scope/team": "payments",
      "pod-identity-scope/env": "prod",
      "pod-identity/templates": "external-dns aws-load-balancer-controller",
      "pod-identity/route53-zones": "Z0PAYMENTSPROD1",
    },
  },
  {
    name: "payments-staging",
    version: "1.30",
    tags: {
      env: "staging",
      team: "payments",
      "pod-identity-scope/team": "payments",
      "pod-identity-scope/env": "staging",
    },
  },
  {
    name: "legacy-batch",
    version: "1.29",
    tags: { env: "prod", team: "data", "pod-identity/opt-out": "true" },
  },
];

/** Template roles live under the template path the stack admits (DEFAULT_TEMPLATE_PATH). */
export const SAMPLE_TEMPLATES: { name: string; tags: Record<string, string> }[] = [
  {
    name: "orders-api",
    tags: {
      "pod-identity/bind": "orders/orders-api orders/orders-worker",
      // tag: terms match only keys under the prefix the operator protects (pod-identity-scope/)
      "pod-identity/clusters": "tag:pod-identity-scope/team=payments",
    },
  },
  {
    name: "metrics-reader",
    tags: {
      "pod-identity/bind": "monitoring/prometheus",
      "pod-identity/clusters": "prefix:payments-",
      "pod-identity/session-tags": "enabled",
    },
  },
];

export const SAMPLE_IRSA_ROLE = {
  name: "reports-s3-reader",
  cluster: "payments-staging",
  subject: "reports/s3-reader",
};

/**
 * Seeds the sample fleet of the demo: three clusters with tags, two template roles, and one IRSA
 * role trusting the OIDC provider of payments-staging.
 */
export async function seedSampleFleet(
  clients: { eks: EKSClient; iam: IAMClient },
  accountId: string,
): Promise<void> {
  await createClusterServiceRole(clients.iam);

  for (const cluster of SAMPLE_CLUSTERS) {
    await clients.eks.send(
      new CreateClusterCommand({
        name: cluster.name,
        version: cluster.version,
        roleArn: `arn:aws:iam::${accountId}:role/eks-cluster-role`,
        resourcesVpcConfig: { subnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] },
        tags: cluster.tags,
      }),
    );
  }
  for (const template of SAMPLE_TEMPLATES) {
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: template.name,
        Path: DEFAULT_TEMPLATE_PATH,
        AssumeRolePolicyDocument: podIdentityTrust(accountId),
        Tags: Object.entries(template.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  const staging = await clients.eks.send(new DescribeClusterCommand({ name: SAMPLE_IRSA_ROLE.cluster }));
  const issuer = staging.cluster?.identity?.oidc?.issuer ?? "";
  await clients.iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: issuer,
      ClientIDList: ["sts.amazonaws.com"],
      ThumbprintList: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    }),
  );
  const [ns, sa] = SAMPLE_IRSA_ROLE.subject.split("/");
  await clients.iam.send(
    new CreateRoleCommand({
      RoleName: SAMPLE_IRSA_ROLE.name,
      AssumeRolePolicyDocument: irsaTrust(accountId, issuer, [`system:serviceaccount:${ns}:${sa}`]),
    }),
  );
}
