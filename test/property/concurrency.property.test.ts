import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { enqueueSweep } from "../../functions/app/enqueue-sweep.js";
import { refreshTemplate } from "../../functions/app/refresh-template.js";
import { handleWorkBatch } from "../../functions/app/work-items.js";
import { budgetLimit } from "../../functions/core/budget.js";
import { computeDesired } from "../../functions/core/desired.js";
import type { AssociationInfo } from "../../functions/core/model.js";
import { slotKey } from "../../functions/core/model.js";
import { isManaged } from "../../functions/core/plan.js";
import { MANAGED_BY_VALUE, TAG } from "../../functions/core/tags.js";
import { ACCOUNT, cluster, role, template } from "../support/fleet.js";
import { type Gate, MemoryQueue, memoryWorld, openGate, SETTINGS } from "../support/memory-ports.js";
import { drainMemory } from "../support/work.js";

/**
 * Concurrency property suite of the work-queue model: random interleavings (fast-check's
 * scheduler decides the order of every port call) of sweeps, IAM events, cluster events and a
 * person editing associations, with several workers draining the queue at once and redelivered
 * items. Invariants: deletions never exceed the account-wide budget; nothing unmanaged or
 * add-on-owned is written; once the triggers stop, one sweep reaches exactly the desired state
 * (so a revoked binding stays revoked).
 */
const CLUSTERS = ["c0", "c1", "c2"];
const TEMPLATES = ["t0", "t1", "t2", "t3"];
const SLOTS = ["a/s0", "a/s1", "b/s0", "b/s1", "b/s2"];
const RUNS = Number(process.env.CONCURRENCY_RUNS ?? 60);
const SEED = Number(process.env.CONCURRENCY_SEED ?? 4242);

const bindings = fc.subarray(SLOTS, { minLength: 0, maxLength: 3 });
const selector = fc.constantFrom("all", "name:c0", "name:c1", "prefix:c");
const trigger = fc.oneof(
  fc.record({
    kind: fc.constant("retag" as const),
    t: fc.constantFrom(...TEMPLATES),
    bind: bindings,
    sel: selector,
  }),
  fc.record({ kind: fc.constant("untag" as const), t: fc.constantFrom(...TEMPLATES) }),
  fc.record({ kind: fc.constant("cluster" as const), c: fc.constantFrom(...CLUSTERS) }),
  fc.record({ kind: fc.constant("sweep" as const) }),
  fc.record({
    kind: fc.constant("human" as const),
    op: fc.constantFrom("repoint", "delete", "create-unmanaged", "take-over"),
    c: fc.constantFrom(...CLUSTERS),
    slot: fc.constantFrom(...SLOTS),
  }),
);

function templateRole(name: string, bind: string[], sel: string) {
  return bind.length > 0 ? template(name, bind.join(" "), sel) : role(name, { [TAG.clusters]: sel });
}

function world(gate: Gate) {
  const w = memoryWorld(gate);
  for (const c of CLUSTERS) w.eks.clusters.set(c, cluster(c));
  // a slot someone else owns (unmanaged) and one an add-on owns: never to be touched
  const foreign = (c: string, slot: string, extra: Partial<AssociationInfo>): AssociationInfo => {
    const [namespace, serviceAccount] = slot.split("/") as [string, string];
    return {
      clusterName: c,
      namespace,
      serviceAccount,
      associationId: `foreign-${c}-${namespace}-${serviceAccount}`,
      associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/${c}/foreign`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/someone-else`,
      tags: {},
      disableSessionTags: false,
      ...extra,
    };
  };
  w.eks.associations.set("foreign-1", foreign("c0", "a/s0", { associationId: "foreign-1" }));
  w.eks.associations.set(
    "foreign-2",
    foreign("c1", "b/s0", {
      associationId: "foreign-2",
      ownerArn: `arn:aws:eks:us-east-1:${ACCOUNT}:addon/c1/x/1`,
    }),
  );
  return w;
}

describe("concurrent triggers, workers and a person on the work-queue model", () => {
  it("keeps the budget, never touches foreign associations, and converges in one sweep", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(bindings, selector), { minLength: 4, maxLength: 4 }),
        fc.array(trigger, { minLength: 3, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.scheduler(),
        async (initial, triggers, workers, s) => {
          // Prepare: templates, one quiet sweep
          let gate: Gate = openGate;
          const w = world((label, call) => gate(label, call));
          for (const [i, [bind, sel]] of initial.entries())
            w.iam.roles.set(`t${i}`, templateRole(`t${i}`, bind, sel));
          await enqueueSweep(w.deps, ACCOUNT);
          await drainMemory(w, 2);
          const managedAtStart = [...w.eks.associations.values()].filter(isManaged).length;
          const writesBefore = w.eks.writes.length;
          let humanIds = 0;

          // Act: every trigger at once, workers draining (one in flight per cluster), redeliveries
          gate = (label, call) => s.schedule(Promise.resolve(label), label).then(() => call());
          const run = async (t: (typeof triggers)[number]) => {
            switch (t.kind) {
              case "retag":
                w.iam.roles.set(t.t, templateRole(t.t, t.bind, t.sel));
                return void (await refreshTemplate(w.deps, ACCOUNT, t.t));
              case "untag":
                w.iam.roles.set(t.t, role(t.t));
                return void (await refreshTemplate(w.deps, ACCOUNT, t.t));
              case "cluster":
                return void (await w.queue.enqueue([{ clusterName: t.c, trigger: "cluster-event" }]));
              case "sweep":
                return void (await enqueueSweep(w.deps, ACCOUNT));
              case "human": {
                await s.schedule(Promise.resolve("human"), "human");
                const [namespace, serviceAccount] = t.slot.split("/") as [string, string];
                const there = w.eks.inSlot({ clusterName: t.c, namespace, serviceAccount });
                if (t.op === "delete" && there && !there.ownerArn) w.eks.human("delete", there);
                if (t.op === "repoint" && there && !there.ownerArn)
                  w.eks.human("update", { ...there, roleArn: `arn:aws:iam::${ACCOUNT}:role/hand-made` });
                // a person takes an association over: from now on it is not the automation's
                if (t.op === "take-over" && there && !there.ownerArn)
                  w.eks.human("update", { ...there, tags: { owner: "team-x" } });
                if (t.op === "create-unmanaged" && !there)
                  w.eks.human("create", {
                    clusterName: t.c,
                    namespace,
                    serviceAccount,
                    associationId: `human-${++humanIds}`,
                    associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/${t.c}/human-${humanIds}`,
                    roleArn: `arn:aws:iam::${ACCOUNT}:role/hand-made`,
                    tags: {},
                    disableSessionTags: false,
                  });
                return;
              }
            }
          };
          let triggersDone = false;
          const worker = async (n: number) => {
            let redelivered = false;
            for (;;) {
              // one event of the event source mapping: batches of one to three clusters
              const batch = w.queue.receiveBatch(1 + (n % 3));
              if (batch.length === 0) {
                if (triggersDone && w.queue.pending.length === 0 && w.queue.inFlight.size === 0) return;
                await s.schedule(Promise.resolve(`idle-${n}`), `idle-${n}`);
                continue;
              }
              const out = await handleWorkBatch(w.deps, SETTINGS, MemoryQueue.groups(batch));
              for (const [cluster, o] of out.outcomes)
                if (o.status === "failed") throw new Error(`${cluster}: ${o.error}`);
              for (const m of batch) {
                // at-least-once delivery: now and then the same items come again
                if (!redelivered && m.ids[0]! % 3 === 0) {
                  redelivered = true;
                  w.queue.redeliver(m);
                } else w.queue.ack(m);
              }
            }
          };
          const all = Promise.all(triggers.map(run)).then(() => {
            triggersDone = true;
          });
          const draining = Promise.all(Array.from({ length: workers }, (_, n) => worker(n)));
          await s.waitFor(Promise.all([all, draining]));

          // Assess 1: deletions within the budget of the window
          const during = w.eks.writes.slice(writesBefore);
          const deleted = during.filter((x) => x.by === "automation" && x.op === "delete").length;
          const limits = [...w.budget.windows.values()];
          expect(deleted).toBeLessThanOrEqual(limits.reduce((n, l) => n + l.limit, 0));
          for (const l of limits) expect(l.used).toBeLessThanOrEqual(l.limit);
          for (const l of limits) expect(l.limit).toBeLessThanOrEqual(budgetLimit(managedAtStart + 20));
          // Assess 2: the automation never wrote to an association it does not manage
          for (const x of w.eks.writes.filter((x) => x.by === "automation" && x.before)) {
            expect(x.before!.tags[TAG.managedBy]).toBe(MANAGED_BY_VALUE);
            expect(x.before!.ownerArn).toBeUndefined();
          }

          // Assess 3: triggers stop; held deletions approved; one sweep reaches the desired state
          gate = openGate;
          for (const h of w.budget.items.values()) h.status = "approved";
          w.advance(3_600_000);
          await enqueueSweep(w.deps, ACCOUNT);
          await drainMemory(w, 2);
          const desired = computeDesired({
            clusters: [...w.eks.clusters.values()],
            roles: [...w.iam.roles.values()],
            accountId: ACCOUNT,
          });
          const actual = [...w.eks.associations.values()];
          const foreign = new Set(actual.filter((a) => !isManaged(a)).map((a) => slotKey(a)));
          for (const [key, d] of desired.desired) {
            if (foreign.has(key)) continue;
            const a = actual.find((x) => slotKey(x) === key);
            expect(a, `missing ${key}`).toBeDefined();
            expect(a!.roleArn).toBe(d.roleArn);
            expect(a!.tags[TAG.source]).toBe(d.source);
          }
          // conflicting or refused slots are held as they are; every other managed one is desired
          for (const a of actual.filter(isManaged))
            expect(
              desired.desired.has(slotKey(a)) || desired.held.has(slotKey(a)),
              `left over ${slotKey(a)}`,
            ).toBe(true);
          const touched = w.eks.writes.filter(
            (x) => x.by === "automation" && x.before?.associationId.startsWith("foreign"),
          );
          expect(touched).toEqual([]);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);
});
