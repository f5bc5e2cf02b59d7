/**
 * The built-in catalog: shared roles for common cluster add-ons, each with the upstream chart's
 * default service account, its policy (AWS managed where one exists, else the upstream
 * project's published policy) and, where it makes one role safe across clusters, conditions on
 * the Pod Identity session tags.
 */

type Statement = Record<string, unknown>;

/** An IAM policy variable for a Pod Identity session tag, e.g. ${aws:PrincipalTag/eks-cluster-name}. */
export function principalTag(key: string): string {
  return "$" + `{aws:PrincipalTag/${key}}`;
}

function allow(
  actions: string[],
  resource: string | string[] = "*",
  condition?: Record<string, unknown>,
): Statement {
  return {
    Effect: "Allow",
    Action: actions,
    Resource: resource,
    ...(condition ? { Condition: condition } : {}),
  };
}

function doc(...statements: Statement[]): Record<string, unknown> {
  return { Version: "2012-10-17", Statement: statements };
}

/** A catalog entry. */
export interface CatalogEntry {
  name: string;
  /** bumped whenever the policy changes; the role is brought up to it */
  version: string;
  namespace: string;
  serviceAccount: string;
  managedPolicyArns: string[];
  inlinePolicy?: Record<string, unknown>;
  /** whether the policy narrows access by Pod Identity session tags (needs session tags on) */
  scopedBySessionTags: boolean;
  description: string;
}

const LB_CLUSTER_TAG = "aws:ResourceTag/elbv2.k8s.aws/cluster";
const ingressOwned = (key: string) => ({ Null: { [`aws:ResourceTag/${key}`]: "false" } });
const tagOnlyOwned = (key: string) => ({
  Null: { [`aws:RequestTag/${key}`]: "true", [`aws:ResourceTag/${key}`]: "false" },
});

// aws-load-balancer-controller: the permissions of the project's published iam_policy.json (v2.7)
const loadBalancerController = doc(
  allow(["iam:CreateServiceLinkedRole"], "*", {
    StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" },
  }),
  allow([
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAddresses",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcPeeringConnections",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeTags",
    "ec2:GetCoipPoolUsage",
    "ec2:DescribeCoipPools",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeSSLPolicies",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTrustStores",
  ]),
  allow([
    "cognito-idp:DescribeUserPoolClient",
    "acm:ListCertificates",
    "acm:DescribeCertificate",
    "iam:ListServerCertificates",
    "iam:GetServerCertificate",
    "waf-regional:GetWebACL",
    "waf-regional:GetWebACLForResource",
    "waf-regional:AssociateWebACL",
    "waf-regional:DisassociateWebACL",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:AssociateWebACL",
    "wafv2:DisassociateWebACL",
    "shield:GetSubscriptionState",
    "shield:DescribeProtection",
    "shield:CreateProtection",
    "shield:DeleteProtection",
  ]),
  allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:CreateSecurityGroup"]),
  allow(["ec2:CreateTags"], "arn:aws:ec2:*:*:security-group/*", {
    StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
    Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
  }),
  allow(
    ["ec2:CreateTags", "ec2:DeleteTags"],
    "arn:aws:ec2:*:*:security-group/*",
    tagOnlyOwned("elbv2.k8s.aws/cluster"),
  ),
  allow(
    ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
    "*",
    ingressOwned("elbv2.k8s.aws/cluster"),
  ),
  allow(["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], "*", {
    Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
  }),
  allow([
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:CreateRule",
    "elasticloadbalancing:DeleteRule",
  ]),
  allow(
    ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    [
      "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
      "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
      "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
    ],
    tagOnlyOwned("elbv2.k8s.aws/cluster"),
  ),
  allow(
    ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    [
      "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*",
      "arn:aws:elasticloadbalancing:*:*:listener/app/*/*/*",
      "arn:aws:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
      "arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
    ],
  ),
  allow(
    [
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetIpAddressType",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
    ],
    "*",
    { Null: { [LB_CLUSTER_TAG]: "false" } },
  ),
  allow(
    ["elasticloadbalancing:AddTags"],
    [
      "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
      "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
      "arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
    ],
    {
      StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
      Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" },
    },
  ),
  allow(
    ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
    "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
  ),
  allow([
    "elasticloadbalancing:SetWebAcl",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:RemoveListenerCertificates",
    "elasticloadbalancing:ModifyRule",
  ]),
);

/** The built-in catalog, by name. */
export const CATALOG: readonly CatalogEntry[] = [
  {
    name: "aws-ebs-csi-driver",
    version: "2024.1",
    namespace: "kube-system",
    serviceAccount: "ebs-csi-controller-sa",
    managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
    scopedBySessionTags: false,
    description: "Amazon EBS CSI driver controller (AWS managed AmazonEBSCSIDriverPolicy)",
  },
  {
    name: "aws-efs-csi-driver",
    version: "2024.1",
    namespace: "kube-system",
    serviceAccount: "efs-csi-controller-sa",
    managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"],
    scopedBySessionTags: false,
    description: "Amazon EFS CSI driver controller (AWS managed AmazonEFSCSIDriverPolicy)",
  },
  {
    name: "aws-load-balancer-controller",
    version: "2.7.1",
    namespace: "kube-system",
    serviceAccount: "aws-load-balancer-controller",
    managedPolicyArns: [],
    inlinePolicy: loadBalancerController,
    scopedBySessionTags: false,
    description: "AWS Load Balancer Controller (the project's published IAM policy)",
  },
  {
    name: "external-dns",
    version: "2024.1",
    namespace: "external-dns",
    serviceAccount: "external-dns",
    managedPolicyArns: [],
    inlinePolicy: doc(
      allow(["route53:ChangeResourceRecordSets"], "arn:aws:route53:::hostedzone/*"),
      allow(["route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResources"]),
    ),
    scopedBySessionTags: false,
    description: "ExternalDNS for Route 53 (the project's documented policy)",
  },
  {
    name: "cert-manager",
    version: "2024.1",
    namespace: "cert-manager",
    serviceAccount: "cert-manager",
    managedPolicyArns: [],
    inlinePolicy: doc(
      allow(["route53:GetChange"], "arn:aws:route53:::change/*"),
      allow(
        ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
        "arn:aws:route53:::hostedzone/*",
      ),
      allow(["route53:ListHostedZonesByName"]),
    ),
    scopedBySessionTags: false,
    description: "cert-manager ACME DNS-01 with Route 53 (the project's documented policy)",
  },
  {
    name: "cluster-autoscaler",
    version: "2024.1",
    namespace: "kube-system",
    serviceAccount: "cluster-autoscaler",
    managedPolicyArns: [],
    inlinePolicy: doc(
      allow(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"], "*", {
        StringEquals: {
          [`aws:ResourceTag/k8s.io/cluster-autoscaler/${principalTag("eks-cluster-name")}`]: "owned",
          "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
        },
      }),
      allow([
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
        "eks:DescribeNodegroup",
      ]),
    ),
    scopedBySessionTags: true,
    description: "Cluster Autoscaler, limited to Auto Scaling groups tagged for the calling cluster",
  },
  {
    name: "amazon-cloudwatch-observability",
    version: "2024.1",
    namespace: "amazon-cloudwatch",
    serviceAccount: "cloudwatch-agent",
    managedPolicyArns: [
      "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
      "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    ],
    scopedBySessionTags: false,
    description:
      "CloudWatch agent and Fluent Bit (AWS managed CloudWatchAgentServerPolicy, AWSXrayWriteOnlyAccess)",
  },
  {
    name: "external-secrets",
    version: "2024.1",
    namespace: "external-secrets",
    serviceAccount: "external-secrets",
    managedPolicyArns: [],
    inlinePolicy: doc(
      allow(
        [
          "secretsmanager:GetSecretValue",
          "secretsmanager:DescribeSecret",
          "secretsmanager:ListSecretVersionIds",
        ],
        "*",
        {
          StringEquals: {
            "secretsmanager:ResourceTag/kubernetes-namespace": principalTag("kubernetes-namespace"),
            "secretsmanager:ResourceTag/eks-cluster-name": principalTag("eks-cluster-name"),
          },
        },
      ),
      allow(["secretsmanager:ListSecrets"]),
    ),
    scopedBySessionTags: true,
    description:
      "External Secrets Operator, limited to secrets tagged with the caller's namespace and cluster",
  },
];

export const CATALOG_BY_NAME: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((e) => [e.name, e]));
export const CATALOG_NAMES: ReadonlySet<string> = new Set(CATALOG.map((e) => e.name));

/** IAM path of every catalog role (the automation's IAM writes are limited to it). */
export const CATALOG_ROLE_PATH = "/pod-identity/";
export const CATALOG_POLICY_NAME = "pod-identity-catalog";

/** The catalog role's name for an entry. */
export function catalogRoleName(name: string): string {
  return `pod-identity-${name}`;
}

/** The catalog role's ARN in an account. */
export function catalogRoleArn(accountId: string, name: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:role${CATALOG_ROLE_PATH}${catalogRoleName(name)}`;
}

/** Trust policy of catalog roles: Pod Identity from this account only. */
export function catalogTrustPolicy(accountId: string): Record<string, unknown> {
  return doc({
    Effect: "Allow",
    Principal: { Service: "pods.eks.amazonaws.com" },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: { StringEquals: { "aws:SourceAccount": accountId } },
  });
}
