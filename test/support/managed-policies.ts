/**
 * Transcriptions of the AWS managed policies the catalog attaches, for the simulation tests
 * only. AWS owns and changes these documents; each one here was transcribed from its AWS managed
 * policy reference page (docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html,
 * read 2026-11) and keeps only the statements the scenarios touch. For
 * AmazonEBSCSIDriverEKSClusterScopedPolicy the page's full document was not available offline:
 * its statements below follow the page's description (volumes and snapshots need
 * ebs.csi.aws.com/cluster-name = the caller's eks-cluster-name; instances need eks:cluster-name
 * or ebs.csi.aws.com/cluster-name).
 */
import { principalTag } from "../../functions/core/catalog.js";

const principalName = principalTag("eks-cluster-name");

export const MANAGED_POLICY_DOCUMENTS: Record<string, unknown> = {
  "arn:aws:iam::aws:policy/AmazonEBSCSIDriverEKSClusterScopedPolicy": {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadOnlyDescribeOperations",
        Effect: "Allow",
        Action: [
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInstances",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeSnapshots",
          "ec2:DescribeVolumes",
          "ec2:DescribeVolumesModifications",
          "ec2:DescribeVolumeStatus",
        ],
        Resource: "*",
      },
      {
        Sid: "CreateAndCopyVolumesWithClusterTag",
        Effect: "Allow",
        Action: ["ec2:CreateVolume", "ec2:CopyVolumes"],
        Resource: "arn:aws:ec2:*:*:volume/*",
        Condition: { StringEquals: { "aws:RequestTag/ebs.csi.aws.com/cluster-name": principalName } },
      },
      {
        Sid: "ManageClusterVolumesAndSnapshots",
        Effect: "Allow",
        Action: [
          "ec2:AttachVolume",
          "ec2:DetachVolume",
          "ec2:ModifyVolume",
          "ec2:DeleteVolume",
          "ec2:CreateSnapshot",
          "ec2:DeleteSnapshot",
        ],
        Resource: ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*::snapshot/*"],
        Condition: { StringEquals: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": principalName } },
      },
      {
        Sid: "AttachToClusterInstances",
        Effect: "Allow",
        Action: ["ec2:AttachVolume", "ec2:DetachVolume"],
        Resource: "arn:aws:ec2:*:*:instance/*",
        Condition: { StringEquals: { "aws:ResourceTag/eks:cluster-name": principalName } },
      },
      {
        Sid: "AttachToTaggedInstances",
        Effect: "Allow",
        Action: ["ec2:AttachVolume", "ec2:DetachVolume"],
        Resource: "arn:aws:ec2:*:*:instance/*",
        Condition: { StringEquals: { "aws:ResourceTag/ebs.csi.aws.com/cluster-name": principalName } },
      },
    ],
  },
  "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "elasticfilesystem:DescribeAccessPoints",
          "elasticfilesystem:DescribeFileSystems",
          "elasticfilesystem:DescribeMountTargets",
          "ec2:DescribeAvailabilityZones",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: "elasticfilesystem:CreateAccessPoint",
        Resource: "*",
        Condition: { StringLike: { "aws:RequestTag/efs.csi.aws.com/cluster": "true" } },
      },
      {
        Effect: "Allow",
        Action: "elasticfilesystem:TagResource",
        Resource: "*",
        Condition: { StringLike: { "aws:ResourceTag/efs.csi.aws.com/cluster": "true" } },
      },
      {
        Effect: "Allow",
        Action: "elasticfilesystem:DeleteAccessPoint",
        Resource: "*",
        Condition: { StringEquals: { "aws:ResourceTag/efs.csi.aws.com/cluster": "true" } },
      },
    ],
  },
  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "ec2:AssignPrivateIpAddresses",
          "ec2:AttachNetworkInterface",
          "ec2:CreateNetworkInterface",
          "ec2:DeleteNetworkInterface",
          "ec2:DescribeInstances",
          "ec2:DescribeTags",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeSubnets",
          "ec2:DetachNetworkInterface",
          "ec2:ModifyNetworkInterfaceAttribute",
          "ec2:UnassignPrivateIpAddresses",
        ],
        Resource: "*",
      },
      { Effect: "Allow", Action: "ec2:CreateTags", Resource: "arn:aws:ec2:*:*:network-interface/*" },
    ],
  },
  "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess": {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "aps:RemoteWrite", Resource: "*" }],
  },
  "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "cloudwatch:PutMetricData",
          "ec2:DescribeVolumes",
          "ec2:DescribeTags",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
          "logs:DescribeLogGroups",
          "logs:CreateLogStream",
          "logs:CreateLogGroup",
          "logs:PutRetentionPolicy",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: "ssm:GetParameter",
        Resource: "arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*",
      },
    ],
  },
  "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "xray:PutTraceSegments",
          "xray:PutTelemetryRecords",
          "xray:GetSamplingRules",
          "xray:GetSamplingTargets",
          "xray:GetSamplingStatisticSummaries",
        ],
        Resource: "*",
      },
    ],
  },
};
