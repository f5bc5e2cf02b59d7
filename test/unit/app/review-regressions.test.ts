import { describe, expect, it } from "vitest";
import { reconcileCluster } from "../../../functions/app/reconcile-cluster.js";
import { indexedRole } from "../../../functions/app/template-roles.js";
import { TAG } from "../../../functions/core/tags.js";
import { cluster, role, template } from "../../support/fleet.js";
import { memoryWorld, SETTINGS } from "../../support/memory-ports.js";
import { drainMemory, iamEvent, slotsOf, sweep } from "../../support/work.js";

/**
 * The review's reproductions (../shared/reviews/repros: stale-snapshot, scratch-breaker,
 * poc-sweeper) as regression tests of the queue model: they failed on the fan-out model.
 */
describe("review reproductions, on the work-queue model", () => {
  it("a revoked binding is not resurrected by a sweep that read roles before the revocation", async () => {
    // Prepare: prod has legacy/app from template "old"
    const w = memoryWorld();
    w.eks.clusters.set("prod", cluster("prod"));
    w.iam.roles.set("old", template("old", "legacy/app"));
    await sweep(w);
    // a sweep starts: its full read sees "old" still tagged
    const staleRead = indexedRole(w.iam.roles.get("old")!, new Date(Date.parse("2026-11-23T11:59:00Z")));
    // meanwhile "new" appears and "old" is revoked; iam-event refreshes both and the worker runs
    w.iam.roles.set("new", template("new", "web/api"));
    w.iam.roles.set("old", role("old"));
    await iamEvent(w, "new");
    await iamEvent(w, "old");
    await drainMemory(w);
    const afterEvents = slotsOf(w, "prod");

    // Act: the sweep's older read lands in the index late, then the cluster is reconciled again
    await w.index.replaceRoles([staleRead], new Date(staleRead.readAt));
    w.index.roleItems.set("old", staleRead); // even if it got in: the worker confirms from IAM
    await reconcileCluster(w.deps, SETTINGS, "prod");

    // Assess
    expect(afterEvents).toEqual(["web/api"]);
    expect(slotsOf(w, "prod")).toEqual(["web/api"]);
    expect(w.index.roleItems.get("old")).toBeUndefined();
  });

  it("ten concurrent untag events delete no more than the account-wide budget; the rest is held", async () => {
    // Prepare: 10 templates × 4 clusters = 40 managed associations
    const w = memoryWorld();
    for (const n of ["a", "b", "c", "d"]) w.eks.clusters.set(n, cluster(n));
    for (let i = 0; i < 10; i++) w.iam.roles.set(`t${i}`, template(`t${i}`, `ns${i}/sa`));
    await sweep(w);
    const before = w.eks.associations.size;

    // Act: a bad apply untags every template; ten iam-events at once; four workers drain
    for (let i = 0; i < 10; i++) w.iam.roles.set(`t${i}`, role(`t${i}`, { [TAG.clusters]: "all" }));
    w.advance(60_000);
    await Promise.all(Array.from({ length: 10 }, (_, i) => iamEvent(w, `t${i}`)));
    await drainMemory(w, 4);

    // Assess: max(5, 10 % of 40) = 5 deleted, 35 held for an operator
    expect(before).toBe(40);
    expect(w.eks.associations.size).toBe(35);
    expect(w.budget.drawn()).toBe(5);
    expect([...w.budget.items.values()].filter((h) => h.status === "held")).toHaveLength(35);
  });

  it("approving held deletions lets the worker delete them; rejecting keeps the association", async () => {
    const w = memoryWorld();
    w.eks.clusters.set("a", cluster("a"));
    w.iam.roles.set("t", template("t", "x/s1 x/s2 x/s3 x/s4 x/s5 x/s6 x/s7"));
    await sweep(w);
    w.iam.roles.set("t", role("t"));
    await sweep(w);
    const held = [...w.budget.items.values()];

    await w.budget.decide(held[0]!.id, "approved");
    await w.budget.decide(held[1]!.id, "rejected");
    await sweep(w);

    expect(held).toHaveLength(2);
    expect(slotsOf(w, "a")).toHaveLength(1);
    expect(w.budget.items.get(held[0]!.id)).toBeUndefined();
    expect(w.budget.items.get(held[1]!.id)?.status).toBe("rejected");
  });

  it("however the sweep is split, deletions account-wide stay within one budget (fan-out share)", async () => {
    // Prepare: 200 clusters; 100 managed associations in 20 of them (5 each)
    const w = memoryWorld();
    for (let i = 0; i < 200; i++) w.eks.clusters.set(`c-${i}`, cluster(`c-${i}`, { group: String(i % 10) }));
    for (let g = 0; g < 20; g++)
      w.iam.roles.set(`t${g}`, template(`t${g}`, "a/s1 a/s2 a/s3 a/s4 a/s5", `name:c-${g * 10}`));
    await sweep(w, 8);

    // Act: one binding goes from each of the 20 templates (20 deletions wanted)
    for (let g = 0; g < 20; g++)
      w.iam.roles.set(`t${g}`, template(`t${g}`, "a/s1 a/s2 a/s3 a/s4", `name:c-${g * 10}`));
    await sweep(w, 8);

    // Assess: one budget for the account: max(5, 10 % of 100) = 10, whatever the workers
    expect(w.budget.drawn()).toBe(10);
    expect(w.eks.associations.size).toBe(90);
    expect(w.budget.items.size).toBe(10);
  });

  it("re-checks right before a delete: an association a person took over meanwhile is left alone", async () => {
    const w = memoryWorld();
    w.eks.clusters.set("a", cluster("a"));
    w.iam.roles.set("t", template("t", "x/s1"));
    await sweep(w);
    w.iam.roles.set("t", role("t"));
    await iamEvent(w, "t");
    const [a] = [...w.eks.associations.values()];
    // the person's change lands between the worker's read and its delete
    const describe = w.eks.describeAssociation.bind(w.eks);
    let first = true;
    w.eks.describeAssociation = async (c, id) => {
      if (first) {
        first = false;
        w.eks.human("update", { ...a!, tags: { owner: "team-x" } });
      }
      return await describe(c, id);
    };

    const result = await reconcileCluster(w.deps, SETTINGS, "a");

    expect(result.stale).toBe(1);
    expect(result.deleted).toBe(0);
    expect(w.eks.writes.filter((x) => x.by === "automation" && x.op === "delete")).toEqual([]);
    expect(slotsOf(w, "a")).toEqual(["x/s1"]);
  });

  it("iam-event enqueues only the clusters the role selected before or selects now", async () => {
    const w = memoryWorld();
    for (let i = 0; i < 50; i++) w.eks.clusters.set(`c-${i}`, cluster(`c-${i}`));
    w.iam.roles.set("one", template("one", "a/s", "name:c-7"));
    w.iam.roles.set("all", template("all", "b/s"));
    await sweep(w);

    w.iam.roles.set("one", template("one", "a/s", "name:c-9"));
    const refreshed = await iamEvent(w, "one");

    expect(refreshed.clusters).toEqual(["c-7", "c-9"]);
    expect(w.queue.pending.map((m) => m.item.clusterName)).toEqual(["c-7", "c-9"]);
  });

  it("before the first sweep, iam-event enqueues every cluster: the index cannot tell which the role selects", async () => {
    // Prepare: a fresh deployment, clusters that no sweep or cluster event has put in the index
    const w = memoryWorld();
    for (const n of ["prod", "dev"]) w.eks.clusters.set(n, cluster(n));
    w.iam.roles.set("api", template("api", "web/api", "name:prod"));

    // Act
    const refreshed = await iamEvent(w, "api");
    await drainMemory(w);

    // Assess
    expect(refreshed.clusters).toEqual(["dev", "prod"]);
    expect(slotsOf(w, "prod")).toEqual(["web/api"]);
    expect(slotsOf(w, "dev")).toEqual([]);
  });
});
