/**
 * `tsx test/bench/migration.ts [--size N] [--scale K] [--json]` (part of `npm run bench`): a FULL
 * (not dry) IRSA → Pod Identity migration of N service accounts (default 5,000: N/10 roles of ten
 * service accounts each) on the local account, through the exported run state machine
 * (`dist/state-machines/migration.asl.json`, equal to the synthesized one) with the production
 * tasks in-process. Two rows:
 * - "local speed": the account as fast as it answers, Lambda's 15-minute budget per invocation;
 * - "real pace, scaled": the migration paces itself as deployed (the account-wide schedule, share
 *   0.5 of the account's rates: EKS writes 5/s, reads 20/s, IAM 20/s) with the rates times K, and
 *   each invocation's remaining time from a clock that runs K times faster, so one chunk has the
 *   budget of a real 15-minute invocation (minus the margin) at the real pace: a run whose
 *   creates alone take N/2.5 s needs several chunks per step.
 * Each row then finalizes the cluster (no pod used IRSA: every sub goes) through the exported
 * finalize state machine, in chunks at the same pace.
 */
import { CreateClusterCommand, DescribeClusterCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { Command } from "commander";
import pLimit from "p-limit";
import { readAssociations } from "../../functions/aws/inventory.js";
import { DEFAULT_FAMILY_RATES } from "../../functions/aws/pacing.js";
import {
  finalizeLocally,
  loadMigrationDefinition,
  runMigrationLocally,
} from "../../functions/cli/migration-runner.js";
import { renderTable } from "../../functions/cli/tables.js";
import { LAMBDA_LIMIT_MS } from "../../functions/migration/chunks.js";
import {
  createMigrationDeps,
  localMigrationEnv,
  type MigrationDeps,
} from "../../functions/migration/deps.js";
import { type MigrationTask, runMigrationTask } from "../../functions/migration/index.js";
import { createClusterServiceRole, irsaTrust } from "../../local/sample-fleet.js";
import { ACCOUNT, startAccountProcess } from "./fleet.js";

const cli = new Command("bench-migration")
  .option("--size <n>", "service accounts to migrate", (v) => Number(v), 5000)
  .option("--scale <k>", "rate multiplier and clock speed of the paced row", (v) => Number(v), 25)
  .option("--json", "print JSON")
  .option("--only <row>", "run one row: fast or paced")
  .parse(process.argv.slice(2), { from: "user" });
const opts = cli.opts<{ size: number; scale: number; json?: boolean; only?: "fast" | "paced" }>();
const log = (s: string) => process.stderr.write(`${s}\n`);

const account = await startAccountProcess();
Object.assign(process.env, {
  AWS_ENDPOINT_URL: account.endpoint,
  PODID_LOCAL: "1",
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_MAX_ATTEMPTS: "8",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  ...localMigrationEnv(ACCOUNT),
});
const definition = loadMigrationDefinition("run", new URL("../../dist/state-machines/", import.meta.url));
const finalizeDefinition = loadMigrationDefinition(
  "finalize",
  new URL("../../dist/state-machines/", import.meta.url),
);

/** One cluster and size/10 IRSA roles of ten service accounts each. */
async function seed(deps: MigrationDeps, cluster: string, size: number): Promise<number> {
  const started = performance.now();
  await createClusterServiceRole(deps.clients.iam);
  await deps.clients.eks.send(
    new CreateClusterCommand({
      name: cluster,
      version: "1.31",
      roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster-role`,
      resourcesVpcConfig: { subnetIds: ["subnet-1"] },
      tags: { "pod-identity/install-agent": "false" },
    }),
  );
  const issuer =
    (await deps.clients.eks.send(new DescribeClusterCommand({ name: cluster }))).cluster?.identity?.oidc
      ?.issuer ?? "";
  const limit = pLimit(16);
  await Promise.all(
    Array.from({ length: Math.ceil(size / 10) }, (_, r) =>
      limit(() =>
        deps.clients.iam.send(
          new CreateRoleCommand({
            RoleName: `${cluster}-${r}`,
            AssumeRolePolicyDocument: irsaTrust(
              ACCOUNT,
              issuer,
              Array.from(
                { length: Math.min(10, size - r * 10) },
                (_, s) => `system:serviceaccount:ns-${r}:sa-${s}`,
              ),
            ),
          }),
        ),
      ),
    ),
  );
  return (performance.now() - started) / 1000;
}

interface Row {
  scenario: string;
  serviceAccounts: number;
  status: string;
  migrated: number;
  associations: number;
  chunks: { CreateAssociations: number; Verify: number; Finalize: number };
  /** service accounts whose IRSA sub finalize removed (no pod used IRSA: all of them) */
  finalized: number;
  finalizeWallSeconds: number;
  creates: number;
  calls: number;
  seedSeconds: number;
  wallSeconds: number;
  /** the run's duration at the real pace (wall × K for the paced row) */
  realSeconds: number;
  maxStateBytes: number;
}

async function row(scenario: string, paced: number | undefined): Promise<Row> {
  await account.control("POST", "reset");
  // the migration paces itself account-wide (shared-pacing.ts) at PACING_SHARE of PACING_RATES:
  // as deployed (share 0.5) at the account's rates times K, or unthrottled at local speed
  const rates = Object.entries(DEFAULT_FAMILY_RATES)
    .map(([family, rate]) => `${family}=${paced ? rate * paced : 100_000}`)
    .join(",");
  Object.assign(process.env, { PACING_RATES: rates, PACING_SHARE: paced ? "0.5" : "1" });
  const deps = createMigrationDeps();
  await deps.store.ensureTable();
  const cluster = paced ? "paced" : "fast";
  const seedSeconds = await seed(deps, cluster, opts.size);
  let remaining: ((t: MigrationTask) => () => number) | undefined;
  if (paced) {
    // each invocation: 15 minutes of a clock running K times faster than the wall
    remaining = () => {
      const start = performance.now();
      return () => LAMBDA_LIMIT_MS - (performance.now() - start) * paced;
    };
  }
  await account.control("DELETE", "calls");
  log(`${scenario}: seeded ${opts.size} service accounts in ${seedSeconds.toFixed(1)} s; migrating…`);
  const started = performance.now();
  const result = await runMigrationLocally({
    definition,
    deps,
    input: { clusterName: cluster, soakSeconds: 0, maxConcurrency: 8 },
    migrationId: `bench-${cluster}-${Date.now()}`,
    soakMs: 0,
    approvalPollMs: 20,
    autoApprove: true,
    // the local speed row: the runner's context (the task's TimeoutSeconds, at most 15 minutes)
    invoke: (task, context) =>
      runMigrationTask(deps, task, remaining?.(task) ?? (() => context.getRemainingTimeInMillis())),
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (result.status !== "succeeded")
    log(
      `${scenario}: ${result.error?.name}: ${result.error?.cause} (report: ${JSON.stringify(result.report?.error)})`,
    );
  const calls = (await account.control("GET", "calls")) as { calls: Record<string, number> };
  const chunks: Record<string, number> = {};
  for (const t of result.tasks) chunks[t] = (chunks[t] ?? 0) + 1;
  // then finalize the whole cluster: CloudTrail per role (no pod used IRSA), removal per role
  log(`${scenario}: finalizing…`);
  const finalizeStarted = performance.now();
  const finalized = await finalizeLocally({
    definition: finalizeDefinition,
    deps,
    input: { clusterName: cluster, quietSeconds: 60, evidenceLagSeconds: 0 },
    migrationId: `bench-finalize-${cluster}-${Date.now()}`,
    soakMs: 0,
    approvalPollMs: 20,
    autoApprove: true,
    invoke: (task, context) =>
      runMigrationTask(deps, task, remaining?.(task) ?? (() => context.getRemainingTimeInMillis())),
  });
  const finalizeWallSeconds = (performance.now() - finalizeStarted) / 1000;
  if (finalized.status !== "succeeded")
    log(`${scenario}: finalize ${finalized.error?.name}: ${finalized.error?.cause}`);
  for (const t of finalized.tasks) chunks[t] = (chunks[t] ?? 0) + 1;
  return {
    scenario,
    serviceAccounts: opts.size,
    status: result.status,
    migrated: result.report?.serviceAccounts.filter((s) => s.outcome === "migrated").length ?? 0,
    associations: (await readAssociations(deps.clients.eks, cluster)).length,
    chunks: {
      CreateAssociations: chunks.CreateAssociations ?? 0,
      Verify: chunks.Verify ?? 0,
      Finalize: chunks.Finalize ?? 0,
    },
    finalized: finalized.report?.decisions.filter((d) => d.removed).length ?? 0,
    finalizeWallSeconds: Number(finalizeWallSeconds.toFixed(1)),
    creates: calls.calls.CreatePodIdentityAssociation ?? 0,
    calls: Object.values(calls.calls).reduce((a, b) => a + b, 0),
    seedSeconds: Number(seedSeconds.toFixed(1)),
    wallSeconds: Number(wallSeconds.toFixed(1)),
    realSeconds: Number((wallSeconds * (paced ?? 1)).toFixed(0)),
    maxStateBytes: result.maxStateBytes,
  };
}

const rows: Row[] = [];
try {
  if (opts.only !== "paced") rows.push(await row("full run, local speed", undefined));
  if (opts.only !== "fast") rows.push(await row(`full run, real pace (×${opts.scale})`, opts.scale));
} finally {
  account.child.kill();
}
if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else
  process.stdout.write(
    `${renderTable(
      [
        "migration",
        "SAs",
        "status",
        "migrated",
        "assoc.",
        "associate chunks",
        "verify chunks",
        "finalize chunks",
        "finalized",
        "finalize wall s",
        "creates",
        "calls",
        "seed s",
        "wall s",
        "at real pace s",
      ],
      rows.map((r) => [
        r.scenario,
        r.serviceAccounts,
        r.status,
        r.migrated,
        r.associations,
        r.chunks.CreateAssociations,
        r.chunks.Verify,
        r.chunks.Finalize,
        r.finalized,
        r.finalizeWallSeconds,
        r.creates,
        r.calls,
        r.seedSeconds,
        r.wallSeconds,
        r.realSeconds,
      ]),
    )}\n`,
  );
const bad = rows.filter(
  (r) => r.status !== "succeeded" || r.associations !== opts.size || r.finalized !== opts.size,
);
if (bad.length > 0) {
  log(`FAILED: ${bad.map((r) => r.scenario).join(", ")}`);
  process.exitCode = 1;
}
