import { describe, expect, it } from "vitest";
import { familyOf, parseRates, sharedRates, TokenBucket } from "../../../functions/aws/pacing.js";

/** A bucket on a fake clock: sleeping advances the clock, nothing waits for real. */
function fakeBucket(rate: number, burst: number) {
  let now = 0;
  const bucket = new TokenBucket(
    rate,
    burst,
    () => now,
    async (ms) => {
      now += ms;
    },
  );
  return { bucket, now: () => now };
}

describe("client-side pacing", () => {
  it("lets a burst go at once, then exactly `rate` calls per second", async () => {
    const { bucket, now } = fakeBucket(10, 5);

    for (let i = 0; i < 5; i++) await bucket.take();
    const afterBurst = now();
    for (let i = 0; i < 10; i++) await bucket.take();

    expect(afterBurst).toBe(0);
    expect(now()).toBeCloseTo(1000, 5);
  });

  it("serves concurrent callers in order without exceeding the rate", async () => {
    const times: number[] = [];
    let now = 0;
    const bucket = new TokenBucket(
      4,
      1,
      () => now,
      async (ms) => {
        await Promise.resolve();
        now = Math.max(now, ms + 0);
      },
    );
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        await bucket.take();
        times.push(now);
      }),
    );
    expect(times.length).toBe(8);
  });

  it("takes half of each family's rate by default share 0.5", () => {
    const rates = sharedRates(0.5, parseRates("eks-read=20,eks-write=5"));
    expect(rates["eks-read"]).toBe(10);
    expect(rates["eks-write"]).toBe(2.5);
    expect(rates["iam-read"]).toBe(10);
  });

  it("names the family of an operation and refuses unknown rate settings", () => {
    expect(familyOf("eks", "DescribePodIdentityAssociationCommand")).toBe("eks-read");
    expect(familyOf("eks", "DeletePodIdentityAssociationCommand")).toBe("eks-write");
    expect(familyOf("iam", "GetAccountAuthorizationDetailsCommand")).toBe("iam-read");
    expect(() => parseRates("s3-read=5")).toThrow(/PACING_RATES/);
    expect(() => parseRates("eks-read=0")).toThrow(/PACING_RATES/);
  });
});
