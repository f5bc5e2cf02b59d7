import {
  CreateAddonCommand,
  CreateClusterCommand,
  CreatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AwsClients } from "../../functions/aws/clients.js";
import { readAssociations, readClusters, readRoles } from "../../functions/aws/inventory.js";
import { DEFAULT_BUDGET } from "../../functions/core/budget.js";
import { computeDesired } from "../../functions/core/desired.js";
import { slotKey } from "../../functions/core/model.js";
import { isManaged } from "../../functions/core/plan.js";
import { type LocalAccount, startLocalAccount } from "../../local/index.js";
import type { ClusterRef } from "../../local/pod-identity.js";
import { podIdentityTrust } from "../../local/sample-fleet.js";
import { awsClientsFor } from "../support/local-account.js";
import { localReconciler } from "../support/local-reconcile.js";
import { MemoryBudget, MemoryIndex } from "../support/memory-ports.js";

/**
 * Random fleets under random fault schedules (throttling, 5xx, latency, IAM eventual consistency)
 * with a concurrent actor changing associations mid-run. Invariants: nothing unmanaged or
 * add-on-owned is touched; no desired association is deleted; the deletion budget holds; once the
 * faults stop, at most two sweeps reach exactly the desired state. The worker's use case runs
 * over the production EKS and IAM adapters; index and budget are in memory, one per run (each run
 * is its own account), and each sweep is an hour after the last (a fresh budget window).
 * `npm run soak` runs 2,000.
 */
const RUNS = Number(process.env.FLEET_RUNS ?? 200);
const SEED = Number(process.env.FLEET_SEED ?? 20261122);
let account: LocalAccount;
let nextAccount = 200000000000;

beforeAll(async () => {
  account = await startLocalAccount();
});
afterAll(async () => {
  await account.stop();
});

function clientsFor(accountId: string, maxAttempts: number): AwsClients {
  return awsClientsFor(account.endpoint, maxAttempts, accountId);
}

const SLOTS = ["web/api", "web/worker", "jobs/etl", "kube-system/ebs-csi-controller-sa", "data/reader"];
const CLUSTERS = ["c-0", "c-1", "c-2"];

const fleetArb = fc.record({
  clusters: fc.uniqueArray(
    fc.record({
      name: fc.constantFrom(...CLUSTERS),
      env: fc.constantFrom("prod", "dev"),
      optOut: fc.constantFrom(false, false, false, true),
      addon: fc.boolean(),
    }),
    { selector: (c) => c.name, minLength: 1, maxLength: 3 },
  ),
  templates: fc.uniqueArray(
    fc.record({
      name: fc.constantFrom("r1", "r2", "r3", "r4"),
      bind: fc.subarray(SLOTS, { minLength: 1 }),
      clusters: fc.constantFrom("all", "tag:env=prod", "prefix:c-", "name:c-1", "region:bad"),
      sessionTags: fc.constantFrom("enabled", "disabled", "maybe", undefined),
    }),
    { selector: (t) => t.name, maxLength: 4 },
  ),
  unmanaged: fc.array(fc.record({ cluster: fc.constantFrom(...CLUSTERS), slot: fc.constantFrom(...SLOTS) }), {
    maxLength: 3,
  }),
  faults: fc.record({
    eksReadRate: fc.integer({ min: 30, max: 300 }),
    eksWriteRate: fc.integer({ min: 10, max: 100 }),
    errorRate: fc.double({ min: 0, max: 0.15, noNaN: true }),
    latencyMs: fc.integer({ min: 0, max: 3 }),
    iamConsistencyDelayMs: fc.constantFrom(0, 0, 40),
    seed: fc.integer(),
  }),
  actor: fc.array(
    fc.record({
      kind: fc.constantFrom("delete", "repoint", "create-unmanaged"),
      pick: fc.nat(),
      slot: fc.constantFrom(...SLOTS),
    }),
    { maxLength: 4 },
  ),
});
type Fleet = typeof fleetArb extends fc.Arbitrary<infer T> ? T : never;

async function seed(clients: AwsClients, accountId: string, fleet: Fleet): Promise<void> {
  await clients.iam.send(
    new CreateRoleCommand({ RoleName: "eks", AssumeRolePolicyDocument: podIdentityTrust() }),
  );
  await clients.iam.send(
    new CreateRoleCommand({ RoleName: "manual", AssumeRolePolicyDocument: podIdentityTrust() }),
  );
  for (const c of fleet.clusters) {
    await clients.eks.send(
      new CreateClusterCommand({
        name: c.name,
        version: "1.31",
        roleArn: `arn:aws:iam::${accountId}:role/eks`,
        resourcesVpcConfig: { subnetIds: ["s-1"] },
        tags: {
          env: c.env,
          ...(c.optOut ? { "pod-identity/opt-out": "true" } : {}),
          "pod-identity/install-agent": "false",
        },
      }),
    );
    if (c.addon) {
      await clients.eks.send(
        new CreateAddonCommand({
          clusterName: c.name,
          addonName: "aws-ebs-csi-driver",
          podIdentityAssociations: [
            { serviceAccount: "ebs-csi-controller-sa", roleArn: `arn:aws:iam::${accountId}:role/manual` },
          ],
        }),
      );
    }
  }
  for (const t of fleet.templates) {
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: t.name,
        AssumeRolePolicyDocument: podIdentityTrust(),
        Tags: [
          { Key: "pod-identity/bind", Value: t.bind.join(" ") },
          { Key: "pod-identity/clusters", Value: t.clusters },
          ...(t.sessionTags ? [{ Key: "pod-identity/session-tags", Value: t.sessionTags }] : []),
        ],
      }),
    );
  }
  for (const u of fleet.unmanaged) {
    if (!fleet.clusters.some((c) => c.name === u.cluster)) continue;
    const [namespace, serviceAccount] = u.slot.split("/") as [string, string];
    await clients.eks
      .send(
        new CreatePodIdentityAssociationCommand({
          clusterName: u.cluster,
          namespace,
          serviceAccount,
          roleArn: `arn:aws:iam::${accountId}:role/manual`,
        }),
      )
      .catch(() => undefined); // the slot may be taken by the add-on
  }
}

/** The concurrent actor: changes associations straight in the local account while a sweep runs. */
async function act(accountId: string, fleet: Fleet): Promise<void> {
  const store = account.front.associations;
  for (const step of fleet.actor) {
    await new Promise((r) => setTimeout(r, step.pick % 15));
    const c = fleet.clusters[step.pick % fleet.clusters.length]!;
    const ref: ClusterRef = {
      key: `${accountId}/us-east-1/${c.name}`,
      name: c.name,
      arn: `arn:aws:eks:us-east-1:${accountId}:cluster/${c.name}`,
      accountId,
      region: "us-east-1",
    };
    const existing = store.list(ref).filter((a) => !a.ownerArn);
    const target = existing[step.pick % Math.max(1, existing.length)];
    try {
      if (step.kind === "delete" && target) store.delete(ref, target.associationId);
      if (step.kind === "repoint" && target)
        await store.update(ref, target.associationId, { roleArn: `arn:aws:iam::${accountId}:role/manual` });
      if (step.kind === "create-unmanaged") {
        const [namespace, serviceAccount] = step.slot.split("/");
        await store.create(ref, {
          namespace,
          serviceAccount,
          roleArn: `arn:aws:iam::${accountId}:role/manual`,
        });
      }
    } catch {
      // the slot is taken, or the association went meanwhile: the actor just moves on
    }
  }
}

/** The worker's use case for one account: sweeps (each an hour after the last) and dry-run plans. */
function reconcilerFor(
  accountId: string,
  maxAttempts: number,
  world: { index: MemoryIndex; budget: MemoryBudget; hour: number },
) {
  return localReconciler(account.endpoint, {
    accountId,
    maxAttempts,
    index: world.index,
    budget: world.budget,
    now: () => new Date(Date.UTC(2026, 10, 23) + world.hour * 3_600_000),
    apply: { concurrency: 4, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 25))) },
  });
}

describe("random fleets under faults", () => {
  it(`${RUNS} seeded runs keep every invariant and converge within two sweeps`, async () => {
    await fc.assert(
      fc.asyncProperty(fleetArb, async (fleet) => {
        const accountId = String(nextAccount++);
        const calm = clientsFor(accountId, 3);
        await account.setFaults({});
        await seed(calm, accountId, fleet);
        const desired = computeDesired({
          clusters: await readClusters(calm.eks),
          roles: await readRoles(calm.iam),
          accountId,
        });
        const before = (
          await Promise.all(fleet.clusters.map((c) => readAssociations(calm.eks, c.name)))
        ).flat();
        const managedBefore = before.filter(isManaged).length;
        const journalStart = account.front.journal.length;
        const world = { index: new MemoryIndex(), budget: new MemoryBudget(DEFAULT_BUDGET), hour: 0 };
        const sweep = async (maxAttempts: number) => {
          world.hour++;
          return await reconcilerFor(accountId, maxAttempts, world).run({ installAgent: false });
        };
        const plan = () => reconcilerFor(accountId, 3, world).run({ dryRun: true, installAgent: false });

        // Act: one sweep under faults, with the actor interfering
        await account.setFaults({
          throttle: {
            "eks-read": { rate: fleet.faults.eksReadRate },
            "eks-write": { rate: fleet.faults.eksWriteRate },
          },
          errorRate: fleet.faults.errorRate,
          latencyMs: fleet.faults.latencyMs,
          iamConsistencyDelayMs: fleet.faults.iamConsistencyDelayMs,
          seed: fleet.faults.seed,
        });
        await Promise.all([sweep(3).catch(() => undefined), act(accountId, fleet)]);
        await account.setFaults({});
        const faulted = account.front.journal.slice(journalStart).filter((e) => e.accountId === accountId);

        // Assess: what the faulted sweep touched
        for (const e of faulted) {
          expect(e.ownerArn, `touched an add-on-owned association ${JSON.stringify(e)}`).toBeUndefined();
          expect(
            e.tags["pod-identity/managed-by"],
            `touched an unmanaged association ${JSON.stringify(e)}`,
          ).toBe("pod-identity-autopilot");
          if (e.op === "delete")
            expect(
              desired.desired.has(slotKey(e)),
              `deleted a desired association ${JSON.stringify(e)}`,
            ).toBe(false);
        }
        expect(faulted.filter((e) => e.op === "delete").length).toBeLessThanOrEqual(
          Math.max(5, Math.floor(0.1 * managedBefore)),
        );

        // Assess: at most two calm sweeps reach exactly the desired state
        for (let i = 0; i < 2; i++) {
          if ((await plan()).changes.length === 0) break;
          const repaired = await sweep(3);
          if (process.env.FLEET_DEBUG)
            console.error(JSON.stringify(repaired.changes.filter((c) => c.status === "failed")));
        }
        const finalPlan = await plan();
        expect(finalPlan.changes).toEqual([]);
        const after = (
          await Promise.all(fleet.clusters.map((c) => readAssociations(calm.eks, c.name)))
        ).flat();
        for (const [key, d] of desired.desired) {
          const a = after.find((x) => slotKey(x) === key);
          if (a && !isManaged(a)) continue; // taken by someone else: reported, never overridden
          expect(a, `desired ${key} missing`).toBeDefined();
          expect(a!.roleArn).toBe(d.roleArn);
          expect(a!.disableSessionTags).toBe(d.disableSessionTags);
        }
        for (const a of after.filter(isManaged))
          expect(desired.desired.has(slotKey(a)) || desired.held.has(slotKey(a))).toBe(true);
        const calmWrites = account.front.journal.slice(journalStart).filter((e) => e.accountId === accountId);
        expect(
          calmWrites.every(
            (e) => !e.ownerArn && e.tags["pod-identity/managed-by"] === "pod-identity-autopilot",
          ),
        ).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 1_800_000);
});
