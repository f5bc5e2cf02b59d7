/**
 * Every catalog entry's policy, as the automation writes it for an account where clusters
 * "alpha" and "beta" both use the entry, evaluated with the IAM evaluator: what alpha's
 * controller must be allowed (its own resources, with the session tags Pod Identity sends for
 * alpha) and must be denied (beta's resources, resources of no cluster). The permissions
 * boundary of catalog roles is applied too, so the boundary is proven not to break an entry.
 */
import { describe, expect, it } from "vitest";
import { CATALOG, CATALOG_BY_NAME, type CatalogEntry } from "../../../functions/core/catalog.js";
import { catalogBoundaryPolicy } from "../../../functions/core/catalog-boundary.js";
import { renderCatalogPolicy, wantedClusterGrants } from "../../../functions/core/catalog-policy.js";
import { checkPolicy, evaluateAccess } from "../../../functions/core/iam/index.js";
import { MANAGED_POLICY_DOCUMENTS } from "../../support/managed-policies.js";

const ACCOUNT = "111122223333";
const region = "eu-west-1";
const cluster = (name: string) => ({
  name,
  arn: `arn:aws:eks:${region}:${ACCOUNT}:cluster/${name}`,
  tags: {
    "pod-identity/route53-zones": name === "alpha" ? "Z0ALPHA1 Z0SHARED" : "Z0BETA1",
    "pod-identity/s3-buckets": `${name}-data`,
    "pod-identity/velero-bucket": `${name}-backups`,
    "pod-identity/nth-queue": `arn:aws:sqs:${region}:${ACCOUNT}:${name}-nth`,
  },
});
const ALPHA = cluster("alpha");
const BETA = cluster("beta");

/** The policies of an entry's role: rendered inline policy plus the managed ones. */
function policiesOf(entry: CatalogEntry): unknown[] {
  const { grants } = wantedClusterGrants(entry, [ALPHA, BETA], ACCOUNT, "aws");
  const inline = renderCatalogPolicy(entry, { accountId: ACCOUNT, partition: "aws", grants });
  const managed = entry.managedPolicyArns.map((arn) => {
    const doc = MANAGED_POLICY_DOCUMENTS[arn];
    if (!doc) throw new Error(`no transcription of ${arn}`);
    return doc;
  });
  return [...(inline ? [inline] : []), ...managed];
}

/** Session tags Pod Identity sends for a pod of alpha with the entry's service account. */
function session(entry: CatalogEntry, c = ALPHA) {
  return {
    "aws:PrincipalTag/eks-cluster-name": c.name,
    "aws:PrincipalTag/eks-cluster-arn": c.arn,
    "aws:PrincipalTag/kubernetes-namespace": entry.namespace,
    "aws:PrincipalTag/kubernetes-service-account": entry.serviceAccount,
    "aws:PrincipalTag/kubernetes-pod-name": "controller-0",
    "aws:PrincipalTag/kubernetes-pod-uid": "0c7a…",
  };
}

interface Scenario {
  what: string;
  action: string;
  resource?: string;
  context?: Record<string, string | string[]>;
  allowed: boolean;
}

const ec2 = (type: string, id: string) => `arn:aws:ec2:${region}:${ACCOUNT}:${type}/${id}`;
const elb = (path: string) => `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:${path}`;
const asg = `arn:aws:autoscaling:${region}:${ACCOUNT}:autoScalingGroup:1234:autoScalingGroupName/ng-1`;
const LB_TAG = "aws:ResourceTag/elbv2.k8s.aws/cluster";
const zone = (id: string) => `arn:aws:route53:::hostedzone/${id}`;

const SCENARIOS: Record<string, Scenario[]> = {
  "aws-load-balancer-controller": [
    {
      what: "describe listener attributes (v2.9+)",
      action: "elasticloadbalancing:DescribeListenerAttributes",
      allowed: true,
    },
    { what: "security groups for a VPC (v2.10+)", action: "ec2:GetSecurityGroupsForVpc", allowed: true },
    {
      what: "create its own security group",
      action: "ec2:CreateSecurityGroup",
      resource: ec2("security-group", "*"),
      context: { "aws:RequestTag/elbv2.k8s.aws/cluster": "alpha" },
      allowed: true,
    },
    {
      what: "create a security group tagged for beta",
      action: "ec2:CreateSecurityGroup",
      resource: ec2("security-group", "*"),
      context: { "aws:RequestTag/elbv2.k8s.aws/cluster": "beta" },
      allowed: false,
    },
    {
      what: "create an untagged security group",
      action: "ec2:CreateSecurityGroup",
      resource: ec2("security-group", "*"),
      allowed: false,
    },
    {
      what: "tag its security group at creation",
      action: "ec2:CreateTags",
      resource: ec2("security-group", "sg-a"),
      context: { "ec2:CreateAction": "CreateSecurityGroup", "aws:RequestTag/elbv2.k8s.aws/cluster": "alpha" },
      allowed: true,
    },
    {
      what: "open its own security group",
      action: "ec2:AuthorizeSecurityGroupIngress",
      resource: ec2("security-group", "sg-a"),
      context: { [LB_TAG]: "alpha" },
      allowed: true,
    },
    {
      what: "backend rule on alpha's EKS cluster security group",
      action: "ec2:AuthorizeSecurityGroupIngress",
      resource: ec2("security-group", "sg-c"),
      context: { "aws:ResourceTag/aws:eks:cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "open beta's security group",
      action: "ec2:AuthorizeSecurityGroupIngress",
      resource: ec2("security-group", "sg-b"),
      context: { [LB_TAG]: "beta" },
      allowed: false,
    },
    {
      what: "open a database's untagged security group",
      action: "ec2:AuthorizeSecurityGroupIngress",
      resource: ec2("security-group", "sg-db"),
      allowed: false,
    },
    {
      what: "delete beta's security group",
      action: "ec2:DeleteSecurityGroup",
      resource: ec2("security-group", "sg-b"),
      context: { [LB_TAG]: "beta" },
      allowed: false,
    },
    {
      what: "create its load balancer",
      action: "elasticloadbalancing:CreateLoadBalancer",
      resource: elb("loadbalancer/app/k8s-a/1"),
      context: { "aws:RequestTag/elbv2.k8s.aws/cluster": "alpha" },
      allowed: true,
    },
    {
      what: "create an untagged load balancer",
      action: "elasticloadbalancing:CreateLoadBalancer",
      resource: elb("loadbalancer/app/x/1"),
      allowed: false,
    },
    {
      what: "tag its load balancer at creation",
      action: "elasticloadbalancing:AddTags",
      resource: elb("loadbalancer/app/k8s-a/1"),
      context: {
        "elasticloadbalancing:CreateAction": "CreateLoadBalancer",
        "aws:RequestTag/elbv2.k8s.aws/cluster": "alpha",
      },
      allowed: true,
    },
    {
      what: "delete its load balancer",
      action: "elasticloadbalancing:DeleteLoadBalancer",
      resource: elb("loadbalancer/app/k8s-a/1"),
      context: { [LB_TAG]: "alpha" },
      allowed: true,
    },
    {
      what: "delete beta's load balancer",
      action: "elasticloadbalancing:DeleteLoadBalancer",
      resource: elb("loadbalancer/app/k8s-b/2"),
      context: { [LB_TAG]: "beta" },
      allowed: false,
    },
    {
      what: "retag beta's load balancer",
      action: "elasticloadbalancing:RemoveTags",
      resource: elb("loadbalancer/app/k8s-b/2"),
      context: { [LB_TAG]: "beta" },
      allowed: false,
    },
    {
      what: "modify listener attributes of its listener",
      action: "elasticloadbalancing:ModifyListenerAttributes",
      resource: elb("listener/app/k8s-a/1/3"),
      context: { [LB_TAG]: "alpha" },
      allowed: true,
    },
    {
      what: "register targets in its target group",
      action: "elasticloadbalancing:RegisterTargets",
      resource: elb("targetgroup/k8s-a/9"),
      context: { [LB_TAG]: "alpha" },
      allowed: true,
    },
    {
      what: "register targets in beta's target group",
      action: "elasticloadbalancing:RegisterTargets",
      resource: elb("targetgroup/k8s-b/8"),
      context: { [LB_TAG]: "beta" },
      allowed: false,
    },
    {
      what: "register targets in an untagged target group",
      action: "elasticloadbalancing:RegisterTargets",
      resource: elb("targetgroup/other/7"),
      allowed: false,
    },
  ],
  "external-dns": [
    {
      what: "change records in a zone alpha's tag lists",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0ALPHA1"),
      allowed: true,
    },
    {
      what: "change records in alpha's second zone",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0SHARED"),
      allowed: true,
    },
    {
      what: "change records in beta's zone",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0BETA1"),
      allowed: false,
    },
    {
      what: "change records in a zone no cluster lists",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0PAYROLL"),
      allowed: false,
    },
    { what: "list zones", action: "route53:ListHostedZones", allowed: true },
  ],
  "cert-manager": [
    {
      what: "write an ACME challenge TXT record in its zone",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0ALPHA1"),
      context: {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.app.alpha.example.com"],
        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
      },
      allowed: true,
    },
    {
      what: "write an A record in its zone",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0ALPHA1"),
      context: {
        "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["www.example.com"],
      },
      allowed: false,
    },
    {
      what: "write a TXT record that is no ACME challenge",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0ALPHA1"),
      context: {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["example.com"],
      },
      allowed: false,
    },
    {
      what: "write an ACME challenge in beta's zone",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0BETA1"),
      context: {
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.b.example.com"],
      },
      allowed: false,
    },
    {
      what: "poll a change",
      action: "route53:GetChange",
      resource: "arn:aws:route53:::change/C123",
      allowed: true,
    },
  ],
  "cluster-autoscaler": [
    {
      what: "scale alpha's managed node group",
      action: "autoscaling:SetDesiredCapacity",
      resource: asg,
      context: {
        "aws:ResourceTag/eks:cluster-name": "alpha",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
      },
      allowed: true,
    },
    {
      what: "terminate in alpha's group",
      action: "autoscaling:TerminateInstanceInAutoScalingGroup",
      resource: asg,
      context: {
        "aws:ResourceTag/eks:cluster-name": "alpha",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
      },
      allowed: true,
    },
    {
      what: "scale beta's group",
      action: "autoscaling:SetDesiredCapacity",
      resource: asg,
      context: {
        "aws:ResourceTag/eks:cluster-name": "beta",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
      },
      allowed: false,
    },
    {
      what: "scale a group with autoscaling disabled",
      action: "autoscaling:SetDesiredCapacity",
      resource: asg,
      context: { "aws:ResourceTag/eks:cluster-name": "alpha" },
      allowed: false,
    },
    { what: "describe groups", action: "autoscaling:DescribeAutoScalingGroups", allowed: true },
  ],
  "external-secrets": [
    {
      what: "read a secret tagged with alpha's ARN",
      action: "secretsmanager:GetSecretValue",
      resource: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:app-AbC`,
      context: { "secretsmanager:ResourceTag/eks-cluster-arn": ALPHA.arn },
      allowed: true,
    },
    { what: "batch read (dataFrom.find)", action: "secretsmanager:BatchGetSecretValue", allowed: true },
    {
      what: "read beta's secret",
      action: "secretsmanager:GetSecretValue",
      resource: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:b-XyZ`,
      context: { "secretsmanager:ResourceTag/eks-cluster-arn": BETA.arn },
      allowed: false,
    },
    {
      what: "read a secret of a same-named cluster in another region",
      action: "secretsmanager:GetSecretValue",
      resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:x-1`,
      context: {
        "secretsmanager:ResourceTag/eks-cluster-arn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/alpha`,
        "secretsmanager:ResourceTag/eks-cluster-name": "alpha",
      },
      allowed: false,
    },
    {
      what: "read an untagged secret",
      action: "secretsmanager:GetSecretValue",
      resource: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:db-1`,
      allowed: false,
    },
  ],
  "aws-ebs-csi-driver": [
    {
      what: "create a volume tagged for alpha",
      action: "ec2:CreateVolume",
      resource: ec2("volume", "*"),
      context: { "aws:RequestTag/ebs.csi.aws.com/cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "create a volume tagged for beta",
      action: "ec2:CreateVolume",
      resource: ec2("volume", "*"),
      context: { "aws:RequestTag/ebs.csi.aws.com/cluster-name": "beta" },
      allowed: false,
    },
    {
      what: "attach alpha's volume",
      action: "ec2:AttachVolume",
      resource: ec2("volume", "vol-a"),
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "to an instance of alpha's managed node group",
      action: "ec2:AttachVolume",
      resource: ec2("instance", "i-a"),
      context: { "aws:ResourceTag/eks:cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "attach beta's volume",
      action: "ec2:AttachVolume",
      resource: ec2("volume", "vol-b"),
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "beta" },
      allowed: false,
    },
    {
      what: "detach from beta's instance",
      action: "ec2:DetachVolume",
      resource: ec2("instance", "i-b"),
      context: { "aws:ResourceTag/eks:cluster-name": "beta" },
      allowed: false,
    },
    {
      what: "snapshot an untagged volume",
      action: "ec2:CreateSnapshot",
      resource: ec2("volume", "vol-db"),
      allowed: false,
    },
  ],
  "aws-efs-csi-driver": [
    { what: "describe file systems", action: "elasticfilesystem:DescribeFileSystems", allowed: true },
    {
      what: "create a CSI access point",
      action: "elasticfilesystem:CreateAccessPoint",
      context: { "aws:RequestTag/efs.csi.aws.com/cluster": "true" },
      allowed: true,
    },
    {
      what: "create an untagged access point",
      action: "elasticfilesystem:CreateAccessPoint",
      allowed: false,
    },
    {
      what: "delete an access point the driver did not create",
      action: "elasticfilesystem:DeleteAccessPoint",
      allowed: false,
    },
  ],
  "amazon-cloudwatch-observability": [
    { what: "put log events", action: "logs:PutLogEvents", allowed: true },
    { what: "put traces", action: "xray:PutTraceSegments", allowed: true },
    { what: "create an IAM role", action: "iam:CreateRole", allowed: false },
  ],
  karpenter: [
    {
      what: "launch an instance tagged for alpha",
      action: "ec2:RunInstances",
      resource: ec2("instance", "*"),
      context: {
        "aws:RequestTag/eks:eks-cluster-name": "alpha",
        "aws:RequestTag/karpenter.sh/nodepool": "default",
      },
      allowed: true,
    },
    {
      what: "launch an instance tagged for beta",
      action: "ec2:RunInstances",
      resource: ec2("instance", "*"),
      context: {
        "aws:RequestTag/eks:eks-cluster-name": "beta",
        "aws:RequestTag/karpenter.sh/nodepool": "default",
      },
      allowed: false,
    },
    {
      what: "from alpha's launch template",
      action: "ec2:RunInstances",
      resource: ec2("launch-template", "lt-a"),
      context: {
        "aws:ResourceTag/eks:eks-cluster-name": "alpha",
        "aws:ResourceTag/karpenter.sh/nodepool": "default",
      },
      allowed: true,
    },
    {
      what: "terminate alpha's node",
      action: "ec2:TerminateInstances",
      resource: ec2("instance", "i-a"),
      context: {
        "aws:ResourceTag/eks:eks-cluster-name": "alpha",
        "aws:ResourceTag/karpenter.sh/nodepool": "default",
      },
      allowed: true,
    },
    {
      what: "terminate beta's node",
      action: "ec2:TerminateInstances",
      resource: ec2("instance", "i-b"),
      context: {
        "aws:ResourceTag/eks:eks-cluster-name": "beta",
        "aws:ResourceTag/karpenter.sh/nodepool": "default",
      },
      allowed: false,
    },
    {
      what: "terminate an instance Karpenter does not own",
      action: "ec2:TerminateInstances",
      resource: ec2("instance", "i-db"),
      allowed: false,
    },
    {
      what: "pass alpha's node role to EC2",
      action: "iam:PassRole",
      resource: `arn:aws:iam::${ACCOUNT}:role/KarpenterNodeRole-alpha`,
      context: { "iam:PassedToService": "ec2.amazonaws.com" },
      allowed: true,
    },
    {
      what: "pass beta's node role",
      action: "iam:PassRole",
      resource: `arn:aws:iam::${ACCOUNT}:role/KarpenterNodeRole-beta`,
      context: { "iam:PassedToService": "ec2.amazonaws.com" },
      allowed: false,
    },
    {
      what: "pass an admin role",
      action: "iam:PassRole",
      resource: `arn:aws:iam::${ACCOUNT}:role/Admin`,
      context: { "iam:PassedToService": "ec2.amazonaws.com" },
      allowed: false,
    },
    { what: "describe its cluster", action: "eks:DescribeCluster", resource: ALPHA.arn, allowed: true },
    { what: "describe beta", action: "eks:DescribeCluster", resource: BETA.arn, allowed: false },
    {
      what: "read its interruption queue",
      action: "sqs:ReceiveMessage",
      resource: `arn:aws:sqs:${region}:${ACCOUNT}:alpha`,
      allowed: true,
    },
    {
      what: "read beta's interruption queue",
      action: "sqs:ReceiveMessage",
      resource: `arn:aws:sqs:${region}:${ACCOUNT}:beta`,
      allowed: false,
    },
    {
      what: "create its instance profile",
      action: "iam:CreateInstanceProfile",
      resource: `arn:aws:iam::${ACCOUNT}:instance-profile/alpha_1`,
      context: {
        "aws:RequestTag/eks:eks-cluster-name": "alpha",
        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "default",
      },
      allowed: true,
    },
    {
      what: "add a role to beta's instance profile",
      action: "iam:AddRoleToInstanceProfile",
      resource: `arn:aws:iam::${ACCOUNT}:instance-profile/beta_1`,
      context: {
        "aws:ResourceTag/eks:eks-cluster-name": "beta",
        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "default",
      },
      allowed: false,
    },
  ],
  "aws-vpc-cni": [
    {
      what: "assign private IPs",
      action: "ec2:AssignPrivateIpAddresses",
      resource: ec2("network-interface", "eni-1"),
      allowed: true,
    },
    {
      what: "change DNS",
      action: "route53:ChangeResourceRecordSets",
      resource: zone("Z0ALPHA1"),
      allowed: false,
    },
  ],
  "aws-vpc-cni-ipv6": [
    {
      what: "assign IPv6 addresses",
      action: "ec2:AssignIpv6Addresses",
      resource: ec2("network-interface", "eni-1"),
      allowed: true,
    },
    {
      what: "tag a network interface",
      action: "ec2:CreateTags",
      resource: ec2("network-interface", "eni-1"),
      allowed: true,
    },
    {
      what: "assign IPv4 addresses (not in the IPv6 policy)",
      action: "ec2:AssignPrivateIpAddresses",
      resource: ec2("network-interface", "eni-1"),
      allowed: false,
    },
    { what: "tag an instance", action: "ec2:CreateTags", resource: ec2("instance", "i-a"), allowed: false },
  ],
  "aws-mountpoint-s3-csi-driver": [
    {
      what: "list alpha's bucket",
      action: "s3:ListBucket",
      resource: "arn:aws:s3:::alpha-data",
      allowed: true,
    },
    {
      what: "read alpha's objects",
      action: "s3:GetObject",
      resource: "arn:aws:s3:::alpha-data/a/b",
      allowed: true,
    },
    {
      what: "read beta's objects",
      action: "s3:GetObject",
      resource: "arn:aws:s3:::beta-data/a/b",
      allowed: false,
    },
    {
      what: "read a bucket no cluster lists",
      action: "s3:GetObject",
      resource: "arn:aws:s3:::payroll/x",
      allowed: false,
    },
  ],
  velero: [
    {
      what: "write a backup into alpha's bucket",
      action: "s3:PutObject",
      resource: "arn:aws:s3:::alpha-backups/backups/b1/x.tar.gz",
      allowed: true,
    },
    {
      what: "write into beta's bucket",
      action: "s3:PutObject",
      resource: "arn:aws:s3:::beta-backups/x",
      allowed: false,
    },
    {
      what: "snapshot alpha's volume",
      action: "ec2:CreateSnapshot",
      resource: ec2("volume", "vol-a"),
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "and create the snapshot with alpha's tag",
      action: "ec2:CreateSnapshot",
      resource: "arn:aws:ec2:eu-west-1::snapshot/*",
      context: { "aws:RequestTag/ebs.csi.aws.com/cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "snapshot beta's volume",
      action: "ec2:CreateSnapshot",
      resource: ec2("volume", "vol-b"),
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "beta" },
      allowed: false,
    },
    {
      what: "delete alpha's snapshot",
      action: "ec2:DeleteSnapshot",
      resource: "arn:aws:ec2:eu-west-1::snapshot/snap-a",
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "delete beta's snapshot",
      action: "ec2:DeleteSnapshot",
      resource: "arn:aws:ec2:eu-west-1::snapshot/snap-b",
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "beta" },
      allowed: false,
    },
    {
      what: "restore a volume from beta's snapshot",
      action: "ec2:CreateVolume",
      resource: "arn:aws:ec2:eu-west-1::snapshot/snap-b",
      context: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": "beta" },
      allowed: false,
    },
  ],
  "amazon-managed-prometheus": [
    {
      what: "remote write",
      action: "aps:RemoteWrite",
      resource: `arn:aws:aps:${region}:${ACCOUNT}:workspace/ws-1`,
      allowed: true,
    },
    {
      what: "delete a workspace",
      action: "aps:DeleteWorkspace",
      resource: `arn:aws:aps:${region}:${ACCOUNT}:workspace/ws-1`,
      allowed: false,
    },
  ],
  "aws-node-termination-handler": [
    {
      what: "receive from its queue",
      action: "sqs:ReceiveMessage",
      resource: `arn:aws:sqs:${region}:${ACCOUNT}:alpha-nth`,
      allowed: true,
    },
    {
      what: "receive from beta's queue",
      action: "sqs:ReceiveMessage",
      resource: `arn:aws:sqs:${region}:${ACCOUNT}:beta-nth`,
      allowed: false,
    },
    {
      what: "complete a lifecycle action in alpha's group",
      action: "autoscaling:CompleteLifecycleAction",
      resource: asg,
      context: { "aws:ResourceTag/eks:cluster-name": "alpha" },
      allowed: true,
    },
    {
      what: "complete a lifecycle action in beta's group",
      action: "autoscaling:CompleteLifecycleAction",
      resource: asg,
      context: { "aws:ResourceTag/eks:cluster-name": "beta" },
      allowed: false,
    },
  ],
};

describe("catalog policies, simulated", () => {
  it("covers every entry with at least one allowed and one denied scenario", () => {
    for (const entry of CATALOG) {
      const scenarios = SCENARIOS[entry.name] ?? [];
      expect(
        scenarios.some((s) => s.allowed),
        entry.name,
      ).toBe(true);
      expect(
        scenarios.some((s) => !s.allowed),
        entry.name,
      ).toBe(true);
    }
    expect(Object.keys(SCENARIOS).sort()).toEqual(CATALOG.map((e) => e.name).sort());
  });

  for (const entry of CATALOG) {
    describe(entry.name, () => {
      const policies = policiesOf(entry);
      const boundary = [catalogBoundaryPolicy()];
      for (const s of SCENARIOS[entry.name] ?? []) {
        it(`${s.allowed ? "allows" : "denies"} alpha's controller to ${s.what}`, () => {
          // Prepare
          const request = {
            action: s.action,
            resource: s.resource ?? "*",
            context: { ...session(entry), ...s.context },
          };
          // Act
          const decision = evaluateAccess(policies, request, { boundary });
          // Assess
          expect(decision.decision === "allowed", JSON.stringify(decision)).toBe(s.allowed);
          expect(decision.warnings).toEqual([]);
        });
      }
      it("uses policy variables only where IAM substitutes them", () => {
        for (const p of policies) expect(checkPolicy(p)).toEqual([]);
      });
    });
  }
});

describe("the previous catalog's cluster-autoscaler policy (regression)", () => {
  it("could never scale: its variable sits in a condition key", async () => {
    // Prepare
    const { catalogVersion } = await import("../../../functions/core/catalog-history.js");
    const old = catalogVersion(CATALOG_BY_NAME.get("cluster-autoscaler")!, "2024.1")!;
    const context = {
      ...session(CATALOG_BY_NAME.get("cluster-autoscaler")!),
      "aws:ResourceTag/k8s.io/cluster-autoscaler/alpha": "owned",
      "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
    };
    // Act
    const decision = evaluateAccess([old.policy], {
      action: "autoscaling:SetDesiredCapacity",
      resource: asg,
      context,
    });
    // Assess
    expect(decision.decision).toBe("implicitDeny");
    expect(checkPolicy(old.policy).map((f) => f.code)).toContain("VARIABLE_IN_CONDITION_KEY");
  });
});
