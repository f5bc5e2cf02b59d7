import { UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { policiesEqual } from "../../functions/core/trust/edit.js";
import { createRole } from "../support/fixtures.js";
import { associationsOf, createIrsaRole, irsaCluster, issuerOf, trustOf } from "../support/irsa.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../support/local-account.js";
import { type MigrationHarness, migrationHarness } from "../support/migration.js";

const ctx = useLocalAccount();
let h: MigrationHarness;

beforeAll(async () => {
  h = await migrationHarness(ctx.account.env());
}, 120_000);

type Statement = {
  Sid?: string;
  Principal?: Record<string, unknown>;
  Condition?: Record<string, Record<string, unknown>>;
};
const statementsOf = async (role: string) =>
  JSON.parse(await trustOf(awsClientsFor(ctx.account.endpoint), role)).Statement as Statement[];
const podStatements = async (role: string) =>
  (await statementsOf(role)).filter((s) => JSON.stringify(s.Principal).includes("pods.eks.amazonaws.com"));
const clusterArn = (name: string) => `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/${name}`;
const injected = (message: string) => Object.assign(new Error(message), { name: "InjectedFault" });

describe("authority: a task acts only for a running execution of its own state machine", () => {
  it("a planted table item plus a direct invoke outside a running execution changes nothing", async () => {
    // Prepare: an admin role no migration touched; a forged record naming it; a finished run
    const c = awsClientsFor(ctx.account.endpoint);
    const evil = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: "arn:aws:iam::999999999999:root" }, Action: "sts:AssumeRole" },
      ],
    });
    await createRole(c.iam, "BreakGlassAdmin", {
      trust: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    });
    const before = await trustOf(c, "BreakGlassAdmin");
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const finished = await h.migrate({ clusterName: "prod" });
    const forgedArn = finished.executionArn.replace(/:[^:]+$/, ":forged-1");
    for (const key of [finished.runKey, `${forgedArn}@0`]) {
      await h.deps.store.put(key, "edit#BreakGlassAdmin", {
        roleName: "BreakGlassAdmin",
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/BreakGlassAdmin`,
        statements: [JSON.parse(evil).Statement[0]],
        written: true,
      });
    }
    await ctx.account.resetCalls();

    // Act: the old payload, a forged execution, a finished one, another state machine's
    const attempts = [
      { action: "rollback", migrationId: "forged-1" },
      { action: "rollback", phase: "run", executionArn: forgedArn },
      { action: "rollback", phase: "run", executionArn: finished.executionArn },
      { action: "add-pod-trust", phase: "run", executionArn: finished.executionArn },
      { action: "rollback", phase: "rollback", executionArn: finished.executionArn },
    ];
    const errors = [];
    for (const event of attempts)
      errors.push(
        await h.bundle(event).then(
          () => "accepted",
          (e: Error) => e.name,
        ),
      );

    // Assess
    expect(errors).toEqual([
      "InvalidMigrationTask",
      "NotAuthorized",
      "NotAuthorized",
      "NotAuthorized",
      "NotAuthorized",
    ]);
    expect(await trustOf(c, "BreakGlassAdmin")).toBe(before);
    const calls = (await ctx.account.calls()).calls;
    expect(calls.UpdateAssumeRolePolicy ?? 0).toBe(0);
    expect(calls.DeletePodIdentityAssociation ?? 0).toBe(0);
  });
});

describe("compensating rollback", () => {
  it("a trust policy edited by someone else during the soak survives the rollback", async () => {
    // Prepare
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const original = await trustOf(c, "reader");
    const human = {
      Sid: "SecurityTeam",
      Effect: "Deny",
      Principal: { AWS: "arn:aws:iam::999999999999:root" },
      Action: "sts:AssumeRole",
    };

    // Act: during the soak the security team adds a statement; then verification fails
    const result = await h.migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state !== "Verify") return;
          const doc = JSON.parse(await trustOf(c, "reader"));
          doc.Statement.push(human);
          await c.iam.send(
            new UpdateAssumeRolePolicyCommand({ RoleName: "reader", PolicyDocument: JSON.stringify(doc) }),
          );
          throw injected("verification failed");
        },
      },
    );

    // Assess: this run's statement is gone, the security team's stays, the rest is the original
    expect(result.error?.name).toBe("MigrationRolledBack");
    expect(result.report?.outcome).toBe("rolled-back");
    const after = JSON.parse(await trustOf(c, "reader"));
    expect(after.Statement).toContainEqual(human);
    expect(
      policiesEqual(after, {
        ...JSON.parse(original),
        Statement: [...JSON.parse(original).Statement, human],
      }),
    ).toBe(true);
    expect(await associationsOf(c, "prod")).toEqual([]);
  });

  it("a rollback that cannot undo is reported rollback-incomplete with the difference, and the execution fails", async () => {
    // Prepare
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });

    // Act: someone widens the statement this run added, then a step fails
    const result = await h.migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state !== "Verify") return;
          const doc = JSON.parse(await trustOf(c, "reader"));
          const ours = doc.Statement.find((s: Statement) => s.Sid?.startsWith("PodIdMigration"));
          ours.Condition.StringEquals["aws:RequestTag/kubernetes-service-account"] = ["reader", "writer"];
          await c.iam.send(
            new UpdateAssumeRolePolicyCommand({ RoleName: "reader", PolicyDocument: JSON.stringify(doc) }),
          );
          throw injected("verification failed");
        },
      },
    );

    // Assess: never reported as success; the widened statement is left as it is (not overwritten)
    expect(result.status).toBe("failed");
    expect(result.error?.name).toBe("MigrationRollbackIncomplete");
    expect(result.report?.outcome).toBe("rollback-incomplete");
    expect(result.report?.undone?.complete).toBe(false);
    expect(result.report?.undone?.incomplete[0]?.difference[0]).toMatch(
      /was changed since this run wrote it: now .*writer/,
    );
    expect(result.report?.nextSteps.join(" ")).toMatch(/INCOMPLETE/);
    expect(JSON.stringify(await podStatements("reader"))).toContain("writer");
  });

  it("a rollback whose writes keep failing ends rollback-incomplete, never rolled-back", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });

    const result = await h.migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state !== "Verify") return;
          await ctx.account.setFaults({ failNext: { UpdateAssumeRolePolicy: 500 } });
          throw injected("verification failed");
        },
      },
    );
    await ctx.account.setFaults({});

    expect(result.error?.name).toBe("MigrationRollbackIncomplete");
    expect(result.report?.outcome).toBe("rollback-incomplete");
    expect(result.report?.nextSteps.join(" ")).not.toMatch(/own changes were undone/);
  });

  it("rolling back cluster B's run of a role shared with migrated cluster A keeps A's trust and association", async () => {
    // Prepare: A (prod) migrated
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await irsaCluster(c, "staging");
    await createIrsaRole(c, "shared", { prod: ["app/api"], staging: ["app/api"] });
    const a = await h.migrate({ clusterName: "prod" });

    // Act: B (staging) fails after adding its trust and association, and rolls back
    const b = await h.migrate(
      { clusterName: "staging" },
      {
        beforeTask: (state) => {
          if (state === "Verify") throw injected("staging verification failed");
        },
      },
    );

    // Assess
    expect(a.status).toBe("succeeded");
    expect(b.report?.outcome).toBe("rolled-back");
    const pods = await podStatements("shared");
    expect(pods.map((s) => s.Condition?.StringEquals?.["aws:RequestTag/eks-cluster-arn"])).toEqual([
      clusterArn("prod"),
    ]);
    expect(await associationsOf(c, "prod")).toEqual([{ slot: "app/api", role: "shared", owned: false }]);
    expect(await associationsOf(c, "staging")).toEqual([]);
    const trust = await trustOf(c, "shared");
    for (const cluster of ["prod", "staging"])
      expect(trust).toContain((await issuerOf(c, cluster)).replace("https://", ""));
  });

  it("podid migrate rollback undoes a finished run the same way; a second rollback finds nothing left", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    const original = await trustOf(c, "reader");
    const run = await h.migrate({ clusterName: "prod" });
    const runId = run.executionArn.split(":").pop()!;

    const undone = await h.rollback({ clusterName: "prod", runId });
    const again = await h.rollback({ clusterName: "prod", runId });
    const wrongCluster = await h.rollback({ clusterName: "staging", runId });

    expect(undone.status).toBe("succeeded");
    expect(undone.report).toMatchObject({
      outcome: "succeeded",
      complete: true,
      undoneRoles: ["reader"],
      deletedAssociations: ["reports/reader"],
    });
    expect(policiesEqual(await trustOf(c, "reader"), original)).toBe(true);
    expect(await associationsOf(c, "prod")).toEqual([]);
    expect(again.report).toMatchObject({ outcome: "succeeded", undoneRoles: [], deletedAssociations: [] });
    expect(wrongCluster.status).toBe("failed");
    expect(wrongCluster.report?.outcome).toBe("failed");
  });
});

describe("leases", () => {
  it("two concurrent migrations of clusters sharing a role both end with their own scoped trust", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await irsaCluster(c, "staging");
    await createIrsaRole(c, "shared", { prod: ["app/api"], staging: ["app/api"] });

    const [a, b] = await Promise.all([
      h.migrate({ clusterName: "prod" }),
      h.migrate({ clusterName: "staging" }),
    ]);

    expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
    const clusters = (await podStatements("shared")).map(
      (s) => s.Condition?.StringEquals?.["aws:RequestTag/eks-cluster-arn"],
    );
    expect(clusters.sort()).toEqual([clusterArn("prod"), clusterArn("staging")]);
  });

  it("one migration per cluster at a time: a second run of a busy cluster is refused with the holder, changing nothing", async () => {
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "prod");
    await createIrsaRole(c, "reader", { prod: ["reports/reader"] });
    let second: Awaited<ReturnType<MigrationHarness["migrate"]>> | undefined;

    const first = await h.migrate(
      { clusterName: "prod" },
      {
        beforeTask: async (state) => {
          if (state === "CreateAssociations" && !second) second = await h.migrate({ clusterName: "prod" });
        },
      },
    );

    expect(first.status).toBe("succeeded");
    expect(second?.status).toBe("failed");
    expect(second?.report?.error?.name).toBe("LeaseBusy");
    expect(second?.report?.error?.cause).toContain(first.executionArn);
    expect(second?.tasks).not.toContain("AddPodIdentityTrust");
    // the lease is free again once the first run reported
    expect((await h.migrate({ clusterName: "prod" })).status).toBe("succeeded");
  });
});

describe("limits", () => {
  it("plans 5,000 service accounts: records of any size, execution state under 256 KB", async () => {
    // Prepare: 500 roles of 10 service accounts each
    const c = awsClientsFor(ctx.account.endpoint);
    await irsaCluster(c, "big");
    const roles = Array.from({ length: 500 }, (_, r) => r);
    for (let i = 0; i < roles.length; i += 25)
      await Promise.all(
        roles
          .slice(i, i + 25)
          .map((r) =>
            createIrsaRole(c, `big-${r}`, { big: Array.from({ length: 10 }, (_, s) => `ns-${r}/sa-${s}`) }),
          ),
      );

    // Act
    const result = await h.migrate({ clusterName: "big", dryRun: true });

    // Assess
    expect(result.status).toBe("succeeded");
    expect(result.report?.serviceAccounts).toHaveLength(5000);
    expect(result.report?.serviceAccounts.every((s) => s.outcome === "planned")).toBe(true);
    expect(result.maxStateBytes).toBeLessThan(256 * 1024);
    // the plan is larger than one DynamoDB item (400 KB) and still read back whole
    const plan = await h.deps.store.getLarge<{ ready: unknown[] }>(result.runKey, "plan");
    expect(plan?.ready).toHaveLength(5000);
    expect(JSON.stringify(plan).length).toBeGreaterThan(400_000);
  }, 240_000);
});
