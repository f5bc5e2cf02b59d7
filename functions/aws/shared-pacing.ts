import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { errorMessage, TransientError } from "../core/errors.js";
import { type PacedFamily, type Pacer, type PacingEnv, pace, parseRates, sharedRates } from "./pacing.js";

/**
 * The account-wide schedule of a family could not be reached (DynamoDB unavailable, or the lease
 * lost the race too often): the request is not sent. Fail safe: never exceed the share; the work
 * item fails and is received again later.
 */
export class PacingUnavailableError extends TransientError {
  override name = "PacingUnavailableError";
}

/** Where the account-wide schedule of each family lives. */
export interface SlotStore {
  /**
   * Reserves `count` consecutive slots `intervalUs` apart on the family's shared schedule,
   * starting no earlier than `floorUs` (epoch µs); resolves with the first slot's time.
   */
  lease(family: PacedFamily, count: number, intervalUs: number, floorUs: number): Promise<number>;
}

const PK = "pacing";
const MAX_MARGIN_US = 1e6;

/**
 * The schedule in DynamoDB: one item per family (`pk = pacing`, `sk = family`) holding `tat`,
 * the end of the last slot handed out (epoch µs; GCRA's theoretical arrival time). A lease is
 * one conditional update, no read: `tat += d` while the schedule is busy (tat ≥ floor), or
 * `tat = floor + d` once it has fallen behind; both at once are impossible, so concurrent
 * leases never overlap. The item expires a day after its last lease (table TTL `expiresAt`).
 */
export class DynamoSlotStore implements SlotStore {
  private readonly busy = new Map<PacedFamily, boolean>();
  constructor(
    private readonly db: DynamoDBClient,
    readonly tableName: string,
    private readonly maxAttempts = 8,
  ) {}

  async lease(family: PacedFamily, count: number, intervalUs: number, floorUs: number): Promise<number> {
    const d = Math.round(count * intervalUs);
    const key = { pk: { S: PK }, sk: { S: family } };
    const expiresAt = { N: String(Math.floor(floorUs / 1e6) + 86_400) };
    let extend = this.busy.get(family) ?? false;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        if (extend) {
          const out = await this.db.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: "SET tat = tat + :d, expiresAt = :exp",
              ConditionExpression: "tat >= :floor",
              ExpressionAttributeValues: {
                ":d": { N: String(d) },
                ":floor": { N: String(floorUs) },
                ":exp": expiresAt,
              },
              ReturnValues: "UPDATED_NEW",
            }),
          );
          this.busy.set(family, true);
          return Number(out.Attributes?.tat?.N) - d;
        }
        await this.db.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: "SET tat = :end, expiresAt = :exp",
            ConditionExpression: "attribute_not_exists(tat) OR tat < :floor",
            ExpressionAttributeValues: {
              ":end": { N: String(floorUs + d) },
              ":floor": { N: String(floorUs) },
              ":exp": expiresAt,
            },
          }),
        );
        this.busy.set(family, false);
        return floorUs;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException))
          throw new PacingUnavailableError(
            `the ${family} schedule in ${this.tableName} is unavailable (${errorMessage(error)})`,
            {
              cause: error,
            },
          );
        extend = !extend;
      }
    }
    throw new PacingUnavailableError(`no ${family} lease after ${this.maxAttempts} attempts (contention)`);
  }
}

/** Tuning of a shared pacer. */
export interface SharedPacerOptions {
  /** calls that may go at once after a pause, in seconds of the rate (default 1) */
  burstSeconds?: number;
  /**
   * a lease covers the callers waiting, or this many seconds of the process's recent rate if more
   * (default 0.25): fewer DynamoDB writes vs slots an idle process leaves unused
   */
  leaseSeconds?: number;
  /** a lease's expected round trip (default 20 ms): its first slot starts that much later */
  leaseMarginMs?: number;
  /** wall clock in ms (epoch: processes compare slots); injectable */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface FamilyState {
  next: number;
  remaining: number;
  waiting: number;
  leasing?: Promise<void>;
  recent: number[];
  /** how far after now - tolerance a lease asks its slots to start, µs */
  margin: number;
  /** a lease arrived and none of its slots was used yet */
  fresh: boolean;
}

/** What a shared pacer did (for tests and metrics). */
export interface PacerStats {
  leases: number;
  taken: number;
  /** leased slots that passed unused */
  wasted: number;
}

/**
 * The automation's account-wide pacing: every process (Lambda execution environment) takes
 * slots of one shared schedule per family (`SlotStore`), in leased blocks so a busy process
 * writes DynamoDB once per block, not once per call. Slots are disjoint across processes and
 * `1/rate` apart; a slot is used at its time, or up to the burst tolerance late, never later
 * (a stale slot is dropped), so over any window of T seconds all processes together send at most
 * `rate × T + burst` requests of a family. Store errors reject the call (`PacingUnavailableError`).
 */
export class SharedPacer implements Pacer {
  private readonly state = new Map<PacedFamily, FamilyState>();
  readonly stats: PacerStats = { leases: 0, taken: 0, wasted: 0 };
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly baseMargin: number;

  constructor(
    private readonly store: SlotStore,
    /** the automation's rate of each family (requests/s, the share already applied) */
    readonly rates: Record<PacedFamily, number>,
    private readonly options: SharedPacerOptions = {},
  ) {
    this.clock = options.clock ?? (() => Date.now());
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.baseMargin = (options.leaseMarginMs ?? 20) * 1000;
  }

  private shape(family: PacedFamily) {
    const rate = this.rates[family];
    // µs, rounded up: never faster than the rate
    const interval = Math.ceil(1e6 / rate);
    const burst = Math.max(1, Math.floor(rate * (this.options.burstSeconds ?? 1)));
    return { rate, interval, tolerance: (burst - 1) * interval };
  }

  async take(family: PacedFamily): Promise<number> {
    const s = this.stateOf(family);
    const { interval, tolerance } = this.shape(family);
    for (;;) {
      const now = this.clock() * 1000;
      if (s.remaining > 0 && s.next < now - tolerance) {
        const stale = Math.min(s.remaining, Math.ceil((now - tolerance - s.next) / interval));
        if (s.fresh && stale === s.remaining)
          s.margin = Math.min(MAX_MARGIN_US, Math.max(5000, 2 * s.margin));
        s.next += stale * interval;
        s.remaining -= stale;
        this.stats.wasted += stale;
      } else if (s.fresh) s.margin = Math.max(this.baseMargin, s.margin / 2);
      s.fresh = false;
      if (s.remaining > 0) {
        const at = s.next;
        s.next += interval;
        s.remaining--;
        this.stats.taken++;
        s.recent.push(now);
        const release = Math.max(at, now);
        if (release > now) await this.sleep((release - now) / 1000);
        return release / 1000;
      }
      s.waiting++;
      try {
        s.leasing ??= this.refill(family, s).finally(() => {
          s.leasing = undefined;
        });
        await s.leasing;
      } finally {
        s.waiting--;
      }
    }
  }

  private stateOf(family: PacedFamily): FamilyState {
    let s = this.state.get(family);
    if (!s) {
      s = { next: 0, remaining: 0, waiting: 0, recent: [], margin: this.baseMargin, fresh: false };
      this.state.set(family, s);
    }
    return s;
  }

  private async refill(family: PacedFamily, s: FamilyState): Promise<void> {
    // callers that start together (a batch's clusters, a cluster's parallel reads) reach take()
    // within one turn of the event loop: count them all into this lease, not only the first
    await new Promise((resolve) => setImmediate(resolve));
    const { rate, interval, tolerance } = this.shape(family);
    const now = this.clock() * 1000;
    s.recent = s.recent.filter((t) => t > now - 1e6);
    const leaseSeconds = this.options.leaseSeconds ?? 0.25;
    // the process's calls of the last second as its rate, at most the family's
    const prefetch = Math.ceil(Math.min(s.recent.length, rate) * leaseSeconds);
    // callers already waiting use their slots at once; prefetch only serves a caller that comes
    // back one at a time (summing both left slots unused whenever a busy environment's demand fell)
    const count = Math.max(1, s.waiting, prefetch);
    // a slot used later than `tolerance` after its time is dropped, so a lease asks for slots
    // from `margin` (its own round trip) after now - tolerance; the margin doubles when a whole
    // lease came back too late and shrinks back when one did not
    const start = await this.store.lease(family, count, interval, Math.floor(now - tolerance + s.margin));
    this.stats.leases++;
    s.next = start;
    s.remaining = count;
    s.fresh = true;
  }
}

type Paceable = Parameters<typeof pace>[0];

/**
 * Paces the given clients on the account-wide schedule in `env.PACING_TABLE` at `PACING_SHARE`
 * of `PACING_RATES`: one pacer per process, shared by its clients.
 */
export function pacedClients(
  db: DynamoDBClient,
  env: PacingEnv,
  clients: { eks?: Paceable; iam?: Paceable; cloudtrail?: Paceable },
  options: SharedPacerOptions = {},
): SharedPacer {
  const pacer = new SharedPacer(
    new DynamoSlotStore(db, env.PACING_TABLE),
    sharedRates(env.PACING_SHARE, parseRates(env.PACING_RATES)),
    options,
  );
  if (clients.eks) pace(clients.eks, "eks", pacer);
  if (clients.iam) pace(clients.iam, "iam", pacer);
  if (clients.cloudtrail) pace(clients.cloudtrail, "cloudtrail", pacer);
  return pacer;
}
