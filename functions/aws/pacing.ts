import { z } from "zod";

/**
 * API families the automation paces itself on. `cloudtrail-lookup` is CloudTrail LookupEvents
 * (AWS: 2 requests per second per account and region), which the migration's finalize pages.
 */
export const PACED_FAMILIES = [
  "eks-read",
  "eks-write",
  "iam-read",
  "iam-write",
  "cloudtrail-lookup",
] as const;
export type PacedFamily = (typeof PACED_FAMILIES)[number];

/**
 * Requests per second of each family the account allows (assumed defaults except LookupEvents,
 * whose 2/s is documented by AWS; set PACING_RATES from the account's quotas): the automation
 * uses `share` of each and never more on its own, whatever number of functions run at once.
 */
export const DEFAULT_FAMILY_RATES: Record<PacedFamily, number> = {
  "eks-read": 20,
  "eks-write": 5,
  "iam-read": 20,
  "iam-write": 20,
  "cloudtrail-lookup": 2,
};

/** Settings of the pacing every function that calls EKS, IAM or CloudTrail reads (set by the stack). */
export const pacingEnvSchema = z.object({
  /** the table holding the account-wide schedule of each family (items `pk = pacing`) */
  PACING_TABLE: z.string().min(1),
  /** share of each API family's rate the automation uses on its own (0 < share ≤ 1) */
  PACING_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
  PACING_RATES: z.string().optional(),
});
export type PacingEnv = z.infer<typeof pacingEnvSchema>;

/** Something that hands out permission to send one request of a family. */
export interface Pacer {
  /** Resolves (with the time the request may go, ms on the pacer's clock) when it may be sent. */
  take(family: PacedFamily): Promise<number>;
}

/**
 * A token bucket as a virtual schedule (GCRA): each call reserves the next free slot, so waiting
 * callers go in order and the rate holds exactly; `burst` calls may go at once after a pause.
 * Local to one process, so it holds a rate only while one process runs: the functions use
 * `SharedPacer` (shared-pacing.ts); the tests use this as the per-process reference.
 */
export class TokenBucket {
  private tat = 0;
  constructor(
    readonly rate: number,
    readonly burst: number = Math.max(1, rate),
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when the caller may send one request (with that time on the bucket's clock). */
  async take(): Promise<number> {
    const interval = 1000 / this.rate;
    const now = this.clock();
    this.tat = Math.max(this.tat, now);
    const allowAt = this.tat - (this.burst - 1) * interval;
    this.tat += interval;
    const wait = allowAt - now;
    if (wait > 0) await this.sleep(wait);
    return Math.max(now, allowAt);
  }
}

// the SDK's middleware stack, structurally (any v3 client has it)
// biome-ignore lint/suspicious/noExplicitAny: the stack's generic signature differs per client
type MiddlewareAdder = (middleware: any, options: any) => void;

/** Parses `eks-read=20,eks-write=5`; unknown families or non-positive rates are an error. */
export function parseRates(text: string | undefined): Record<PacedFamily, number> {
  const rates = { ...DEFAULT_FAMILY_RATES };
  if (!text) return rates;
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [family, value] = part.split("=");
    const rate = Number(value);
    if (!PACED_FAMILIES.includes(family as PacedFamily) || !(rate > 0))
      throw new Error(
        `PACING_RATES: "${part}" is not <family>=<requests per second> (${PACED_FAMILIES.join(", ")})`,
      );
    rates[family as PacedFamily] = rate;
  }
  return rates;
}

/** The automation's own rate of each family: `share` of the account's. */
export function sharedRates(
  share: number,
  rates: Record<PacedFamily, number> = DEFAULT_FAMILY_RATES,
): Record<PacedFamily, number> {
  return Object.fromEntries(PACED_FAMILIES.map((f) => [f, rates[f] * share])) as Record<PacedFamily, number>;
}

/** The family of an EKS, IAM or CloudTrail operation: reads are Describe/List/Get. */
export function familyOf(service: "eks" | "iam" | "cloudtrail", commandName: string): PacedFamily {
  if (service === "cloudtrail") return "cloudtrail-lookup";
  const read = /^(Describe|List|Get)/.test(commandName);
  return `${service}-${read ? "read" : "write"}` as PacedFamily;
}

/**
 * Makes every attempt of `client` (SDK retries included: the step sits inside the retry loop)
 * wait for a token of its family, so the automation alone never exceeds its share of the rate.
 * CloudTrail: only LookupEvents is paced (the only CloudTrail call the product makes).
 */
export function pace(
  client: { middlewareStack: { addRelativeTo: MiddlewareAdder } },
  service: "eks" | "iam" | "cloudtrail",
  pacer: Pacer,
): void {
  client.middlewareStack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        const command = String(context.commandName ?? "");
        if (service !== "cloudtrail" || command.startsWith("LookupEvents"))
          await pacer.take(familyOf(service, command));
        return await next(args);
      },
    { name: "podidPacing", relation: "after", toMiddleware: "retryMiddleware", override: true },
  );
}
