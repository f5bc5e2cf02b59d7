import { beforeAll, describe, expect, it } from "vitest";
import { createIrsaRole, irsaCluster, issuerOf, trustOf } from "../support/irsa.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { type MigrationHarness, migrationHarness } from "../support/migration.js";
import { LocalPods } from "../support/pods.js";

const ctx = useLocalAccount();
let h: MigrationHarness;

beforeAll(async () => {
  h = await migrationHarness(ctx.account.env());
}, 120_000);

const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const pod = (cluster: string, ref: string) => {
  const [namespace = "", serviceAccount = ""] = ref.split("/");
  return { cluster, namespace, serviceAccount };
};
const minutes = (n: number) => n * 60_000;

describe("pods keep their credentials through run, finalize and rollback (local credential path)", () => {
  it("finalize holds a service account still refreshing on IRSA, removes the quiet one, then completes once quiet", async () => {
    // Prepare: the account's clock 3 h back (only ever moved forward after writes); role `app`
    // trusted by prod web/api, prod web/worker and staging web/api; every pod on IRSA
    const t0 = Date.now();
    const pods = new LocalPods(ctx.account.endpoint);
    await pods.setClock({ set: new Date(t0 - minutes(180)) });
    const c = awsClientsFor(ctx.account.endpoint);
    for (const cluster of ["prod", "staging"]) {
      await irsaCluster(c, cluster);
      await pods.ensureOidcProvider(cluster);
    }
    await createIrsaRole(c, "app", { prod: ["web/api", "web/worker"], staging: ["web/api"] });
    const api = pod("prod", "web/api");
    const worker = pod("prod", "web/worker");
    const stagingApi = pod("staging", "web/api");
    for (const p of [api, worker, stagingApi]) expect((await pods.irsa(p, roleArn("app"))).ok).toBe(true);

    // Act 1: run; the worker is restarted onto Pod Identity, the api pod keeps refreshing on IRSA
    const run = await h.migrate({ clusterName: "prod" });
    expect(run.status).toBe("succeeded");
    await pods.setClock({ set: new Date(t0 - minutes(40)) });
    expect((await pods.podIdentity(worker)).ok).toBe(true);
    expect((await pods.irsa(api, roleArn("app"))).ok).toBe(true);
    const held = await h.finalize({ clusterName: "prod" });

    // Assess 1: finalize is incomplete; it removed the worker's sub only
    expect(held.status).toBe("failed");
    expect(held.error?.name).toBe("FinalizeIncomplete");
    const decisions = Object.fromEntries(
      (held.report?.decisions ?? []).map((d) => [
        d.serviceAccount,
        { removed: d.removed, last: d.lastIrsaUse ?? null, pods: Boolean(d.lastPodIdentityUse) },
      ]),
    );
    expect(decisions).toEqual({
      api: { removed: false, last: expect.stringMatching(/^\d{4}-/), pods: false },
      worker: { removed: true, last: null, pods: true },
    });
    expect((await pods.irsa(api, roleArn("app"))).ok).toBe(true);
    expect((await pods.irsa(worker, roleArn("app"))).ok).toBe(false);
    expect((await pods.podIdentity(worker)).ok).toBe(true);

    // Act 2: the api pod moves to Pod Identity; 30 quiet minutes later finalize completes
    expect((await pods.podIdentity(api)).ok).toBe(true);
    const done = await h.finalize({ clusterName: "prod", quietSeconds: 1800, evidenceLagSeconds: 0 });

    // Assess 2: exactly this cluster's subs are gone; staging's IRSA trust and pod still work
    expect(done.status).toBe("succeeded");
    expect(done.report?.outcome).toBe("succeeded");
    const trust = await trustOf(c, "app");
    expect(trust).not.toContain("system:serviceaccount:web:worker");
    expect(trust).toContain((await issuerOf(c, "staging")).replace("https://", ""));
    expect(trust).not.toContain((await issuerOf(c, "prod")).replace("https://", ""));
    expect((await pods.irsa(stagingApi, roleArn("app"))).ok).toBe(true);
    expect((await pods.irsa(api, roleArn("app"))).ok).toBe(false);
    expect((await pods.podIdentity(api)).ok).toBe(true);
  }, 180_000);

  it("rolling back cluster B's run of a role shared with migrated cluster A leaves A's pods able to get credentials", async () => {
    const pods = new LocalPods(ctx.account.endpoint);
    const c = awsClientsFor(ctx.account.endpoint);
    for (const cluster of ["prod", "staging"]) await irsaCluster(c, cluster);
    await createIrsaRole(c, "shared", { prod: ["app/api"], staging: ["app/api"] });
    expect((await h.migrate({ clusterName: "prod" })).status).toBe("succeeded");

    const b = await h.migrate(
      { clusterName: "staging" },
      {
        beforeTask: (state) => {
          if (state === "Verify")
            throw Object.assign(new Error("staging verification failed"), { name: "InjectedFault" });
        },
      },
    );

    expect(b.report?.outcome).toBe("rolled-back");
    expect((await pods.podIdentity(pod("prod", "app/api"))).ok).toBe(true);
    expect((await pods.podIdentity(pod("staging", "app/api"))).ok).toBe(false);
  }, 120_000);

  it("two concurrent migrations of clusters sharing a role both end with working pod credentials, each scoped to its cluster", async () => {
    const pods = new LocalPods(ctx.account.endpoint);
    const c = awsClientsFor(ctx.account.endpoint);
    for (const cluster of ["prod", "staging"]) await irsaCluster(c, cluster);
    await createIrsaRole(c, "shared", { prod: ["app/api"], staging: ["app/api"] });

    const [a, b] = await Promise.all([
      h.migrate({ clusterName: "prod" }),
      h.migrate({ clusterName: "staging" }),
    ]);

    expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
    expect((await pods.podIdentity(pod("prod", "app/api"))).ok).toBe(true);
    expect((await pods.podIdentity(pod("staging", "app/api"))).ok).toBe(true);
    // the scope holds: a service account the IRSA trust did not name gets nothing
    expect((await pods.podIdentity(pod("prod", "app/other"))).ok).toBe(false);
  }, 120_000);
});
