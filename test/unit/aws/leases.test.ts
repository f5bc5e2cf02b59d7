import { describe, expect, it } from "vitest";
import { LeaseBusyError, roleLeaseKey, withLease } from "../../../functions/aws/leases.js";

/** Leases in memory with the adapter's rule: free, expired or the owner's own. */
function memoryLeases() {
  const held = new Map<string, { owner: string; until: number }>();
  const log: string[] = [];
  return {
    held,
    log,
    async acquire(key: string, owner: string, seconds: number, now: Date) {
      const h = held.get(key);
      if (h && h.until >= now.getTime() && h.owner !== owner)
        throw new LeaseBusyError(`${key} busy`, h.owner);
      held.set(key, { owner, until: now.getTime() + seconds * 1000 });
      log.push(`acquire ${owner}`);
    },
    async release(key: string, owner: string) {
      if (held.get(key)?.owner === owner) held.delete(key);
      log.push(`release ${owner}`);
    },
  };
}

describe("withLease", () => {
  it("waits with back-off for a busy lease, then throws LeaseBusy without running the edit", async () => {
    // Prepare: another owner holds the lease for longer than the wait
    const leases = memoryLeases();
    const now = new Date("2026-11-23T12:00:00Z");
    await leases.acquire("k", "other", 60, now);
    const slept: number[] = [];
    let edited = false;
    // Act
    const outcome = await withLease(
      leases,
      "k",
      "me",
      { seconds: 60, waitMs: 1000, now: () => now, sleep: async (ms) => void slept.push(ms) },
      async () => {
        edited = true;
      },
    ).catch((e: unknown) => e);
    // Assess
    expect(outcome).toBeInstanceOf(LeaseBusyError);
    expect(edited).toBe(false);
    expect(slept).toEqual([50, 100, 200, 400, 800]);
    expect(leases.held.get("k")?.owner).toBe("other");
  });

  it("takes an expired lease and gives it back even when the edit fails", async () => {
    // Prepare: a lease whose holder died a minute ago
    const leases = memoryLeases();
    let t = new Date("2026-11-23T12:00:00Z").getTime();
    await leases.acquire("k", "dead", 60, new Date(t));
    t += 61_000;
    // Act
    const outcome = await withLease(
      leases,
      "k",
      "me",
      { seconds: 60, waitMs: 0, now: () => new Date(t), sleep: async () => {} },
      async () => {
        throw new Error("IAM failed");
      },
    ).catch((e: unknown) => e);
    // Assess
    expect((outcome as Error).message).toBe("IAM failed");
    expect(leases.log.slice(1)).toEqual(["acquire me", "release me"]);
    expect(leases.held.has("k")).toBe(false);
  });

  it("keys a role by its ARN in lower case, whoever edits it", () => {
    expect(roleLeaseKey("arn:aws:iam::123456789012:role/pod-identity/Pod-Identity-X")).toBe(
      "role#arn:aws:iam::123456789012:role/pod-identity/pod-identity-x",
    );
  });
});
