import type { MigrationDeps } from "./deps.js";

/** Milliseconds the current invocation has left (Lambda: `context.getRemainingTimeInMillis`). */
export type RemainingTime = () => number;

/** Lambda's longest invocation: the budget of a task run without a Lambda context. */
export const LAMBDA_LIMIT_MS = 900_000;

/**
 * A chunk's time budget: a task stops starting new work once no more than `marginMs` is left (the
 * margin covers the slowest single step and the writes that record it), and returns `done: false`
 * so the state machine invokes it again.
 */
export class ChunkBudget {
  constructor(
    private readonly remaining: RemainingTime,
    readonly marginMs: number,
  ) {}

  /** true once the chunk must not start another batch */
  spent(): boolean {
    return this.remaining() <= this.marginMs;
  }

  /**
   * The budget of a task run without a Lambda context (the local runner in-process): Lambda's
   * 15 minutes from now, by the injectable clock.
   */
  static fromClock(now: () => Date, marginMs: number, limitMs = LAMBDA_LIMIT_MS): ChunkBudget {
    const start = now().getTime();
    return new ChunkBudget(() => limitMs - (now().getTime() - start), marginMs);
  }
}

/** Where a chunked step stands: stored under the execution's own run key, never in the payload. */
export interface ChunkProgress {
  /** index into the step's (stable, stored) item list of the first item not yet done */
  next: number;
  counts: Record<string, number>;
  /** the first notes items produced (problems, kept short) */
  notes: string[];
}

/** What a chunked task returns to the state machine (small: counts only). */
export interface ChunkResult {
  done: boolean;
  processed: number;
  total: number;
  counts: Record<string, number>;
}

const MAX_NOTES = 20;

/**
 * Works through `items` (a list stored with the run, same order on every call) from the position
 * recorded under `key`, in batches of `batchSize` run concurrently, recording the position and
 * counts after each batch, until all are done or `budget` is spent. At least one batch runs per
 * call, so a loop of calls always ends. `work` must be idempotent: a batch interrupted before its
 * position was recorded is done again (its outcome re-derived from the live state).
 */
export async function workInChunks<T>(
  deps: Pick<MigrationDeps, "store">,
  runKey: string,
  key: string,
  items: readonly T[],
  options: { budget: ChunkBudget; batchSize: number },
  work: (item: T) => Promise<{ outcome: string; note?: string }>,
): Promise<ChunkResult & { notes: string[] }> {
  const progress: ChunkProgress = (await deps.store.get<ChunkProgress>(runKey, key)) ?? {
    next: 0,
    counts: {},
    notes: [],
  };
  const batchSize = Math.max(1, options.batchSize);
  let first = true;
  while (progress.next < items.length && (first || !options.budget.spent())) {
    first = false;
    const batch = items.slice(progress.next, progress.next + batchSize);
    const results = await Promise.all(batch.map((item) => work(item)));
    for (const r of results) {
      progress.counts[r.outcome] = (progress.counts[r.outcome] ?? 0) + 1;
      if (r.note && progress.notes.length < MAX_NOTES) progress.notes.push(r.note);
    }
    progress.next += batch.length;
    await deps.store.put(runKey, key, progress);
  }
  return {
    done: progress.next >= items.length,
    processed: progress.next,
    total: items.length,
    counts: progress.counts,
    notes: progress.notes,
  };
}
