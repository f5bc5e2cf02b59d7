/**
 * The local account's CloudTrail event history: records the credential path appends, served by
 * `LookupEvents` (awsJson1.1, botocore cloudtrail 2013-11-01 model: LookupEventsRequest /
 * LookupEventsResponse, errors InvalidLookupAttributesException, InvalidTimeRangeException,
 * InvalidMaxResultsException, InvalidNextTokenException). Newest first, at most one lookup
 * attribute (as CloudTrail allows), StartTime/EndTime inclusive, MaxResults 1–50 (default 50),
 * an opaque NextToken bound to the request's filters.
 *
 * Time comes from the front's clock. A delivery delay (`PUT /_local/cloudtrail`) hides events
 * younger than that many seconds, as CloudTrail delivers within ~15 minutes: absence inside the
 * delay is not evidence.
 */
import { z } from "zod";
import type { LocalClock } from "./clock.js";
import { timeSchema, toEpochMs } from "./clock.js";
import { awsJsonError, type LocalResponse } from "./http.js";

/** A resource as LookupEvents lists it (the Resource shape). */
export interface LookupResource {
  ResourceType: string;
  ResourceName: string;
}

/** A CloudTrail record plus the resources LookupEvents lists for it. */
export interface TrailEntry {
  record: Record<string, unknown>;
  resources: LookupResource[];
}

interface StoredEvent extends TrailEntry {
  seq: number;
  timeMs: number;
  accountId: string;
  region: string;
}

const LOOKUP_KEYS = [
  "EventId",
  "EventName",
  "ReadOnly",
  "Username",
  "ResourceType",
  "ResourceName",
  "EventSource",
  "AccessKeyId",
] as const;

const lookupRequestSchema = z.object({
  LookupAttributes: z
    .array(z.object({ AttributeKey: z.string(), AttributeValue: z.string() }).loose())
    .optional(),
  StartTime: timeSchema.optional(),
  EndTime: timeSchema.optional(),
  EventCategory: z.string().optional(),
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
});

/** Body of `PUT /_local/cloudtrail`. */
export const trailSettingsSchema = z
  .object({
    /** seconds before an event shows in LookupEvents (CloudTrail's delivery delay); 0 by default */
    deliveryDelaySeconds: z.number().min(0).max(86_400).optional(),
    /**
     * LookupEvents' documented limit ("two per second, per account, per Region"): a token bucket of
     * this rate (burst = rate) on real time; beyond it ThrottlingException. Off (0) by default.
     */
    lookupRatePerSecond: z.number().min(0).max(1000).optional(),
  })
  .strict();

/** Body of `POST /_local/cloudtrail/events`: records to append as they are (eventTime inside). */
export const appendSchema = z
  .object({
    events: z.array(
      z.object({
        record: z
          .object({
            eventTime: z.iso.datetime({ offset: true }),
            eventName: z.string().min(1),
            eventSource: z.string().min(1),
            recipientAccountId: z.string().regex(/^\d{12}$/),
            awsRegion: z.string().min(1),
          })
          .loose(),
        resources: z.array(z.object({ ResourceType: z.string(), ResourceName: z.string() })).optional(),
      }),
    ),
  })
  .strict();

interface PageToken {
  t: number;
  s: number;
  f: string;
}

class LookupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The Event shape's scalar fields, derived from the record as CloudTrail's event history shows them. */
function lookupFields(e: StoredEvent): Record<string, string | undefined> {
  const identity = (e.record.userIdentity ?? {}) as Record<string, unknown>;
  let username = str(identity.userName);
  if (!username && identity.type === "AssumedRole") username = str(identity.arn)?.split("/").pop();
  return {
    EventId: str(e.record.eventID),
    EventName: str(e.record.eventName),
    ReadOnly: e.record.readOnly === undefined ? undefined : String(e.record.readOnly),
    AccessKeyId: str(identity.accessKeyId),
    EventSource: str(e.record.eventSource),
    Username: username,
  };
}

/** CloudTrail event history of every account and region the local account serves. */
export class CloudTrailLog {
  private events: StoredEvent[] = [];
  private seq = 0;
  private deliveryDelayMs = 0;
  private rate = 0;
  private bucket = { tokens: 0, updated: 0 };
  /** LookupEvents calls answered and throttled since the last reset */
  readonly counters = { lookups: 0, throttled: 0 };

  constructor(
    private readonly clock: LocalClock,
    private readonly realMs: () => number = () => performance.now(),
  ) {}

  reset(): void {
    this.events = [];
    this.deliveryDelayMs = 0;
    this.rate = 0;
    this.counters.lookups = 0;
    this.counters.throttled = 0;
  }

  private settings(): Record<string, unknown> {
    return {
      deliveryDelaySeconds: this.deliveryDelayMs / 1000,
      lookupRatePerSecond: this.rate,
      ...this.counters,
    };
  }

  private throttled(): boolean {
    if (this.rate <= 0) return false;
    const now = this.realMs();
    this.bucket.tokens = Math.min(
      this.rate,
      this.bucket.tokens + ((now - this.bucket.updated) / 1000) * this.rate,
    );
    this.bucket.updated = now;
    if (this.bucket.tokens < 1) return true;
    this.bucket.tokens -= 1;
    return false;
  }

  /** Appends a record; its time is the record's eventTime (whole seconds, as CloudTrail writes it). */
  append(entry: TrailEntry): void {
    const record = entry.record;
    const timeMs = Math.floor(Date.parse(String(record.eventTime)) / 1000) * 1000;
    this.events.push({
      ...entry,
      seq: ++this.seq,
      timeMs,
      accountId: String(record.recipientAccountId),
      region: String(record.awsRegion),
    });
  }

  /** Every record, oldest first (for tests and `GET /_local/cloudtrail/events`). */
  all(): Record<string, unknown>[] {
    return [...this.events].sort((a, b) => a.timeMs - b.timeMs || a.seq - b.seq).map((e) => e.record);
  }

  /** LookupEvents for one account and region; a CloudTrail error response on bad input. */
  lookup(accountId: string, region: string, body: string): LocalResponse {
    this.counters.lookups += 1;
    if (this.throttled()) {
      this.counters.throttled += 1;
      return awsJsonError(400, "ThrottlingException", "Rate exceeded");
    }
    try {
      return {
        status: 200,
        headers: { "content-type": "application/x-amz-json-1.1" },
        body: JSON.stringify(this.page(accountId, region, body)),
      };
    } catch (error) {
      if (error instanceof LookupError) return awsJsonError(400, error.code, error.message);
      throw error;
    }
  }

  private page(accountId: string, region: string, body: string): Record<string, unknown> {
    let raw: unknown;
    try {
      raw = JSON.parse(body || "{}");
    } catch {
      throw new LookupError("SerializationException", "The request body is not valid JSON");
    }
    const parsed = lookupRequestSchema.safeParse(raw);
    if (!parsed.success) throw new LookupError("ValidationException", z.prettifyError(parsed.error));
    const req = parsed.data;
    const attributes = req.LookupAttributes ?? [];
    if (attributes.length > 1) {
      throw new LookupError(
        "InvalidLookupAttributesException",
        "You can specify at most one lookup attribute.",
      );
    }
    const attribute = attributes[0];
    if (attribute && !(LOOKUP_KEYS as readonly string[]).includes(attribute.AttributeKey)) {
      throw new LookupError(
        "InvalidLookupAttributesException",
        `Unknown lookup attribute ${attribute.AttributeKey}.`,
      );
    }
    if (attribute && (attribute.AttributeValue.length < 1 || attribute.AttributeValue.length > 2000)) {
      throw new LookupError(
        "InvalidLookupAttributesException",
        "AttributeValue must be 1 to 2000 characters.",
      );
    }
    const max = req.MaxResults ?? 50;
    if (!Number.isInteger(max) || max < 1 || max > 50) {
      throw new LookupError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.");
    }
    const start = req.StartTime === undefined ? -Infinity : toEpochMs(req.StartTime);
    const end = req.EndTime === undefined ? Infinity : toEpochMs(req.EndTime);
    if (start > end) throw new LookupError("InvalidTimeRangeException", "StartTime must be before EndTime.");
    if (req.EventCategory !== undefined && req.EventCategory !== "insight") {
      throw new LookupError("InvalidEventCategoryException", `Unknown event category ${req.EventCategory}.`);
    }
    const fingerprint = JSON.stringify([
      accountId,
      region,
      attribute ?? null,
      start,
      end,
      req.EventCategory ?? null,
    ]);
    let after: PageToken | undefined;
    if (req.NextToken !== undefined) {
      after = decodeToken(req.NextToken);
      if (!after || after.f !== fingerprint) {
        throw new LookupError("InvalidNextTokenException", "Invalid NextToken for this request.");
      }
    }
    // no Insights events are recorded here
    if (req.EventCategory === "insight") return { Events: [] };
    const visibleUntil = this.clock.nowMs() - this.deliveryDelayMs;
    const matching = this.events
      .filter(
        (e) =>
          e.accountId === accountId &&
          e.region === region &&
          e.timeMs >= start &&
          e.timeMs <= end &&
          (this.deliveryDelayMs === 0 || e.timeMs <= visibleUntil) &&
          (!attribute || matches(e, attribute.AttributeKey, attribute.AttributeValue)) &&
          (!after || e.timeMs < after.t || (e.timeMs === after.t && e.seq < after.s)),
      )
      .sort((a, b) => b.timeMs - a.timeMs || b.seq - a.seq);
    const page = matching.slice(0, max);
    const last = page.at(-1);
    return {
      Events: page.map((e) => {
        const fields = lookupFields(e);
        return {
          ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
          EventTime: e.timeMs / 1000,
          Resources: e.resources,
          CloudTrailEvent: JSON.stringify(e.record),
        };
      }),
      ...(matching.length > max && last
        ? {
            NextToken: Buffer.from(JSON.stringify({ t: last.timeMs, s: last.seq, f: fingerprint })).toString(
              "base64url",
            ),
          }
        : {}),
    };
  }

  /** The `/_local/cloudtrail…` control paths; undefined when the path is not one of them. */
  control(method: string, path: string, body: unknown): LocalResponse | undefined {
    if (path === "/_local/cloudtrail" && method === "GET") return json(200, this.settings());
    if (path === "/_local/cloudtrail" && method === "PUT") {
      const parsed = trailSettingsSchema.safeParse(body);
      if (!parsed.success) return json(400, { message: z.prettifyError(parsed.error) });
      if (parsed.data.deliveryDelaySeconds !== undefined)
        this.deliveryDelayMs = parsed.data.deliveryDelaySeconds * 1000;
      if (parsed.data.lookupRatePerSecond !== undefined) {
        this.rate = parsed.data.lookupRatePerSecond;
        this.bucket = { tokens: this.rate, updated: this.realMs() };
      }
      return json(200, this.settings());
    }
    if (path === "/_local/cloudtrail/events" && method === "GET") return json(200, { records: this.all() });
    if (path === "/_local/cloudtrail/events" && method === "POST") {
      const parsed = appendSchema.safeParse(body);
      if (!parsed.success) return json(400, { message: z.prettifyError(parsed.error) });
      for (const event of parsed.data.events) {
        this.append({
          record: event.record,
          resources: event.resources ?? resourcesFromRecord(event.record),
        });
      }
      return json(200, { appended: parsed.data.events.length });
    }
    return undefined;
  }
}

function matches(e: StoredEvent, key: string, value: string): boolean {
  if (key === "ResourceName") return e.resources.some((r) => r.ResourceName === value);
  if (key === "ResourceType") return e.resources.some((r) => r.ResourceType === value);
  return lookupFields(e)[key] === value;
}

/** Resources of a record without an explicit list: its `resources` ARNs and an EKS clusterName. */
export function resourcesFromRecord(record: Record<string, unknown>): LookupResource[] {
  const out: LookupResource[] = [];
  const listed = Array.isArray(record.resources) ? (record.resources as Record<string, unknown>[]) : [];
  for (const r of listed) {
    if (typeof r.ARN === "string" && typeof r.type === "string")
      out.push({ ResourceType: r.type, ResourceName: r.ARN });
  }
  const params = (record.requestParameters ?? {}) as Record<string, unknown>;
  if (typeof params.clusterName === "string")
    out.push({ ResourceType: "AWS::EKS::Cluster", ResourceName: params.clusterName });
  return out;
}

function decodeToken(raw: string): PageToken | undefined {
  try {
    const token = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Partial<PageToken>;
    if (typeof token.t === "number" && typeof token.s === "number" && typeof token.f === "string") {
      return token as PageToken;
    }
  } catch {
    // fall through
  }
  return undefined;
}

function json(status: number, body: unknown): LocalResponse {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
