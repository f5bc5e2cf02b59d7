import type { StoredAddon } from "./addons.js";
import { EksApiError } from "./http.js";
import type { StoredAssociation } from "./pod-identity.js";

/** A pod identity association or add-on ARN, split into its parts. */
export interface LocalResourceArn {
  kind: "podidentityassociation" | "addon";
  region: string;
  accountId: string;
  clusterName: string;
}

const RESOURCE_ARN = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):(podidentityassociation|addon)\/([^/]+)\/.+$/;

/** Parses the ARNs whose tags the front keeps itself; cluster and other ARNs go to moto. */
export function parseLocalResourceArn(arn: string): LocalResourceArn | undefined {
  const m = RESOURCE_ARN.exec(arn);
  if (!m) return undefined;
  return {
    region: m[1]!,
    accountId: m[2]!,
    kind: m[3] as LocalResourceArn["kind"],
    clusterName: m[4]!,
  };
}

/**
 * TagResource/UntagResource/ListTagsForResource on a resource the front stores. Validation follows
 * the model (`TagMap` 1–50 entries, `TagKey` 1–128, `TagValue` ≤ 256, `aws:` reserved) and answers
 * with the operation's modelled error, BadRequestException (400).
 */
export function applyTagOperation(
  method: string,
  resource: StoredAssociation | StoredAddon,
  body: Record<string, unknown>,
  query: URLSearchParams,
): Record<string, unknown> {
  if (method === "GET") return { tags: { ...resource.tags } };
  if (method === "POST") {
    const tags = body.tags;
    if (!tags || typeof tags !== "object" || Array.isArray(tags) || Object.keys(tags).length === 0) {
      throw new EksApiError("BadRequestException", "tags must be a non-empty map");
    }
    const merged = { ...resource.tags };
    for (const [k, v] of Object.entries(tags as Record<string, unknown>)) {
      if (k.length < 1 || k.length > 128 || typeof v !== "string" || v.length > 256) {
        throw new EksApiError("BadRequestException", `Invalid tag ${k}`);
      }
      if (k.toLowerCase().startsWith("aws:")) {
        throw new EksApiError("BadRequestException", `Tag keys starting with aws: are reserved: ${k}`);
      }
      merged[k] = v;
    }
    if (Object.keys(merged).length > 50) {
      throw new EksApiError("BadRequestException", "A resource can have at most 50 tags");
    }
    resource.tags = merged;
    return {};
  }
  if (method === "DELETE") {
    const keys = query.getAll("tagKeys");
    if (keys.length === 0) throw new EksApiError("BadRequestException", "tagKeys is required");
    const next = { ...resource.tags };
    for (const k of keys) delete next[k];
    resource.tags = next;
    return {};
  }
  throw new EksApiError("BadRequestException", `Unsupported ${method} on tags`);
}
