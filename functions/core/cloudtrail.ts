import { z } from "zod";
import { EKS_EVENT_NAMES, IAM_EVENT_NAMES } from "./events.js";

const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/([0-9A-Za-z][A-Za-z0-9\-_]{0,99})$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

const cloudTrailEnvelope = z.object({
  source: z.string(),
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  detail: z
    .object({
      eventSource: z.string(),
      eventName: z.string(),
      errorCode: z.unknown().optional(),
      requestParameters: z.record(z.string(), z.unknown()).nullish(),
    })
    .loose(),
});

/** Why an event was not acted on. */
export interface Rejection {
  ok: false;
  reason: string;
}

function envelope(
  event: unknown,
  source: string,
  eventSource: string,
): z.infer<typeof cloudTrailEnvelope> | Rejection {
  const parsed = cloudTrailEnvelope.safeParse(event);
  if (!parsed.success)
    return {
      ok: false,
      reason: `not a CloudTrail API call event: ${z.prettifyError(parsed.error).slice(0, 300)}`,
    };
  const e = parsed.data;
  if (e.source !== source || e.detail.eventSource !== eventSource) {
    return {
      ok: false,
      reason: `event from ${String(e.source).slice(0, 64)}/${String(e.detail.eventSource).slice(0, 64)}, expected ${source}/${eventSource}`,
    };
  }
  if (e.detail.errorCode !== undefined && e.detail.errorCode !== null) {
    return {
      ok: false,
      reason: `the call failed (${String(e.detail.errorCode).slice(0, 64)}): nothing changed`,
    };
  }
  return e;
}

/**
 * CloudTrail logs REST URI path parameters URL-encoded (`arn%3Aaws%3Aeks%3A…%3Acluster%2Fprod`
 * for EKS `TagResource`/`UntagResource`, whose `resourceArn` is the `/tags/{resourceArn}` path
 * member); body members stay raw. Decoding is idempotent for a raw ARN (it holds no `%`).
 * Undefined when the text is not valid percent-encoding.
 */
export function decodePathParameter(value: string): string | undefined {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** An EKS CloudTrail event the cluster-event function acts on. */
export type EksEvent =
  | { ok: true; eventName: "CreateCluster" | "DeleteCluster"; clusterName: string }
  | { ok: true; eventName: "TagResource" | "UntagResource"; clusterName: string; resourceArn: string };

/** Validates an EKS CloudTrail event; a rejection says why it is ignored. */
export function parseEksEvent(event: unknown): EksEvent | Rejection {
  const e = envelope(event, "aws.eks", "eks.amazonaws.com");
  if ("ok" in e) return e;
  const name = e.detail.eventName;
  if (!(EKS_EVENT_NAMES as readonly string[]).includes(name))
    return { ok: false, reason: `event ${name.slice(0, 64)} is not handled` };
  const params = e.detail.requestParameters ?? {};
  if (name === "CreateCluster" || name === "DeleteCluster") {
    // `name` is the GA model's member (body of CreateCluster, URI of DeleteCluster); AWS's only
    // published CreateCluster record (EKS User Guide, 2018) logs it as `clusterName`
    const clusterName = params.name ?? (name === "CreateCluster" ? params.clusterName : undefined);
    if (typeof clusterName !== "string" || !CLUSTER_NAME.test(clusterName)) {
      return { ok: false, reason: `${name} without a valid requestParameters.name` };
    }
    return { ok: true, eventName: name, clusterName };
  }
  const logged = params.resourceArn;
  if (typeof logged !== "string")
    return { ok: false, reason: `${name} without requestParameters.resourceArn` };
  const resourceArn = decodePathParameter(logged);
  const match = resourceArn === undefined ? null : CLUSTER_ARN.exec(resourceArn);
  if (!match || resourceArn === undefined)
    return { ok: false, reason: `${name} on ${logged.slice(0, 200)}, which is not a cluster` };
  return {
    ok: true,
    eventName: name as "TagResource" | "UntagResource",
    clusterName: match[1]!,
    resourceArn,
  };
}

/** An IAM CloudTrail event the iam-event function acts on. */
export interface IamEvent {
  ok: true;
  eventName: (typeof IAM_EVENT_NAMES)[number];
  roleName: string;
}

/** Validates an IAM CloudTrail event (forwarded from us-east-1); a rejection says why it is ignored. */
export function parseIamEvent(event: unknown): IamEvent | Rejection {
  const e = envelope(event, "aws.iam", "iam.amazonaws.com");
  if ("ok" in e) return e;
  const name = e.detail.eventName;
  if (!(IAM_EVENT_NAMES as readonly string[]).includes(name))
    return { ok: false, reason: `event ${name.slice(0, 64)} is not handled` };
  const roleName = e.detail.requestParameters?.roleName;
  if (typeof roleName !== "string" || !ROLE_NAME.test(roleName)) {
    return { ok: false, reason: `${name} without a valid requestParameters.roleName` };
  }
  return { ok: true, eventName: name as IamEvent["eventName"], roleName };
}
