/**
 * Shared catalog roles under concurrent workers of different clusters (issue 10): the work queue
 * serializes per cluster only, so two workers can read-modify-write the same catalog role's trust
 * at once. The role's lease (DynamoDB conditional write, in the template index table) serializes
 * them: the second worker reads the trust only after the first wrote it.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import type { ReconcileSettings } from "../../../functions/app/ports.js";
import { type ReconcileClusterDeps, reconcileCluster } from "../../../functions/app/reconcile-cluster.js";
import { EksClusterApi } from "../../../functions/aws/cluster-api.js";
import { DynamoDeletionBudget } from "../../../functions/aws/deletion-budget.js";
import { LeaseBusyError, type LeaseOptions, type RoleLock } from "../../../functions/aws/leases.js";
import { IamRoleDirectory } from "../../../functions/aws/role-directory.js";
import { DynamoTemplateIndex } from "../../../functions/aws/template-index.js";
import { catalogRoleLock } from "../../../functions/aws/work-runtime.js";
import { readTrustBindings } from "../../../functions/core/catalog-trust.js";
import { LOCAL_WORK } from "../../../local/index.js";
import { createCluster } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();
const ROLE = "pod-identity-external-dns";
const SETTINGS: ReconcileSettings = {
  accountId: ACCOUNT_ID,
  dryRun: false,
  adoptUnmanaged: false,
  installAgent: false,
  budget: { floor: 5, fraction: 0.1 },
};

/**
 * The interleaving that loses an edit: each worker's read of the catalog role is held until the
 * other worker has read it too, so both merge into the same old trust. A worker waiting for the
 * role's lease (it has not read) also opens the gate: with the lease, the reads cannot overlap.
 */
function interleaving() {
  let reads = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const hold = (iam: IAMClient) => {
    iam.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const input = args.input as { RoleName?: string };
        if (context.commandName === "GetRoleCommand" && input.RoleName === ROLE) {
          reads++;
          if (reads >= 2) open();
          await gate;
        }
        return out;
      },
      { step: "initialize", name: "holdCatalogRead" },
    );
  };
  // a lease wait: virtual back-off, a real yield so the holder goes on
  const sleep = async () => {
    open();
    await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { hold, sleep };
}

function worker(options: { lock: (sleep: LeaseOptions["sleep"]) => RoleLock | undefined }) {
  return (sleep: LeaseOptions["sleep"], hold: (iam: IAMClient) => void): ReconcileClusterDeps => {
    const { eks, iam } = clientsFor(ctx.account.endpoint, 5);
    hold(iam);
    const db = new DynamoDBClient({
      endpoint: ctx.account.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const lock = options.lock(sleep);
    return {
      clusters: new EksClusterApi(eks),
      roles: new IamRoleDirectory(iam, ...(lock ? [lock] : [])),
      index: new DynamoTemplateIndex(db, LOCAL_WORK.indexTable),
      budget: new DynamoDeletionBudget(db, LOCAL_WORK.budgetTable, SETTINGS.budget),
      publisher: { publish() {}, flush: async () => undefined },
      metrics: { count() {} },
      log: { info() {}, warn() {}, error() {} },
      now: () => new Date(),
    };
  };
}

const leased = worker({
  lock: (sleep) =>
    catalogRoleLock(
      new DynamoDBClient({
        endpoint: ctx.account.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      }),
      LOCAL_WORK.indexTable,
      { seconds: 60, waitMs: 60_000, now: () => new Date(), sleep },
    ),
});

async function trustedClusters(iam: IAMClient): Promise<string[]> {
  const out = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
  const trust = JSON.parse(decodeURIComponent(out.Role?.AssumeRolePolicyDocument ?? "{}"));
  return [...new Set(readTrustBindings(trust).map((b) => b.clusterArn.split("/").pop()))].sort() as string[];
}

/** A fleet where the catalog role exists (made for `gamma`) and two more clusters request it. */
async function sharedRoleFleet() {
  const clients = clientsFor(ctx.account.endpoint, 5);
  const tags = { "pod-identity/templates": "external-dns" };
  await createCluster(clients, "gamma", { tags });
  const none = interleaving();
  await reconcileCluster(
    leased(none.sleep, () => {}),
    SETTINGS,
    "gamma",
  );
  await createCluster(clients, "alpha", { tags });
  await createCluster(clients, "beta", { tags });
  return clients;
}

describe("catalog role lease", () => {
  it("serializes two workers of different clusters editing one catalog role: both end in its trust", async () => {
    // Prepare: both workers' reads of the role are held until the other has read it (or waits)
    const { iam } = await sharedRoleFleet();
    expect(await trustedClusters(iam)).toEqual(["gamma"]);
    const { hold, sleep } = interleaving();
    // Act: the two clusters' workers at once, each with its own clients, as two invocations
    const results = await Promise.all(
      ["alpha", "beta"].map((name) => reconcileCluster(leased(sleep, hold), SETTINGS, name)),
    );
    // Assess: no edit lost, each cluster's association made
    expect(await trustedClusters(iam)).toEqual(["alpha", "beta", "gamma"]);
    expect(results.map((r) => [r.clusterName, r.created, r.failed])).toEqual([
      ["alpha", 1, 0],
      ["beta", 1, 0],
    ]);
  });

  it("throws LeaseBusy (the item is retried) when the role's lease stays taken, and writes nothing", async () => {
    // Prepare: another writer holds the role's lease for the whole wait
    const { iam } = await sharedRoleFleet();
    const db = new DynamoDBClient({
      endpoint: ctx.account.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const options = { seconds: 60, waitMs: 200, now: () => new Date(), sleep: async () => {} };
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holder = catalogRoleLock(db, LOCAL_WORK.indexTable, options);
    let taken!: () => void;
    const isTaken = new Promise<void>((resolve) => {
      taken = resolve;
    });
    const holding = holder(`arn:aws:iam::${ACCOUNT_ID}:role/pod-identity/${ROLE}`, async () => {
      taken();
      await held;
    });
    await isTaken;
    const busy = worker({ lock: () => catalogRoleLock(db, LOCAL_WORK.indexTable, options) });
    // Act
    const outcome = reconcileCluster(
      busy(options.sleep, () => {}),
      SETTINGS,
      "alpha",
    ).catch((e: unknown) => e);
    const error = await outcome;
    release();
    await holding;
    // Assess: not a silent skip: the reconcile fails with the lease's type, the trust is untouched
    expect(error).toBeInstanceOf(LeaseBusyError);
    expect(await trustedClusters(iam)).toEqual(["gamma"]);
  });
});
