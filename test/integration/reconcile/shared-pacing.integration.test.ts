import { CloudTrailClient, DescribeTrailsCommand, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EKSClient, ListClustersCommand } from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import {
  type PacedFamily,
  type Pacer,
  pace,
  sharedRates,
  TokenBucket,
} from "../../../functions/aws/pacing.js";
import {
  DynamoSlotStore,
  PacingUnavailableError,
  pacedClients,
  SharedPacer,
} from "../../../functions/aws/shared-pacing.js";
import { LOCAL_WORK } from "../../../local/index.js";
import { REGION, useLocalAccount } from "../../support/local-account.js";

/**
 * Account-wide pacing (issue 10): several processes (Lambda execution environments, each with its
 * own local state) take slots of one schedule per API family in the local account's DynamoDB, and
 * together never exceed the automation's share over any window. Time is a virtual clock that
 * moves only when a caller sleeps or works: nothing waits for real.
 */
const ctx = useLocalAccount();

const RATE = 50; // the automation's share of the family, requests per second
const BURST_SECONDS = 0.1;
const BURST = Math.floor(RATE * BURST_SECONDS);

function dynamo() {
  return new DynamoDBClient({
    endpoint: ctx.account.endpoint,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

/** A virtual wall clock shared by all simulated processes. */
function virtualClock(start = 1_800_000_000_000) {
  let t = start;
  return {
    now: () => t,
    /** sleeping (or working) moves the clock to the sleeper's wake time */
    sleep: async (ms: number) => {
      const target = t + ms;
      await Promise.resolve();
      t = Math.max(t, target);
    },
  };
}

/** The most requests in any window of `windowMs` (times sorted ascending). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs - 1e-6) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** `processes` concurrent processes, each with `callers` concurrent callers taking `perCaller` tokens. */
async function run(pacers: Pacer[], callers: number, perCaller: number, work: (ms: number) => Promise<void>) {
  const times: number[] = [];
  await Promise.all(
    pacers.flatMap((pacer) =>
      Array.from({ length: callers }, async () => {
        for (let i = 0; i < perCaller; i++) {
          times.push(await pacer.take("eks-read"));
          await work(3); // the call's own latency
        }
      }),
    ),
  );
  return times;
}

function rates(rate: number): Record<PacedFamily, number> {
  return { ...sharedRates(1), "eks-read": rate };
}

describe("account-wide pacing across concurrent processes", () => {
  it("never exceeds the share over any window, however many processes take tokens", async () => {
    // Prepare: five processes, each its own pacer (local state) over the shared table
    const clock = virtualClock();
    const pacers = Array.from(
      { length: 5 },
      () =>
        new SharedPacer(new DynamoSlotStore(dynamo(), LOCAL_WORK.budgetTable), rates(RATE), {
          burstSeconds: BURST_SECONDS,
          clock: clock.now,
          sleep: clock.sleep,
        }),
    );

    // Act: 5 processes × 4 callers × 25 calls
    const times = await run(pacers, 4, 25, clock.sleep);

    // Assess: over windows of 0.1, 1 and 3 s, at most rate × T + burst requests
    expect(times).toHaveLength(500);
    for (const windowMs of [100, 1000, 3000])
      expect(busiestWindow(times, windowMs), `window ${windowMs} ms`).toBeLessThanOrEqual(
        (RATE * windowMs) / 1000 + BURST,
      );
    // and nearly all of the share is used: 500 calls take about 500 / 50 = 10 s
    const span = Math.max(...times) - Math.min(...times);
    expect(span).toBeLessThan(((500 - BURST) / RATE) * 1000 * 1.05);
    // blocks, not one DynamoDB write per call
    const leases = pacers.reduce((n, p) => n + (p as SharedPacer).stats.leases, 0);
    expect(leases).toBeLessThan(500 / 2);
  });

  it("hands out disjoint leases to concurrent processes (conditional updates are atomic per item)", async () => {
    // Prepare: five processes leasing blocks of three 20 ms slots at once
    const stores = Array.from({ length: 5 }, () => new DynamoSlotStore(dynamo(), LOCAL_WORK.budgetTable));
    const floor = 1_800_000_000_000_000;
    const leases: [number, number][] = [];

    // Act
    await Promise.all(
      stores.map(async (store) => {
        for (let i = 0; i < 20; i++) {
          const start = await store.lease("iam-write", 3, 20_000, floor + i * 10_000);
          leases.push([start, start + 60_000]);
        }
      }),
    );

    // Assess: no two leases overlap
    leases.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < leases.length; i++) expect(leases[i]![0]).toBeGreaterThanOrEqual(leases[i - 1]![1]);
  });

  it("the per-process buckets it replaces exceed the share with as few as two processes", async () => {
    // Prepare: the old pacing, one local bucket per process at the same share
    const clock = virtualClock();
    const pacers: Pacer[] = Array.from({ length: 2 }, () => {
      const bucket = new TokenBucket(RATE, BURST, clock.now, clock.sleep);
      return { take: () => bucket.take() };
    });

    // Act
    const times = await run(pacers, 4, 25, clock.sleep);

    // Assess: the 1 s window sees about twice the share
    expect(busiestWindow(times, 1000)).toBeGreaterThan(RATE + BURST);
  });

  it("lets a single busy process reach its full share with few DynamoDB writes", async () => {
    // Prepare
    const clock = virtualClock();
    const pacer = new SharedPacer(new DynamoSlotStore(dynamo(), LOCAL_WORK.budgetTable), rates(RATE), {
      burstSeconds: BURST_SECONDS,
      clock: clock.now,
      sleep: clock.sleep,
    });

    // Act: 16 concurrent callers, 400 calls
    const times = await run([pacer], 16, 25, clock.sleep);

    // Assess: ≥ 95 % of the share, within the bound, a lease per ≥ 5 calls
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    expect((400 - BURST) / span / RATE).toBeGreaterThanOrEqual(0.95);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(RATE + BURST);
    expect(pacer.stats.leases).toBeLessThanOrEqual(400 / 5);
    expect(pacer.stats.wasted).toBe(0);
  });

  it("does not send a request when the schedule cannot be reached (fail safe)", async () => {
    // Prepare: the pacing table does not exist; a paced EKS client on the local account
    const eks = new EKSClient({
      endpoint: ctx.account.endpoint,
      region: REGION,
      maxAttempts: 3,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    pace(eks, "eks", new SharedPacer(new DynamoSlotStore(dynamo(), "no-such-table"), rates(RATE)));
    await ctx.account.resetCalls();

    // Act
    const outcome = eks.send(new ListClustersCommand({}));

    // Assess: a typed error, and EKS never saw the call
    await expect(outcome).rejects.toBeInstanceOf(PacingUnavailableError);
    expect((await ctx.account.calls()).families["eks-read"] ?? 0).toBe(0);
  });

  it("paces the migration's LookupEvents on the account-wide schedule at the share of 2/s", async () => {
    // Prepare: two processes (e.g. two finalize tasks) with the stack's settings, a virtual clock
    const clock = virtualClock();
    const env = { PACING_TABLE: LOCAL_WORK.budgetTable, PACING_SHARE: 0.5, PACING_RATES: undefined };
    const processes = Array.from({ length: 2 }, () => {
      const cloudtrail = new CloudTrailClient({
        endpoint: ctx.account.endpoint,
        region: REGION,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      });
      const pacer = pacedClients(dynamo(), env, { cloudtrail }, { clock: clock.now, sleep: clock.sleep });
      return { cloudtrail, pacer };
    });

    // Act: three lookups each, and a call that is not LookupEvents
    for (let i = 0; i < 3; i++)
      await Promise.all(
        processes.map((p) =>
          p.cloudtrail.send(new LookupEventsCommand({ LookupAttributes: [], MaxResults: 1 })).catch(() => {}),
        ),
      );
    await processes[0]!.cloudtrail.send(new DescribeTrailsCommand({})).catch(() => {});

    // Assess: six LookupEvents tokens, one second apart in all (2/s × 0.5); DescribeTrails took none
    const taken = processes.reduce((n, p) => n + p.pacer.stats.taken, 0);
    expect(taken).toBe(6);
    expect(clock.now() - 1_800_000_000_000).toBeGreaterThanOrEqual(5 * 1000);
  });
});
