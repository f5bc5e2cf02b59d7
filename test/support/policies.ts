/** Trust policy builders for tests. */
export const ACCOUNT = "111122223333";
export const ISSUER_HOST = "oidc.eks.us-east-1.amazonaws.com/id/9CCDD67D4C50D71BF7C5F6F13AFD6E05";
export const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}`;
export const OTHER_HOST = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
export const OTHER_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${OTHER_HOST}`;
export const CLUSTER_ARN = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;

export type Statement = Record<string, unknown>;

export function policy(...statements: Statement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export function podsStatement(extra: Statement = {}): Statement {
  return {
    Effect: "Allow",
    Principal: { Service: "pods.eks.amazonaws.com" },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    ...extra,
  };
}

export function irsaStatement(
  subjects: string | string[] = "system:serviceaccount:demo-ns:demo-sa",
  options: { host?: string; provider?: string; operator?: string; aud?: boolean } = {},
): Statement {
  const host = options.host ?? ISSUER_HOST;
  return {
    Effect: "Allow",
    Principal: { Federated: options.provider ?? `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: {
      [options.operator ?? "StringEquals"]: {
        [`${host}:sub`]: subjects,
        ...(options.aud === false ? {} : { [`${host}:aud`]: "sts.amazonaws.com" }),
      },
    },
  };
}

/** The launch post's (seed 002) trust policy restricted to a cluster, printed verbatim. */
export const SEED_RESTRICTED = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "pods.eks.amazonaws.com"
      },
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession"
      ],
      "Condition": {
        "StringEquals": {
          "aws:SourceAccount": "my-account-number"
        },
        "ArnEquals": {
          "aws:SourceArn": "arn-of-my-eks-cluster"
        }
      }
    }
  ]
}`;

/** Seed 002, figure 7: IRSA and Pod Identity side by side during a migration. */
export const SEED_MIGRATION = policy(irsaStatement(), podsStatement());

/** Seed 002, figure 8: Pod Identity only. */
export const SEED_POD_IDENTITY = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "pods.eks.amazonaws.com"
      },
      "Action": [
        "sts:AssumeRole",
        "sts:TagSession"
      ]
    }
  ]
}`;
