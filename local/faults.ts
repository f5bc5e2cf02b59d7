import { z } from "zod";

/** API families used for throttling and rate-limit accounting. */
export const API_FAMILIES = ["eks-read", "eks-write", "iam-read", "iam-write", "sts", "other"] as const;
export type ApiFamily = (typeof API_FAMILIES)[number];

const bucketSchema = z.object({
  /** tokens added per second */
  rate: z.number().positive(),
  /** bucket size; defaults to the rate (one second of burst) */
  burst: z.number().positive().optional(),
});

/** Fault settings accepted by `PUT /_local/faults`. Every field is optional; unset means off. */
export const faultConfigSchema = z
  .object({
    /** fixed latency added to every AWS call, in milliseconds */
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    /** latency per API family, overriding latencyMs */
    latencyByFamily: z.partialRecord(z.enum(API_FAMILIES), z.number().int().min(0).max(60_000)).optional(),
    /** token bucket per API family; an empty bucket answers with the service's throttling error */
    throttle: z.partialRecord(z.enum(API_FAMILIES), bucketSchema).optional(),
    /** probability (0–1) that a call answers with a 5xx */
    errorRate: z.number().min(0).max(1).optional(),
    /** operations the error rate applies to (all when absent) */
    errorOperations: z.array(z.string()).optional(),
    /** seed of the fault random generator, for reproducible schedules */
    seed: z.number().int().optional(),
    /** a role created in IAM stays invisible to EKS for this many milliseconds */
    iamConsistencyDelayMs: z.number().int().min(0).max(600_000).optional(),
    /**
     * after UpdateAssumeRolePolicy, GetRole (and the EKS role check) keep returning the previous
     * trust policy for this many milliseconds of the front's clock (IAM eventual consistency)
     */
    trustPolicyConsistencyDelayMs: z.number().int().min(0).max(600_000).optional(),
    /**
     * CreateAddon leaves the add-on CREATING and UpdateAddon leaves it UPDATING for this many
     * milliseconds of the front's clock before it is ACTIVE (default 0: ACTIVE on the next read)
     */
    addonTransitionMs: z.number().int().min(0).max(3_600_000).optional(),
    /**
     * refuse an UpdatePodIdentityAssociation that changes none of roleArn, targetRoleArn,
     * disableSessionTags, policy ("You must change at least one of these in an update", model);
     * off by default until the product stops sending no-op updates
     */
    rejectNoOpUpdates: z.boolean().optional(),
    /** fail the next N calls of an operation with a 5xx (deterministic injection) */
    failNext: z.record(z.string(), z.number().int().min(0)).optional(),
    /** let the first N calls of an operation pass before failNext applies to it */
    passFirst: z.record(z.string(), z.number().int().min(0)).optional(),
  })
  .strict();
export type FaultConfig = z.infer<typeof faultConfigSchema>;

/** A classified outcome of the fault layer for one call. */
export type FaultDecision = { kind: "pass" } | { kind: "throttle" } | { kind: "server-error" };

/** Small deterministic PRNG (mulberry32) so fault schedules replay from a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Bucket {
  rate: number;
  burst: number;
  tokens: number;
  updated: number;
}

/**
 * Latency, throttling, random server errors and per-operation call counters of the local account.
 * The clock is injectable so tests can drive the token buckets deterministically.
 */
export class FaultInjector {
  private config: FaultConfig = {};
  private buckets = new Map<ApiFamily, Bucket>();
  private random: () => number = mulberry32(1);
  private failNext = new Map<string, number>();
  private passFirst = new Map<string, number>();
  readonly calls = new Map<string, number>();
  readonly callsByFamily = new Map<ApiFamily, number>();
  readonly throttled = new Map<string, number>();
  readonly throttledByFamily = new Map<ApiFamily, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  configure(config: FaultConfig): void {
    this.config = config;
    this.random = mulberry32(config.seed ?? 1);
    this.buckets.clear();
    for (const [family, spec] of Object.entries(config.throttle ?? {})) {
      const burst = spec.burst ?? spec.rate;
      this.buckets.set(family as ApiFamily, { rate: spec.rate, burst, tokens: burst, updated: this.now() });
    }
    this.failNext = new Map(Object.entries(config.failNext ?? {}));
    this.passFirst = new Map(Object.entries(config.passFirst ?? {}));
  }

  get settings(): FaultConfig {
    return this.config;
  }

  resetCounters(): void {
    this.calls.clear();
    this.callsByFamily.clear();
    this.throttledByFamily.clear();
    this.throttled.clear();
  }

  reset(): void {
    this.configure({});
    this.resetCounters();
  }

  latencyFor(family: ApiFamily): number {
    return this.config.latencyByFamily?.[family] ?? this.config.latencyMs ?? 0;
  }

  /** Counts the call and decides whether it is throttled, fails, or passes. */
  decide(operation: string, family: ApiFamily): FaultDecision {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    this.callsByFamily.set(family, (this.callsByFamily.get(family) ?? 0) + 1);
    const passing = this.passFirst.get(operation) ?? 0;
    if (passing > 0) this.passFirst.set(operation, passing - 1);
    const pending = passing > 0 ? 0 : (this.failNext.get(operation) ?? 0);
    if (pending > 0) {
      this.failNext.set(operation, pending - 1);
      return { kind: "server-error" };
    }
    const bucket = this.buckets.get(family);
    if (bucket) {
      const now = this.now();
      bucket.tokens = Math.min(bucket.burst, bucket.tokens + ((now - bucket.updated) / 1000) * bucket.rate);
      bucket.updated = now;
      if (bucket.tokens < 1) {
        this.throttled.set(operation, (this.throttled.get(operation) ?? 0) + 1);
        this.throttledByFamily.set(family, (this.throttledByFamily.get(family) ?? 0) + 1);
        return { kind: "throttle" };
      }
      bucket.tokens -= 1;
    }
    const rate = this.config.errorRate ?? 0;
    const applies = !this.config.errorOperations || this.config.errorOperations.includes(operation);
    if (rate > 0 && applies && this.random() < rate) return { kind: "server-error" };
    return { kind: "pass" };
  }
}
