/** API families the automation paces itself on. */
export const PACED_FAMILIES = ["eks-read", "eks-write", "iam-read", "iam-write"] as const;
export type PacedFamily = (typeof PACED_FAMILIES)[number];

/**
 * Requests per second of each family the account allows (assumed defaults; set PACING_RATES from
 * the account's quotas): the automation uses `share` of each and never more on its own.
 */
export const DEFAULT_FAMILY_RATES: Record<PacedFamily, number> = {
  "eks-read": 20,
  "eks-write": 5,
  "iam-read": 20,
  "iam-write": 20,
};

/**
 * A token bucket as a virtual schedule (GCRA): each call reserves the next free slot, so waiting
 * callers go in order and the rate holds exactly; `burst` calls may go at once after a pause.
 */
export class TokenBucket {
  private tat = 0;
  constructor(
    readonly rate: number,
    readonly burst: number = Math.max(1, rate),
    private readonly clock: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when the caller may send one request. */
  async take(): Promise<void> {
    const interval = 1000 / this.rate;
    const now = this.clock();
    this.tat = Math.max(this.tat, now);
    const allowAt = this.tat - (this.burst - 1) * interval;
    this.tat += interval;
    const wait = allowAt - now;
    if (wait > 0) await this.sleep(wait);
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

/** One bucket per family at `share` of its rate. */
export function familyBuckets(
  share: number,
  rates: Record<PacedFamily, number> = DEFAULT_FAMILY_RATES,
  burstSeconds = 1,
): Record<PacedFamily, TokenBucket> {
  const out = {} as Record<PacedFamily, TokenBucket>;
  for (const f of PACED_FAMILIES) {
    const rate = rates[f] * share;
    out[f] = new TokenBucket(rate, Math.max(1, rate * burstSeconds));
  }
  return out;
}

/** The family of an EKS or IAM operation: reads are Describe/List/Get. */
export function familyOf(service: "eks" | "iam", commandName: string): PacedFamily {
  const read = /^(Describe|List|Get)/.test(commandName);
  return `${service}-${read ? "read" : "write"}` as PacedFamily;
}

/**
 * Makes every attempt of `client` (SDK retries included: the step sits inside the retry loop)
 * wait for a token of its family, so the automation alone never exceeds its share of the rate.
 */
export function pace(
  client: { middlewareStack: { addRelativeTo: MiddlewareAdder } },
  service: "eks" | "iam",
  buckets: Record<PacedFamily, TokenBucket>,
): void {
  client.middlewareStack.addRelativeTo(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        await buckets[familyOf(service, String(context.commandName ?? ""))].take();
        return await next(args);
      },
    { name: "podidPacing", relation: "after", toMiddleware: "retryMiddleware", override: true },
  );
}
