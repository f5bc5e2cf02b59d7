import { CreateAddonCommand, CreatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import { UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../functions/aws/clients.js";
import { listAddonNames } from "../../functions/aws/inventory.js";
import { executionArnOf, runKeyOf } from "../../functions/migration/authority.js";
import { KEYS } from "../../functions/migration/plan.js";
import { podIdentityTrust } from "../../local/sample-fleet.js";
import { createRole } from "../support/fixtures.js";
import { associationsOf, createIrsaRole, irsaCluster, trustOf } from "../support/irsa.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { type MigrationHarness, migrationHarness } from "../support/migration.js";

const ctx = useLocalAccount();
let h: MigrationHarness;

beforeAll(async () => {
  h = await migrationHarness(ctx.account.env());
}, 120_000);

const AGENT = "eks-pod-identity-agent";
const injected = (message: string) => Object.assign(new Error(message), { name: "InjectedFault" });
const failAfter = (step: string) => (state: string) => {
  if (state === step) throw injected(`injected fault after ${step}`);
};

/** An association someone else creates for another workload (not tagged with the run). */
async function otherWorkload(c: AwsClients): Promise<void> {
  const roleArn = await createRole(c.iam, "billing-worker");
  await c.eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: "prod",
      namespace: "billing",
      serviceAccount: "worker",
      roleArn,
    }),
  );
}

async function prepare(): Promise<AwsClients> {
  const c = awsClientsFor(ctx.account.endpoint);
  await irsaCluster(c, "prod");
  await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
  // EKS creates add-ons asynchronously: the agent is still CREATING when the rollback runs
  await ctx.account.setFaults({ addonTransitionMs: 600_000 });
  return c;
}

describe("rollback of the Pod Identity agent add-on a run installed", () => {
  it("a failing run removes the agent it installed when no other association remains", async () => {
    // Prepare
    const c = await prepare();

    // Act
    const result = await h.migrate({ clusterName: "prod" }, { afterTask: failAfter("CreateAssociations") });
    const calls = (await ctx.account.calls()).calls;

    // Assess
    expect(result.report?.outcome).toBe("rolled-back");
    expect(result.report?.agent).toBe("install");
    expect(calls.CreateAddon).toBe(1);
    expect(result.report?.undone).toMatchObject({ complete: true, agent: { action: "removed" } });
    expect(await listAddonNames(c.eks, "prod")).not.toContain(AGENT);
  });

  it("a failing run keeps the agent when an association it did not create appeared, and says why", async () => {
    // Prepare
    const c = await prepare();

    // Act: another workload gets an association during the soak
    const result = await h.migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state !== "Verify") return;
          await otherWorkload(c);
          throw injected("injected fault before Verify");
        },
      },
    );

    // Assess
    expect(result.report?.outcome).toBe("rolled-back");
    expect(result.report?.undone).toMatchObject({
      complete: true,
      agent: { action: "kept", reason: expect.stringMatching(/did not create.*billing\/worker/) },
    });
    expect(await listAddonNames(c.eks, "prod")).toContain(AGENT);
    expect(await associationsOf(c, "prod")).toEqual([
      { slot: "billing/worker", role: "billing-worker", owned: false },
    ]);
    expect(result.report?.nextSteps.join(" ")).toMatch(
      /eks-pod-identity-agent add-on this run asked to install was kept: Pod Identity associations/,
    );
  });

  it("podid migrate rollback of a finished run removes the agent it installed", async () => {
    // Prepare
    const c = await prepare();
    const run = await h.migrate({ clusterName: "prod" });
    const runId = run.executionArn.split(":").pop()!;
    expect(await listAddonNames(c.eks, "prod")).toContain(AGENT);
    // the restart advice waits for the agent: it is still CREATING
    expect(run.report?.nextSteps[0]).toMatch(
      /eks-pod-identity-agent add-on is CREATING: restart .* once it is ACTIVE/,
    );

    // Act
    const undone = await h.rollback({ clusterName: "prod", runId });
    const again = await h.rollback({ clusterName: "prod", runId });

    // Assess
    expect(undone.report).toMatchObject({ outcome: "succeeded", agent: { action: "removed" } });
    expect(await listAddonNames(c.eks, "prod")).not.toContain(AGENT);
    expect(again.report).toMatchObject({ outcome: "succeeded", agent: { action: "already-removed" } });
  });

  it("podid migrate rollback keeps the agent another workload now relies on", async () => {
    // Prepare
    const c = await prepare();
    const run = await h.migrate({ clusterName: "prod" });
    const runId = run.executionArn.split(":").pop()!;
    await otherWorkload(c);

    // Act
    const undone = await h.rollback({ clusterName: "prod", runId });

    // Assess
    expect(undone.report).toMatchObject({
      outcome: "succeeded",
      deletedAssociations: ["reports/reader"],
      agent: { action: "kept", reason: expect.stringMatching(/billing\/worker/) },
    });
    expect(await listAddonNames(c.eks, "prod")).toContain(AGENT);
  });

  it("never touches an agent the cluster had before the run", async () => {
    // Prepare
    const c = await prepare();
    await c.eks.send(new CreateAddonCommand({ clusterName: "prod", addonName: AGENT }));
    await ctx.account.resetCalls();

    // Act
    const result = await h.migrate({ clusterName: "prod" }, { afterTask: failAfter("CreateAssociations") });
    const calls = (await ctx.account.calls()).calls;

    // Assess
    expect(result.report?.outcome).toBe("rolled-back");
    expect(result.report?.undone?.agent).toBeUndefined();
    expect(calls.CreateAddon ?? 0).toBe(0);
    expect(calls.DeleteAddon ?? 0).toBe(0);
    expect(await listAddonNames(c.eks, "prod")).toContain(AGENT);
  });
});

describe("Auto Mode clusters never get the agent add-on", () => {
  it("a cluster in Auto Mode from the start: the plan says built-in, nothing installed", async () => {
    const c = await prepare();
    await ctx.account.setClusterState("prod", { computeConfig: { enabled: true } });

    const result = await h.migrate({ clusterName: "prod" });
    const calls = (await ctx.account.calls()).calls;

    expect(result.status).toBe("succeeded");
    expect(result.report?.agent).toBe("built-in");
    expect(calls.CreateAddon ?? 0).toBe(0);
    expect(await listAddonNames(c.eks, "prod")).not.toContain(AGENT);
  });

  it("a cluster switched to Auto Mode after preflight: re-read live before installing", async () => {
    const c = await prepare();

    const result = await h.migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state === "AddPodIdentityTrust")
            await ctx.account.setClusterState("prod", { computeConfig: { enabled: true } });
        },
      },
    );
    const calls = (await ctx.account.calls()).calls;

    expect(result.status).toBe("succeeded");
    expect(calls.CreateAddon ?? 0).toBe(0);
    expect(await listAddonNames(c.eks, "prod")).not.toContain(AGENT);
  });
});

describe("the report of a rolled-back run", () => {
  it("names a service account the run found already associated as such, not as rolled back", async () => {
    // Prepare: reports/reader already has its association; reports/writer does not
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "shared", { prod: ["reports/reader", "reports/writer"] });
    // someone gave the role Pod Identity trust and reports/reader its association before the run
    const trust = JSON.parse(await trustOf(c, "shared"));
    trust.Statement.push(...JSON.parse(podIdentityTrust()).Statement);
    await c.iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: "shared", PolicyDocument: JSON.stringify(trust) }),
    );
    await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "prod",
        namespace: "reports",
        serviceAccount: "reader",
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/shared`,
      }),
    );

    // Act
    const result = await h.migrate({ clusterName: "prod" }, { afterTask: failAfter("CreateAssociations") });

    // Assess
    expect(result.report?.outcome).toBe("rolled-back");
    expect(
      Object.fromEntries(
        (result.report?.serviceAccounts ?? []).map((s) => [`${s.namespace}/${s.serviceAccount}`, s.outcome]),
      ),
    ).toEqual({ "reports/reader": "already-migrated", "reports/writer": "rolled-back" });
    expect(await associationsOf(c, "prod")).toEqual([
      { slot: "reports/reader", role: "shared", owned: false },
    ]);
    expect(result.report?.undone?.agent).toMatchObject({ action: "kept" });
  });
});

describe("the approval a run records", () => {
  it("--approval none records the local runner as approver; the report says what that is worth", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });

    const result = await h.migrate({ clusterName: "prod" });

    expect(result.report?.approval).toEqual({
      decision: "approved",
      by: "podid --approval none (local account)",
      at: expect.stringMatching(/^\d{4}-/),
      authority: expect.stringMatching(/authoritative record is CloudTrail's SendTaskSuccess/),
    });
  });

  it("an unreadable decision record still decides, but the report states nothing of it", async () => {
    // Prepare: a decision whose approver is longer than any ARN and carries escapes
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const running = h.migrate(
      { clusterName: "prod" },
      {
        autoApprove: false,
        onWaitingForApproval: async (id) => {
          const execution = await h.deps.executions.describe(executionArnOf(h.deps.stateMachines.run, id));
          await h.deps.store.put(runKeyOf(execution!), KEYS.decision, {
            decision: "approved",
            by: `\u001b]0;${"x".repeat(3000)}`,
            at: new Date().toISOString(),
          });
        },
      },
    );

    // Act
    const result = await running;

    // Assess
    expect(result.status).toBe("succeeded");
    expect(result.report?.approval).toEqual({
      authority: expect.any(String),
      invalid: expect.stringMatching(/^by: /),
    });
  });
});
