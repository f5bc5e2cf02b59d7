import { describe, expect, it } from "vitest";
import { ChunkBudget, type ChunkProgress, workInChunks } from "../../../functions/migration/chunks.js";

/** The two store operations chunks use, over a map. */
function memoryStore() {
  const items = new Map<string, unknown>();
  return {
    items,
    store: {
      get: async <T>(pk: string, sk: string) => items.get(`${pk}|${sk}`) as T | undefined,
      put: async (pk: string, sk: string, data: unknown) => {
        items.set(`${pk}|${sk}`, structuredClone(data));
        return true;
      },
    },
  };
}

/** A budget that allows `looks` looks before it is spent (a clock that moves one second per look). */
function budgetOf(looks: number): ChunkBudget {
  let left = 10_000 + looks * 1000 + 500;
  return new ChunkBudget(() => (left -= 1000), 10_000);
}

describe("workInChunks", () => {
  it("stops when the budget is spent and resumes from the recorded position", async () => {
    // Prepare
    const { store } = memoryStore();
    const items = Array.from({ length: 7 }, (_, i) => i);
    const seen: number[] = [];
    const work = async (i: number) => {
      seen.push(i);
      return { outcome: i % 2 === 0 ? "even" : "odd", ...(i === 3 ? { note: "three" } : {}) };
    };

    // Act
    const chunk = (looks: number) =>
      workInChunks({ store } as never, "run", "p", items, { budget: budgetOf(looks), batchSize: 2 }, work);
    const first = await chunk(1);
    const second = await chunk(1);
    const third = await chunk(5);

    // Assess
    expect(first).toMatchObject({ done: false, processed: 4, total: 7 });
    expect(second).toMatchObject({ done: true, processed: 7, counts: { even: 4, odd: 3 }, notes: ["three"] });
    expect(third).toMatchObject({ done: true, processed: 7, counts: { even: 4, odd: 3 } });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("always does one batch, even with the budget already spent (a loop of calls always ends)", async () => {
    const { store } = memoryStore();
    const result = await workInChunks(
      { store } as never,
      "run",
      "p",
      [1, 2, 3],
      { budget: budgetOf(-5), batchSize: 2 },
      async () => ({ outcome: "ok" }),
    );
    expect(result).toMatchObject({ done: false, processed: 2 });
  });

  it("records nothing for a batch that fails: its items are done again on the retry", async () => {
    // Prepare
    const { store, items: table } = memoryStore();
    let fail = true;
    const work = async (i: number) => {
      if (i === 3 && fail) throw new Error("throttled");
      return { outcome: "ok" };
    };

    // Act
    const failed = workInChunks(
      { store } as never,
      "run",
      "p",
      [1, 2, 3, 4],
      { budget: budgetOf(9), batchSize: 2 },
      work,
    );
    await expect(failed).rejects.toThrow("throttled");
    const recorded = structuredClone(table.get("run|p")) as ChunkProgress;
    fail = false;
    const retried = await workInChunks(
      { store } as never,
      "run",
      "p",
      [1, 2, 3, 4],
      { budget: budgetOf(9), batchSize: 2 },
      work,
    );

    // Assess
    expect(recorded).toMatchObject({ next: 2, counts: { ok: 2 } });
    expect(retried).toMatchObject({ done: true, processed: 4, counts: { ok: 4 } });
  });

  it("a budget from the clock: Lambda's 15 minutes from the start, less the margin", () => {
    let now = 0;
    const budget = ChunkBudget.fromClock(() => new Date(now), 60_000);
    now = 839_000;
    expect(budget.spent()).toBe(false);
    now = 840_000;
    expect(budget.spent()).toBe(true);
  });
});
