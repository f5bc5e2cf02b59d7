import { beforeAll, describe, expect, it } from "vitest";
import { policiesEqual } from "../../functions/core/trust/edit.js";
import type { ChunkProgress } from "../../functions/migration/chunks.js";
import { CHUNK_MARGIN_MS } from "../../functions/migration/deps.js";
import type { MigrationTask } from "../../functions/migration/index.js";
import { KEYS } from "../../functions/migration/plan.js";
import { associationsOf, createIrsaRole, irsaCluster, trustOf } from "../support/irsa.js";
import { awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { type MigrationHarness, migrationHarness } from "../support/migration.js";

const ctx = useLocalAccount();
let h: MigrationHarness;

beforeAll(async () => {
  h = await migrationHarness(ctx.account.env());
}, 120_000);

/**
 * Invokes the built bundle with a Lambda context whose clock runs one second per look: the
 * budget allows `batches` batches per invocation, whatever the real time (nothing sleeps).
 */
function chunkedInvoke(batches: number) {
  return (task: MigrationTask) => {
    let left = CHUNK_MARGIN_MS + batches * 1000 - 500;
    return h.bundle(task, { getRemainingTimeInMillis: () => (left -= 1000) });
  };
}

/** Ten service accounts over three roles, on cluster "prod". */
async function tenServiceAccounts() {
  const c = awsClientsFor(ctx.account.endpoint);
  await irsaCluster(c, "prod");
  await createIrsaRole(c, "r1", { prod: ["a/s1", "a/s2", "a/s3", "a/s4"] });
  await createIrsaRole(c, "r2", { prod: ["b/s1", "b/s2", "b/s3"] });
  await createIrsaRole(c, "r3", { prod: ["c/s1", "c/s2", "c/s3"] });
  return {
    c,
    originals: { r1: await trustOf(c, "r1"), r2: await trustOf(c, "r2"), r3: await trustOf(c, "r3") },
  };
}

const count = (tasks: string[], name: string) => tasks.filter((t) => t === name).length;

describe("migration tasks in resumable chunks (synthesized definitions, built bundle, local account)", () => {
  it("a small time budget splits associate and verify into chunks; each item converges exactly once, a redelivered chunk creates nothing twice", async () => {
    // Prepare: 10 service accounts, 2 per batch, 2 batches per invocation: 3 chunks each
    const { c } = await tenServiceAccounts();
    await ctx.account.resetCalls();
    let associateCalls = 0;
    let rewound: ChunkProgress | undefined;
    let runKey = "";
    let redelivered = false;

    // Act: the second associate chunk does its work, then "crashes" before its position is
    // recorded (the position is put back) and Lambda reports a service error: Step Functions retries
    const result = await h.migrate(
      { clusterName: "prod", maxConcurrency: 2 },
      {
        invoke: chunkedInvoke(2),
        beforeTask: async (state, task) => {
          if (state !== "CreateAssociations" || ++associateCalls !== 2) return;
          const execution = await h.deps.executions.describe(task.executionArn);
          const { runKeyOf } = await import("../../functions/migration/authority.js");
          runKey = runKeyOf(execution!);
          rewound = await h.deps.store.get<ChunkProgress>(runKey, KEYS.progress("associate"));
        },
        afterTask: async (state) => {
          if (state !== "CreateAssociations" || associateCalls !== 2 || !rewound) return;
          await h.deps.store.put(runKey, KEYS.progress("associate"), rewound);
          rewound = undefined;
          redelivered = true;
          throw Object.assign(new Error("lost response"), { name: "Lambda.ServiceException" });
        },
      },
    );

    // Assess
    expect(redelivered).toBe(true);
    expect(result.status).toBe("succeeded");
    expect(count(result.tasks, "CreateAssociations")).toBe(4); // 3 chunks + 1 redelivery
    expect(count(result.tasks, "Verify")).toBe(3);
    expect(result.report?.serviceAccounts.map((s) => s.outcome)).toEqual(Array(10).fill("migrated"));
    expect((await associationsOf(c, "prod")).length).toBe(10);
    const associate = await h.deps.store.get<ChunkProgress>(result.runKey, KEYS.progress("associate"));
    expect(associate).toMatchObject({ next: 10, counts: { created: 10 } });
    expect(await h.deps.store.list(result.runKey, "assoc#")).toHaveLength(10);
    // the redelivered chunk re-tried its 4 creates: each answered 409 (already there), none twice
    expect((await ctx.account.calls()).calls.CreatePodIdentityAssociation).toBe(14);
    expect(await h.deps.store.get(result.runKey, KEYS.progress("verify"))).toMatchObject({
      next: 10,
      counts: { verified: 10 },
    });
  }, 60_000);

  it("a rollback in chunks undoes every association and trust edit once, also when a chunk is redelivered", async () => {
    // Prepare
    const { c, originals } = await tenServiceAccounts();
    let rollbackCalls = 0;
    let runKey = "";
    let redelivered = false;
    let rewound: ChunkProgress | undefined;

    // Act: verify fails; the rollback runs 2 batches per invocation, its third chunk is redelivered
    const result = await h.migrate(
      { clusterName: "prod", maxConcurrency: 2 },
      {
        invoke: chunkedInvoke(2),
        beforeTask: async (state, task) => {
          if (state === "Verify")
            throw Object.assign(new Error("injected fault at Verify"), { name: "InjectedFault" });
          if (state !== "Rollback" || ++rollbackCalls !== 3) return;
          const { runKeyOf } = await import("../../functions/migration/authority.js");
          runKey = runKeyOf((await h.deps.executions.describe(task.executionArn))!);
          rewound = await h.deps.store.get<ChunkProgress>(runKey, KEYS.progress("rollback-associations"));
        },
        afterTask: async (state) => {
          if (state !== "Rollback" || rollbackCalls !== 3 || !rewound) return;
          await h.deps.store.put(runKey, KEYS.progress("rollback-associations"), rewound);
          rewound = undefined;
          redelivered = true;
          throw Object.assign(new Error("lost response"), { name: "Lambda.ServiceException" });
        },
      },
    );

    // Assess
    expect(redelivered).toBe(true);
    expect(result.report?.outcome).toBe("rolled-back");
    expect(count(result.tasks, "Rollback")).toBeGreaterThanOrEqual(4);
    expect(await associationsOf(c, "prod")).toEqual([]);
    for (const role of ["r1", "r2", "r3"] as const)
      expect(policiesEqual(await trustOf(c, role), originals[role])).toBe(true);
    expect(result.report?.undone).toMatchObject({ complete: true, incomplete: [] });
    expect(result.report?.undone?.undoneRoles.sort()).toEqual(["r1", "r2", "r3"]);
    expect(result.report?.undone?.deletedAssociations.sort()).toEqual([
      "a/s1",
      "a/s2",
      "a/s3",
      "a/s4",
      "b/s1",
      "b/s2",
      "b/s3",
      "c/s1",
      "c/s2",
      "c/s3",
    ]);
  }, 60_000);

  it("podid migrate rollback of a finished run works in chunks too", async () => {
    // Prepare: a finished run of 10 service accounts
    const { c, originals } = await tenServiceAccounts();
    const run = await h.migrate({ clusterName: "prod", maxConcurrency: 2 });
    const runId = run.executionArn.split(":").pop()!;

    // Act: 2 batches (of 4) per invocation
    const undone = await h.rollback({ clusterName: "prod", runId }, { invoke: chunkedInvoke(2) });

    // Assess
    expect(run.status).toBe("succeeded");
    expect(undone.status).toBe("succeeded");
    expect(count(undone.tasks, "Rollback")).toBeGreaterThanOrEqual(2);
    expect(undone.report).toMatchObject({ outcome: "succeeded", complete: true, incomplete: [] });
    expect(undone.report?.deletedAssociations).toHaveLength(10);
    expect(await associationsOf(c, "prod")).toEqual([]);
    for (const role of ["r1", "r2", "r3"] as const)
      expect(policiesEqual(await trustOf(c, role), originals[role])).toBe(true);
  }, 60_000);

  it("finalize in chunks: CloudTrail per role, then removal per role; a redelivered removal chunk edits nothing twice", async () => {
    // Prepare: a finished run of 10 service accounts over 3 roles; no pod ever used IRSA
    const { c } = await tenServiceAccounts();
    const run = await h.migrate({ clusterName: "prod", maxConcurrency: 2 });
    const irsaOf = async (role: string) => (await trustOf(c, role)).includes("AssumeRoleWithWebIdentity");
    let finalizeCalls = 0;
    let runKey = "";
    let rewound: ChunkProgress | undefined;
    let redelivered = false;
    await ctx.account.resetCalls();

    // Act: one role per invocation; the fourth invocation removes r2's subs, then "crashes"
    // before its position is recorded and is redelivered
    const done = await h.finalize(
      { clusterName: "prod", quietSeconds: 60, evidenceLagSeconds: 0 },
      {
        invoke: chunkedInvoke(1),
        beforeTask: async (state, task) => {
          if (state !== "Finalize" || ++finalizeCalls !== 4) return;
          const { runKeyOf } = await import("../../functions/migration/authority.js");
          runKey = runKeyOf((await h.deps.executions.describe(task.executionArn))!);
          rewound = await h.deps.store.get<ChunkProgress>(runKey, KEYS.progress("finalize-remove"));
        },
        afterTask: async (state) => {
          if (state !== "Finalize" || finalizeCalls !== 4 || !rewound) return;
          await h.deps.store.put(runKey, KEYS.progress("finalize-remove"), rewound);
          rewound = undefined;
          redelivered = true;
          throw Object.assign(new Error("lost response"), { name: "Lambda.ServiceException" });
        },
      },
    );

    // Assess
    expect(run.status).toBe("succeeded");
    expect(redelivered).toBe(true);
    expect(done.status).toBe("succeeded");
    expect(count(done.tasks, "Finalize")).toBeGreaterThanOrEqual(5);
    expect(done.report).toMatchObject({ complete: true, notMigrated: [] });
    expect(done.report?.decisions.filter((d) => d.removed)).toHaveLength(10);
    for (const role of ["r1", "r2", "r3"]) expect(await irsaOf(role)).toBe(false);
    // one trust write per role: the redelivered chunk found r2's write recorded
    expect((await ctx.account.calls()).calls.UpdateAssumeRolePolicy).toBe(3);
    expect(await h.deps.store.get(runKey, KEYS.progress("finalize-evidence"))).toMatchObject({ next: 3 });
  }, 60_000);
});
