import { UpdatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import aslValidator from "asl-validator";
import { beforeAll, describe, expect, it } from "vitest";
import { readAssociations } from "../../functions/aws/inventory.js";
import { policiesEqual } from "../../functions/core/trust/edit.js";
import { CHUNK_MARGIN_MS } from "../../functions/migration/deps.js";
import { KEYS } from "../../functions/migration/plan.js";
import { migrationDefinitions } from "../../infra/definitions.js";
import { podIdentityTrust } from "../../local/sample-fleet.js";
import { createCluster, createRole } from "../support/fixtures.js";
import {
  addonWithIrsaRole,
  associationsOf,
  createIrsaRole,
  fargateProfile,
  irsaCluster,
  issuerOf,
  trustOf,
} from "../support/irsa.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { type MigrationHarness, migrationHarness } from "../support/migration.js";

const ctx = useLocalAccount();
let h: MigrationHarness;

beforeAll(async () => {
  h = await migrationHarness(ctx.account.env());
}, 120_000);

const migrate = (...args: Parameters<MigrationHarness["migrate"]>) => h.migrate(...args);

/** The run ID of a cluster's run waiting at its approval gate, once it gets there. */
function waitingRun(): { id: Promise<string>; notify: (id: string) => void } {
  let notify: (id: string) => void = () => undefined;
  const id = new Promise<string>((resolve) => {
    notify = resolve;
  });
  return { id, notify };
}

function outcomes(
  report: { serviceAccounts: { namespace: string; serviceAccount: string; outcome: string }[] } | undefined,
) {
  return Object.fromEntries(
    (report?.serviceAccounts ?? []).map((s) => [`${s.namespace}/${s.serviceAccount}`, s.outcome]),
  );
}

describe("the migration state machine (synthesized definition, built bundle, local account)", () => {
  it("are valid ASL and the definitions the CLI runs", () => {
    const exported = migrationDefinitions();
    for (const phase of ["run", "finalize", "rollback"] as const) {
      expect(aslValidator(structuredClone(h.definitions[phase])).isValid).toBe(true);
      expect(h.definitions[phase]).toEqual(exported[phase]);
    }
  });

  it("happy path: adds Pod Identity trust, associates, verifies, reports the restart to do", async () => {
    // Prepare
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const before = await trustOf(c, "reader");

    // Act
    const result = await migrate({ clusterName: "prod" });

    // Assess
    expect(result.status).toBe("succeeded");
    expect(result.tasks).toEqual([
      "Validate",
      "Discover",
      "Preflight",
      "WaitForApproval",
      "AddPodIdentityTrust",
      "CreateAssociations",
      "Verify",
      "Report",
    ]);
    expect(outcomes(result.report)).toEqual({ "reports/reader": "migrated" });
    expect(await associationsOf(c, "prod")).toEqual([
      { slot: "reports/reader", role: "reader", owned: false },
    ]);
    const after = await trustOf(c, "reader");
    expect(after).toContain("pods.eks.amazonaws.com");
    expect(after).toContain("oidc-provider");
    expect(result.report?.nextSteps[0]).toMatch(/Restart the workloads in namespace reports/);
    expect(result.report?.nextSteps.join(" ")).toMatch(/podid migrate finalize --cluster prod/);
    expect(policiesEqual(after, before)).toBe(false);
    // the added trust keeps IRSA's scope: this cluster, this namespace, this service account
    const added = (
      JSON.parse(after).Statement as { Condition?: { StringEquals?: Record<string, unknown> } }[]
    ).find((st) => JSON.stringify(st).includes("pods.eks.amazonaws.com"));
    expect(added?.Condition?.StringEquals).toEqual({
      "aws:SourceAccount": ACCOUNT_ID,
      "aws:RequestTag/eks-cluster-arn": `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/prod`,
      "aws:RequestTag/kubernetes-namespace": "reports",
      "aws:RequestTag/kubernetes-service-account": "reader",
    });
  });

  it("dry run stops after preflight with the full plan and changes nothing", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const before = await trustOf(c, "reader");
    await ctx.account.resetCalls();

    const result = await migrate({ clusterName: "prod", dryRun: true });
    const calls = (await ctx.account.calls()).calls;

    expect(result.report?.outcome).toBe("dry-run");
    expect(outcomes(result.report)).toEqual({ "reports/reader": "planned" });
    expect(calls.UpdateAssumeRolePolicy ?? 0).toBe(0);
    expect(calls.CreatePodIdentityAssociation ?? 0).toBe(0);
    expect(await trustOf(c, "reader")).toBe(before);
  });

  it("re-run after success changes nothing", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    await migrate({ clusterName: "prod" });
    const trust = await trustOf(c, "reader");
    await ctx.account.resetCalls();

    const again = await migrate({ clusterName: "prod" });
    const calls = (await ctx.account.calls()).calls;

    expect(again.status).toBe("succeeded");
    expect(outcomes(again.report)).toEqual({ "reports/reader": "already-migrated" });
    expect(calls.UpdateAssumeRolePolicy ?? 0).toBe(0);
    expect(calls.CreatePodIdentityAssociation ?? 0).toBe(0);
    expect(await trustOf(c, "reader")).toBe(trust);
  });

  it("one role for three service accounts: one trust edit, three associations", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "shared", { prod: ["web/a", "web/b", "jobs/c"] });
    await ctx.account.resetCalls();

    const result = await migrate({ clusterName: "prod", maxConcurrency: 3 });

    expect(result.status).toBe("succeeded");
    expect((await ctx.account.calls()).calls.UpdateAssumeRolePolicy).toBe(1);
    expect((await associationsOf(c, "prod")).map((a) => a.slot).sort()).toEqual(["jobs/c", "web/a", "web/b"]);
  });

  it("never removes IRSA trust: a shared role keeps both clusters' IRSA trust after a run", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await irsaCluster(c, "staging");
    await createIrsaRole(c, "shared", { prod: ["app/api"], staging: ["app/api"] });
    const stagingHost = (await issuerOf(c, "staging")).replace("https://", "");
    const prodHost = (await issuerOf(c, "prod")).replace("https://", "");

    const result = await migrate({ clusterName: "prod" });
    const trust = await trustOf(c, "shared");

    expect(result.status).toBe("succeeded");
    expect(trust).toContain(stagingHost);
    expect(trust).toContain(prodHost);
    expect(trust).toContain("pods.eks.amazonaws.com");
  });

  it("reports wildcard subs and migrates only service accounts named explicitly", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "batch", { prod: ["system:serviceaccount:batch:*"] }, "StringLike");

    const implicit = await migrate({ clusterName: "prod" });
    const explicit = await migrate({ clusterName: "prod", serviceAccounts: ["batch/job-a"] });

    expect(implicit.report?.outcome).toBe("nothing-to-do");
    expect(implicit.report?.wildcards).toEqual([
      { roleName: "batch", pattern: "system:serviceaccount:batch:*", matchedRequested: [] },
    ]);
    expect(outcomes(explicit.report)).toEqual({ "batch/job-a": "migrated" });
  });

  it("refuses a namespace a Fargate profile selects", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await fargateProfile(c, "prod", "serverless");
    await createIrsaRole(c, "mixed", { prod: ["serverless/fn", "web/api"] });

    const result = await migrate({ clusterName: "prod" });
    const refused = result.report?.serviceAccounts.find((s) => s.namespace === "serverless");

    expect(outcomes(result.report)).toEqual({ "serverless/fn": "refused", "web/api": "migrated" });
    expect(refused?.reasons?.[0]).toMatch(/Fargate profile fp-serverless/);
  });

  it("refuses every service account of a cluster on Kubernetes 1.23", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "old", "1.23");
    await createIrsaRole(c, "reader", { old: ["reports/reader"] });

    const result = await migrate({ clusterName: "old" });

    expect(result.report?.outcome).toBe("nothing-to-do");
    expect(result.report?.serviceAccounts[0]).toMatchObject({
      outcome: "refused",
      reasons: [expect.stringMatching(/1\.23 is below 1\.24/)],
    });
  });

  it("migrates an add-on's IRSA role through UpdateAddon, never as a plain service account", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    const roleArn = await createIrsaRole(c, "ebs", { prod: ["kube-system/ebs-csi-controller-sa"] });
    await addonWithIrsaRole(c, "prod", "aws-ebs-csi-driver", roleArn);
    await ctx.account.resetCalls();

    const result = await migrate({ clusterName: "prod" });

    expect(result.status).toBe("succeeded");
    expect(result.report?.serviceAccounts[0]).toMatchObject({
      kind: "addon",
      addon: "aws-ebs-csi-driver",
      outcome: "migrated",
    });
    expect(await associationsOf(c, "prod")).toEqual([
      { slot: "kube-system/ebs-csi-controller-sa", role: "ebs", owned: true },
    ]);
    expect((await ctx.account.calls()).calls.CreatePodIdentityAssociation ?? 0).toBe(0);
  });

  it("waits at the approval gate; a rejection changes nothing", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const before = await trustOf(c, "reader");

    const gate = waitingRun();
    const running = migrate(
      { clusterName: "prod" },
      { autoApprove: false, onWaitingForApproval: gate.notify },
    );
    const id = await gate.id;
    const execution = await h.deps.executions.describe(
      `${h.deps.stateMachines.run.replace(":stateMachine:", ":execution:")}:${id}`,
    );
    const { runKeyOf } = await import("../../functions/migration/authority.js");
    await h.deps.store.put(runKeyOf(execution!), KEYS.decision, {
      decision: "rejected",
      reason: "change freeze",
    });
    const result = await running;

    expect(result.status).toBe("failed");
    expect(result.error?.name).toBe("MigrationRejected");
    expect(result.report?.outcome).toBe("rejected");
    expect(await trustOf(c, "reader")).toBe(before);
    expect(await associationsOf(c, "prod")).toEqual([]);
  });

  it("refuses an input that tries to skip approval or remove IRSA trust", async () => {
    const result = await migrate({ clusterName: "prod", approval: "none", removeIrsaTrust: true });
    expect(result.error?.name).toBe("InvalidMigrationInput");
    expect(result.error?.cause).toMatch(/approval/);
    expect(result.error?.cause).toMatch(/removeIrsaTrust/);
  });

  const boundaries = ["AddPodIdentityTrust", "CreateAssociations", "Verify"].flatMap((step) => [
    [step, "before"],
    [step, "after"],
  ]);
  it.each(boundaries)(
    "rolls back on a fault at %s (%s the step's work): trust policies equal to the originals, no leftover association",
    async (step, when) => {
      // Prepare: two roles, one of them used by two service accounts
      const c = awsClientsFor(ctx.account.endpoint);
      await irsaCluster(c, "prod");
      await createIrsaRole(c, "reader", { prod: ["reports/reader", "reports/writer"] });
      await createIrsaRole(c, "api", { prod: ["web/api"] });
      const originals = { reader: await trustOf(c, "reader"), api: await trustOf(c, "api") };

      // Act
      const fault = (state: string) => {
        if (state === step)
          throw Object.assign(new Error(`injected fault ${when} ${step}`), { name: "InjectedFault" });
      };
      const result = await migrate(
        { clusterName: "prod" },
        when === "before" ? { beforeTask: fault } : { afterTask: fault },
      );

      // Assess
      expect(result.status).toBe("failed");
      expect(result.error?.name).toBe("MigrationRolledBack");
      expect(result.report?.outcome).toBe("rolled-back");
      expect(policiesEqual(await trustOf(c, "reader"), originals.reader)).toBe(true);
      expect(policiesEqual(await trustOf(c, "api"), originals.api)).toBe(true);
      expect(await associationsOf(c, "prod")).toEqual([]);
      expect(result.report?.undone).toMatchObject({ complete: true });
      expect(result.report?.nextSteps.join(" ")).toMatch(/own changes were undone/);
    },
  );

  it("rolls back when AWS fails in the middle of creating associations", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "shared", { prod: ["a/one", "a/two", "a/three"] });
    const original = await trustOf(c, "shared");
    await ctx.account.setFaults({
      passFirst: { CreatePodIdentityAssociation: 1 },
      failNext: { CreatePodIdentityAssociation: 10 },
    });

    const result = await migrate({ clusterName: "prod", maxConcurrency: 1 });
    await ctx.account.setFaults({});

    expect(result.report?.outcome).toBe("rolled-back");
    expect(policiesEqual(await trustOf(c, "shared"), original)).toBe(true);
    expect(await associationsOf(c, "prod")).toEqual([]);
  });

  it("leaves an association someone changed during the soak, and reports the rollback incomplete", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    await createRole(c.iam, "intruder", { trust: podIdentityTrust() });
    const original = await trustOf(c, "reader");

    const result = await migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state !== "Verify") return;
          const [a] = await readAssociations(c.eks, "prod");
          await c.eks.send(
            new UpdatePodIdentityAssociationCommand({
              clusterName: "prod",
              associationId: a!.associationId,
              roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/intruder`,
            }),
          );
        },
      },
    );

    // someone else's change to the association survives; the rollback says it could not undo it
    expect(result.error?.name).toBe("MigrationRollbackIncomplete");
    expect(result.report?.outcome).toBe("rollback-incomplete");
    expect(result.report?.error?.name).toBe("VerificationError");
    expect(result.report?.undone?.incomplete).toEqual([
      {
        what: "association reports/reader",
        difference: [expect.stringMatching(/now uses arn:aws:iam::\d+:role\/intruder: left as it is/)],
      },
    ]);
    expect(policiesEqual(await trustOf(c, "reader"), original)).toBe(true);
    expect(await associationsOf(c, "prod")).toEqual([
      { slot: "reports/reader", role: "intruder", owned: false },
    ]);
  });

  it("refuses invalid input with a clear error", async () => {
    const result = await migrate({ clusterName: "prod", soakSeconds: -1, extra: 1 });
    expect(result.error?.name).toBe("InvalidMigrationInput");
    expect(result.error?.cause).toMatch(/soakSeconds/);
    expect(result.error?.cause).toMatch(/extra/);
  });

  it("migrates 500 service accounts in chunks, the execution state under 256 KB", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await createCluster(c, "big");
    for (let r = 0; r < 50; r++) {
      await createIrsaRole(c, `role-${r}`, { big: Array.from({ length: 10 }, (_, i) => `ns-${r}/sa-${i}`) });
    }

    // each invocation's budget allows 20 batches of 8: associate and verify each take 4 chunks
    const result = await migrate(
      { clusterName: "big", maxConcurrency: 8 },
      {
        invoke: (task) => {
          let left = CHUNK_MARGIN_MS + 20 * 1000 - 500;
          return h.bundle(task, { getRemainingTimeInMillis: () => (left -= 1000) });
        },
      },
    );

    expect(result.status).toBe("succeeded");
    expect(result.report?.serviceAccounts).toHaveLength(500);
    expect(result.report?.serviceAccounts.every((s) => s.outcome === "migrated")).toBe(true);
    expect(result.tasks.filter((t) => t === "CreateAssociations")).toHaveLength(4);
    expect(result.tasks.filter((t) => t === "Verify")).toHaveLength(4);
    expect(await readAssociations(c.eks, "big")).toHaveLength(500);
    expect(result.maxStateBytes).toBeLessThan(256 * 1024);
  }, 180_000);
});
