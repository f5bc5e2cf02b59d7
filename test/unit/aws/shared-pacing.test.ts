import { describe, expect, it } from "vitest";
import { type PacedFamily, sharedRates } from "../../../functions/aws/pacing.js";
import { SharedPacer, type SlotStore } from "../../../functions/aws/shared-pacing.js";

/** The schedule in memory (one process's view is enough here), each lease taking `latencyMs`. */
function slowStore(clock: { t: number }, latencyMs: number): SlotStore & { leases: number } {
  const tat = new Map<PacedFamily, number>();
  return {
    leases: 0,
    async lease(family, count, intervalUs, floorUs) {
      if (++this.leases > 100) throw new Error("livelock: 100 leases");
      clock.t += latencyMs;
      const start = Math.max(tat.get(family) ?? 0, floorUs);
      tat.set(family, start + count * intervalUs);
      return start;
    },
  };
}

describe("shared pacer", () => {
  it("keeps going when a lease takes longer than its margin (no burst: late slots are dropped)", async () => {
    // Prepare: 1 request/s, burst 1 (no tolerance), each lease takes 150 ms of the clock
    const clock = { t: 1_800_000_000_000 };
    const store = slowStore(clock, 150);
    const rates = { ...sharedRates(1), "cloudtrail-lookup": 1 };
    const pacer = new SharedPacer(store, rates, {
      burstSeconds: 1,
      clock: () => clock.t,
      sleep: async (ms) => {
        clock.t += ms;
      },
    });

    // Act: three calls one after the other
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(await pacer.take("cloudtrail-lookup"));

    // Assess: each went, a second apart at least, after a bounded number of leases
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1000);
    expect(store.leases).toBeLessThan(12);
  });

  it("a sporadic caller gets its slot although the lease's round trip makes its first slots late", async () => {
    // Prepare: 1,000 requests/s with a 1 s burst; a lease takes 5 ms; calls 2 s apart (the
    // schedule has fallen behind each time: a lease starts at the burst floor, now - 1 s)
    const clock = { t: 1_800_000_000_000 };
    const store = slowStore(clock, 5);
    const pacer = new SharedPacer(
      store,
      { ...sharedRates(1), "iam-read": 1000 },
      {
        burstSeconds: 1,
        clock: () => clock.t,
        sleep: async (ms) => {
          clock.t += ms;
        },
      },
    );

    // Act
    for (let i = 0; i < 3; i++) {
      await pacer.take("iam-read");
      clock.t += 2000;
    }

    // Assess: one lease per call, nothing lost but the prefetched slots of an idle process
    expect(store.leases).toBe(3);
  });

  it("callers that arrive together share one lease", async () => {
    // Prepare: 100 requests/s; a lease takes 5 ms
    const clock = { t: 1_800_000_000_000 };
    const store = slowStore(clock, 5);
    const pacer = new SharedPacer(
      store,
      { ...sharedRates(1), "eks-read": 100 },
      {
        clock: () => clock.t,
        sleep: async (ms) => {
          clock.t += ms;
        },
      },
    );

    // Act: ten callers, each a few promise turns deep (as behind an SDK middleware stack)
    const deep = async (n: number): Promise<number> =>
      n === 0 ? await pacer.take("eks-read") : await deep(n - 1);
    await Promise.all(Array.from({ length: 10 }, (_, i) => deep(i)));

    // Assess
    expect(store.leases).toBe(1);
    expect(pacer.stats).toMatchObject({ leases: 1, taken: 10, wasted: 0 });
  });
});
