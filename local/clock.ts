import { z } from "zod";

/**
 * The local account's wall clock for the credential path and its CloudTrail log. It runs with real
 * time, shifted by an offset tests set (`PUT /_local/clock`), and can be frozen, so tests record
 * events "in the past" and let quiet windows pass without sleeping.
 */
export class LocalClock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  constructor(private readonly real: () => number = () => Date.now()) {}

  /** Current time of the local account, epoch milliseconds. */
  nowMs(): number {
    return this.frozenAt ?? this.real() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Applies a clock change: set an absolute time, advance, freeze or unfreeze (in that order). */
  apply(change: ClockChange): void {
    const wasFrozen = this.frozenAt !== undefined;
    if (change.set !== undefined) {
      const target = toEpochMs(change.set);
      if (wasFrozen) this.frozenAt = target;
      else this.offsetMs = target - this.real();
    }
    if (change.advanceSeconds !== undefined) {
      const delta = change.advanceSeconds * 1000;
      if (this.frozenAt !== undefined) this.frozenAt += delta;
      else this.offsetMs += delta;
    }
    if (change.frozen === true && this.frozenAt === undefined) this.frozenAt = this.nowMs();
    if (change.frozen === false && this.frozenAt !== undefined) {
      this.offsetMs = this.frozenAt - this.real();
      this.frozenAt = undefined;
    }
  }

  /** What `GET /_local/clock` answers: `now` in epoch milliseconds, also as ISO-8601 text. */
  state(): { now: number; iso: string; frozen: boolean } {
    const ms = this.nowMs();
    return { now: ms, iso: new Date(ms).toISOString(), frozen: this.frozenAt !== undefined };
  }

  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = undefined;
  }
}

/** A time as ISO-8601 text or epoch seconds. */
export const timeSchema = z.union([z.number().finite(), z.iso.datetime({ offset: true })]);

/** Body of `PUT /_local/clock`. */
export const clockChangeSchema = z
  .object({
    /** absolute time: ISO-8601 or epoch seconds */
    set: timeSchema.optional(),
    /** move the clock forward (or back, when negative) by this many seconds */
    advanceSeconds: z.number().finite().optional(),
    /** stop (true) or restart (false) the clock */
    frozen: z.boolean().optional(),
  })
  .strict();
export type ClockChange = z.infer<typeof clockChangeSchema>;

/** Epoch milliseconds of an ISO-8601 text or epoch seconds. */
export function toEpochMs(value: number | string): number {
  return typeof value === "number" ? value * 1000 : Date.parse(value);
}
