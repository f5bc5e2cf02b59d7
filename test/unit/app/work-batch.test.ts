import { describe, expect, it } from "vitest";
import { readBatchIndex } from "../../../functions/app/batch-index.js";
import { enqueueSweep } from "../../../functions/app/enqueue-sweep.js";
import { indexedRole } from "../../../functions/app/template-roles.js";
import { handleWorkBatch } from "../../../functions/app/work-items.js";
import { cluster, template } from "../../support/fleet.js";
import { type Gate, MemoryIndex, memoryWorld, SETTINGS } from "../../support/memory-ports.js";

/** A gate that counts every port call by label and fails the labels in `failing`. */
function counting(failing: string[] = []) {
  const calls = new Map<string, number>();
  const gate: Gate = async (label, call) => {
    calls.set(label, (calls.get(label) ?? 0) + 1);
    if (failing.includes(label)) throw new Error(`${label} is unavailable`);
    return await call();
  };
  return { calls, gate };
}

const items = (names: string[], sentAtMs = 0) =>
  new Map(names.map((n, i) => [n, { messageIds: [`m-${i}`], sentAtMs: [sentAtMs] }]));

describe("a worker batch", () => {
  it("reads the index once for all its clusters, then reconciles each", async () => {
    // Prepare: three clusters, one template selecting them all, the index built by a sweep
    const { calls, gate } = counting();
    const w = memoryWorld(gate);
    for (const name of ["a", "b", "c"]) w.eks.clusters.set(name, cluster(name));
    w.iam.roles.set("web", template("web", "web/api"));
    await enqueueSweep(w.deps, SETTINGS.accountId);
    calls.clear();

    // Act
    const out = await handleWorkBatch(w.deps, SETTINGS, items(["a", "b", "c"]));

    // Assess: one build-time read, one roles read, one read of the three rows; no read per cluster
    expect(out.failures).toEqual([]);
    expect([...out.outcomes.values()].map((o) => o.status)).toEqual([
      "reconciled",
      "reconciled",
      "reconciled",
    ]);
    expect(w.eks.associations.size).toBe(3);
    expect(calls.get("index.builtAt")).toBe(1);
    expect(calls.get("index.roles")).toBe(1);
    expect(calls.get("index.clustersNamed")).toBe(1);
    expect(calls.get("index.cluster")).toBeUndefined();
  });

  it("reads nothing for a batch whose every item was rejected", async () => {
    // Prepare
    const { calls, gate } = counting();
    const w = memoryWorld(gate);

    // Act
    const out = await handleWorkBatch(w.deps, SETTINGS, new Map());

    // Assess
    expect(out).toMatchObject({ failures: [], coalesced: 0, requeued: 0 });
    expect(calls.size).toBe(0);
  });

  it("coalesces from the rows it read: items sent before the last reconcile started do nothing", async () => {
    // Prepare: a reconciled cluster; one item sent long before that reconcile, one after
    const w = memoryWorld();
    for (const name of ["a", "b"]) w.eks.clusters.set(name, cluster(name));
    w.iam.roles.set("web", template("web", "web/api"));
    await enqueueSweep(w.deps, SETTINGS.accountId);
    await handleWorkBatch(w.deps, SETTINGS, items(["a"]));
    w.advance(60_000);
    const before = Date.parse(w.deps.now().toISOString()) - 120_000;

    // Act
    const out = await handleWorkBatch(w.deps, SETTINGS, items(["a", "b"], before));

    // Assess
    expect(out.outcomes.get("a")).toEqual({ status: "coalesced" });
    expect(out.outcomes.get("b")).toMatchObject({ status: "reconciled" });
    expect(out.coalesced).toBe(1);
  });

  it("fails every item and writes nothing when the index cannot be read", async () => {
    // Prepare
    const { gate } = counting(["index.clustersNamed"]);
    const w = memoryWorld(gate);
    for (const name of ["a", "b"]) w.eks.clusters.set(name, cluster(name));
    w.iam.roles.set("web", template("web", "web/api"));
    await w.index.replaceRoles([indexedRole(w.iam.roles.get("web")!, w.deps.now())], w.deps.now());

    // Act
    const out = await handleWorkBatch(w.deps, SETTINGS, items(["a", "b"]));

    // Assess
    expect(out.failures.sort()).toEqual(["m-0", "m-1"]);
    expect([...out.outcomes.values()].map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(w.eks.writes).toEqual([]);
  });

  it("shares the roles it read until a role is written through it; later reads go to the index", async () => {
    // Prepare: an index with one role
    const index = new MemoryIndex();
    const now = new Date("2026-11-23T12:00:00Z");
    await index.replaceRoles([indexedRole(template("web", "web/api"), now)], now);
    const view = await readBatchIndex(index, ["a"]);
    const api = indexedRole(template("api", "api/app"), now);

    // Act: a write beside the view (another invocation), then one through it (a reconcile of the batch)
    await index.putRole(indexedRole(template("other", "o/o"), now));
    const shared = (await view.roles()).map((r) => r.name).sort();
    await view.putRole(api);
    const after = (await view.roles()).map((r) => r.name).sort();

    // Assess
    expect(shared).toEqual(["web"]);
    expect(after).toEqual(["api", "other", "web"]);
  });
});
