import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalAccount, startLocalAccount } from "../../local/index.js";
import { writeCalls } from "../support/local-account.js";

/**
 * Fuzz of every handler with generated and mutated events (wrong types, missing fields, huge
 * strings, unicode, errorCode events, other sources): no unhandled exception, no AWS write, a
 * logged reason for each rejection. The account is empty, so even an event that stays valid
 * after mutation has nothing to change.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 7331);
const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);

type Handler = (event: unknown) => Promise<{ status?: string; reason?: string }>;
let account: LocalAccount;
const handlers: Record<string, Handler> = {};
const logged: string[] = [];
const totalCalls = () => [...account.front.faults.calls.values()].reduce((a, b) => a + b, 0);
const samples = readdirSync("events")
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(`events/${f}`, "utf8")) as Record<string, unknown>);

beforeAll(async () => {
  account = await startLocalAccount();
  Object.assign(process.env, account.env(), {
    ACCOUNT_ID: "123456789012",
    POWERTOOLS_LOG_LEVEL: "WARN",
    POWERTOOLS_METRICS_DISABLED: "true",
    AWS_MAX_ATTEMPTS: "1",
    // the fuzz is about input handling: no client-side pacing of its many reads
    PACING_SHARE: "1",
    PACING_RATES: "eks-read=100000,eks-write=100000,iam-read=100000,iam-write=100000",
  });
  handlers["cluster-event"] = (await import("../../functions/cluster-event/index.js")).handler as Handler;
  handlers["iam-event"] = (await import("../../functions/iam-event/index.js")).handler as Handler;
  handlers.sweeper = (await import("../../functions/sweeper/index.js")).handler as Handler;
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  await account.stop();
});

const weird = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.string({ minLength: 5000, maxLength: 20000 }),
  fc.constant("../../etc/passwd"),
  fc.constant("arn:aws:eks:us-east-1:123456789012:cluster/x"),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

/** A sample event with one field, at any depth, replaced, removed, or errorCode set. */
const mutated = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    weird,
    fc.constantFrom("replace", "delete", "errorCode", "source"),
  )
  .map(([sample, path, value, how]) => {
    const event = structuredClone(sample) as Record<string, any>;
    if (how === "errorCode") {
      if (event.detail && typeof event.detail === "object")
        event.detail.errorCode = typeof value === "string" ? value : "AccessDenied";
      return event;
    }
    if (how === "source") {
      event.source = typeof value === "string" ? value : "aws.s3";
      return event;
    }
    let node: any = event;
    for (let i = 0; i < path.length - 1; i++) {
      const keys = node && typeof node === "object" ? Object.keys(node) : [];
      if (keys.length === 0) break;
      const next = node[keys[path[i]! % keys.length]!];
      if (!next || typeof next !== "object") break;
      node = next;
    }
    const keys = Object.keys(node);
    if (keys.length > 0) {
      const key = keys[path.at(-1)! % keys.length]!;
      if (how === "delete") delete node[key];
      else node[key] = value;
    }
    return event;
  });

const generated = fc.oneof(weird, fc.jsonValue(), fc.object(), mutated, mutated, mutated);

describe("handler fuzz", () => {
  it(`survives ${RUNS * 3} generated and mutated events without a write or an unexplained rejection`, async () => {
    await account.resetCalls();
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(generated, async (event) => {
        for (const name of ["cluster-event", "iam-event", "sweeper"]) {
          const before = logged.length;
          const callsBefore = totalCalls();
          const out = await handlers[name]!(event);
          expect(out).toBeTypeOf("object");
          if (out.status === "rejected") {
            rejected++;
            expect(out.reason).toBeTypeOf("string");
            expect(logged.slice(before).join("")).toMatch(/event rejected/);
            // a rejected event makes no AWS call at all
            expect(totalCalls()).toBe(callsBefore);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // events that stay valid after mutation reconcile an empty account: they change nothing
    // (PutEvents is the run's own notification, PutItem the template index's record of a sweep's
    // read, SendMessageBatch a work item for the worker, Query a read: none changes the account)
    const {
      PutEvents: _notifications,
      PutItem: _index,
      SendMessageBatch: _work,
      Query: _read,
      ...writes
    } = writeCalls((await account.calls()).calls);
    expect(writes).toEqual({});
    expect(rejected).toBeGreaterThan(RUNS);
  }, 300_000);
});
