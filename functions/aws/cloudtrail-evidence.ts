import { type CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { z } from "zod";
import type { CredentialUse } from "../core/migration/finalize.js";
import type { EvidencePort } from "../migration/ports.js";

const cloudTrailRecord = z
  .object({
    errorCode: z.unknown().optional(),
    eventTime: z.string().optional(),
    userIdentity: z
      .object({
        identityProvider: z.unknown().optional(),
        userName: z.unknown().optional(),
        invokedBy: z.unknown().optional(),
      })
      .loose()
      .optional(),
    requestParameters: z
      .object({
        roleArn: z.string().optional(),
        clusterName: z.unknown().optional(),
        tags: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
      })
      .loose()
      .nullish(),
    responseElements: z
      .object({
        subject: z.object({ namespace: z.unknown(), serviceAccount: z.unknown() }).loose().optional(),
        assumedRoleUser: z.object({ arn: z.string().optional() }).loose().optional(),
      })
      .loose()
      .nullish(),
    resources: z.array(z.object({ ARN: z.string().optional() }).loose()).optional(),
  })
  .loose();

/**
 * Reads one CloudTrail record (the `CloudTrailEvent` JSON of a LookupEvents result) as a
 * credential use. Shapes: STS AssumeRoleWithWebIdentity records carry
 * `userIdentity.{type: "WebIdentityUser", identityProvider, userName}` and
 * `requestParameters.roleArn`; EKS Auth AssumeRoleForPodIdentity records carry
 * `requestParameters.clusterName` and no response elements; the STS AssumeRole it makes as
 * `pods.eks.amazonaws.com` (userIdentity.invokedBy) carries the role and the pod's session tags
 * (`requestParameters.tags`: eks-cluster-name, kubernetes-namespace, kubernetes-service-account):
 * that is the positive Pod Identity evidence. A web identity record whose fields cannot be read
 * is `unreadable`: never taken as absence of use.
 */
export function credentialUseOf(
  event: {
    EventName?: string;
    EventTime?: Date;
    CloudTrailEvent?: string;
    Resources?: { ResourceName?: string }[];
  },
  roleArn: string,
): CredentialUse | undefined {
  const time = event.EventTime ?? new Date(0);
  const name = event.EventName ?? "";
  if (name !== "AssumeRoleWithWebIdentity" && name !== "AssumeRoleForPodIdentity" && name !== "AssumeRole")
    return undefined;
  const unreadable = (reason: string): CredentialUse => ({
    kind: "unreadable",
    time,
    roleArn,
    eventName: name,
    reason,
  });
  let json: unknown;
  try {
    json = JSON.parse(event.CloudTrailEvent ?? "");
  } catch {
    return unreadable("CloudTrailEvent is not JSON");
  }
  const parsed = cloudTrailRecord.safeParse(json);
  if (!parsed.success) return unreadable("the record does not have the fields of a CloudTrail record");
  const record = parsed.data;
  if (record.errorCode) return undefined; // a refused request is no use of the trust
  const recordTime = typeof record.eventTime === "string" ? new Date(record.eventTime) : time;
  if (name === "AssumeRoleWithWebIdentity") {
    const provider = record.userIdentity?.identityProvider;
    const subject = record.userIdentity?.userName;
    const role = record.requestParameters?.roleArn ?? roleArn;
    if (typeof provider !== "string" || typeof subject !== "string")
      return unreadable("no userIdentity.identityProvider/userName");
    return { kind: "irsa", time: recordTime, roleArn: role, providerArn: provider, subject };
  }
  if (name === "AssumeRole") {
    // the STS AssumeRole EKS Auth makes as pods.eks.amazonaws.com, with the pod's session tags
    if (record.userIdentity?.invokedBy !== "pods.eks.amazonaws.com") return undefined;
    const tags = Object.fromEntries((record.requestParameters?.tags ?? []).map((t) => [t.key, t.value]));
    const cluster = tags["eks-cluster-name"];
    const namespace = tags["kubernetes-namespace"];
    const serviceAccount = tags["kubernetes-service-account"];
    // session tags disabled: the record does not say which pod; it is no evidence either way
    if (!cluster || !namespace || !serviceAccount) return undefined;
    return {
      kind: "pod-identity",
      time: recordTime,
      roleArn: record.requestParameters?.roleArn ?? roleArn,
      clusterName: cluster,
      namespace,
      serviceAccount,
    };
  }
  const subject = record.responseElements?.subject;
  const clusterName = record.requestParameters?.clusterName;
  if (
    typeof subject?.namespace !== "string" ||
    typeof subject?.serviceAccount !== "string" ||
    typeof clusterName !== "string"
  )
    return unreadable("no requestParameters.clusterName or responseElements.subject");
  const assumed = record.responseElements?.assumedRoleUser?.arn ?? "";
  const assumedRole = /:assumed-role\/([^/]+)\//.exec(assumed)?.[1];
  const resource = (record.resources as { ARN?: string }[] | undefined)?.find((r) =>
    r.ARN?.includes(":role/"),
  )?.ARN;
  const role = resource ?? (assumedRole ? roleArn.replace(/[^/]+$/, assumedRole) : roleArn);
  return {
    kind: "pod-identity",
    time: recordTime,
    roleArn: role,
    clusterName,
    namespace: subject.namespace,
    serviceAccount: subject.serviceAccount,
  };
}

/**
 * CloudTrail evidence through LookupEvents (ResourceName = the role ARN), every page. Pacing is
 * the client's: LookupEvents allows 2 requests per second per account and region, so the
 * migration paces its CloudTrail client on the account-wide `cloudtrail-lookup` schedule
 * (`pacedClients`, shared-pacing.ts), SDK retries included.
 */
export function cloudTrailEvidence(cloudtrail: CloudTrailClient): EvidencePort {
  return {
    async credentialUses(roleArn: string, from: Date, to: Date): Promise<CredentialUse[]> {
      const uses: CredentialUse[] = [];
      let token: string | undefined;
      do {
        const out = await cloudtrail.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: roleArn }],
            StartTime: from,
            EndTime: to,
            MaxResults: 50,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const event of out.Events ?? []) {
          const use = credentialUseOf(event, roleArn);
          if (use) uses.push(use);
        }
        token = out.NextToken;
      } while (token);
      return uses;
    },
  };
}
