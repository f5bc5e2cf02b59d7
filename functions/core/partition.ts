/**
 * AWS partitions and where their IAM lives. IAM is global per partition: its endpoint, and the
 * region where its CloudTrail events reach EventBridge, are us-east-1 in `aws`, cn-north-1 in
 * `aws-cn` (Beijing) and us-gov-west-1 in `aws-us-gov` (AWS General Reference, IAM endpoints;
 * CloudTrail "global service events" are delivered in that region).
 */
export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const;
export type Partition = (typeof PARTITIONS)[number];

/** The partition of a region name (cn-north-1 → aws-cn, us-gov-west-1 → aws-us-gov). */
export function partitionOfRegion(region: string): Partition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

const IAM_REGION: Record<Partition, string> = {
  aws: "us-east-1",
  "aws-cn": "cn-north-1",
  "aws-us-gov": "us-gov-west-1",
};

/** The region of a partition's IAM endpoint and of its IAM CloudTrail events. */
export function iamRegionOf(partition: Partition): string {
  return IAM_REGION[partition];
}
