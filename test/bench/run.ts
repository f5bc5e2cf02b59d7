/**
 * `npm run bench [-- --quick] [-- --json] [-- --scale K]`: the reconciler at fleet scale on the
 * local account, under a fixed latency per call and token-bucket throttling per API family.
 * Real model: 100 ms per call; EKS reads 20/s, EKS writes 5/s, IAM 20/s. Rates are multiplied
 * and latency divided by K (default 25) so the bench ends in minutes; efficiency and speed-up are
 * ratios and do not depend on K; durations are converted back to real rates where stated.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import {
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
} from "@aws-sdk/client-eks";
import { TagRoleCommand } from "@aws-sdk/client-iam";
import { Command } from "commander";
import { build } from "esbuild";
import type { AwsClients } from "../../functions/aws/clients.js";
import { memoryPublisher } from "../../functions/aws/events.js";
import { listClusterNames, readRoles } from "../../functions/aws/inventory.js";
import { type ReconcileSummary, reconcile, silentLogger } from "../../functions/aws/reconcile.js";
import { renderTable } from "../../functions/cli/tables.js";
import { awsClientsFor } from "../support/local-account.js";
import { ACCOUNT, clusterNames, injectDrift, seedFleet, startAccountProcess } from "./fleet.js";

const REAL = {
  latencyMs: 100,
  rates: { "eks-read": 20, "eks-write": 5, "iam-read": 20, "iam-write": 20, sts: 20, other: 50 },
} as const;
type Family = keyof typeof REAL.rates;

const cli = new Command("bench")
  .option("--quick", "the two smaller sizes only")
  .option("--json", "print JSON")
  .option("--scale <k>", "rate multiplier", (v) => Number(v), 25)
  .option("--burst <seconds>", "token bucket size in seconds of requests", (v) => Number(v), 1)
  .parse(process.argv.slice(2), { from: "user" });
const opts = cli.opts<{ quick?: boolean; json?: boolean; scale: number; burst: number }>();
const K = opts.scale;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Run {
  scenario: string;
  clusters: number;
  associations: number;
  calls: number;
  wallSeconds: number;
  boundSeconds: number;
  efficiency: number;
  speedup?: number;
  baselineWallSeconds?: number;
  longestUnitRealSeconds?: number;
  describedOnce?: boolean;
  callsByOperation?: Record<string, number>;
  changes?: number;
  converged?: boolean;
}

const account = await startAccountProcess();
const { control } = account;
const clients = awsClientsFor(account.endpoint, 10);
const seedClients = awsClientsFor(account.endpoint, 10);
const deps = () => ({
  clients,
  publisher: memoryPublisher(),
  logger: silentLogger,
  accountId: ACCOUNT,
  readConcurrency: 16,
  apply: { concurrency: 16 },
});

async function faultsOn(): Promise<void> {
  // a bucket of one second of requests (AWS buckets are usually larger than their refill rate);
  // `--burst S` changes it: smaller buckets make the SDK's back-off visible in the efficiency
  const throttle = Object.fromEntries(
    Object.entries(REAL.rates).map(([f, r]) => [f, { rate: r * K, burst: Math.max(1, r * K * opts.burst) }]),
  );
  await control("PUT", "faults", { latencyMs: Math.round(REAL.latencyMs / K), throttle });
  await control("DELETE", "calls");
}

async function faultsOff(): Promise<void> {
  await control("PUT", "faults", {});
}

async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; wall: number; calls: Record<string, number>; bound: number; total: number }> {
  await faultsOn();
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const counts = (await control("GET", "calls")) as {
    calls: Record<string, number>;
    throttled: Record<string, number>;
    families: Record<string, number>;
    throttledFamilies: Record<string, number>;
  };
  await faultsOff();
  let bound = 0;
  let total = 0;
  for (const [family, n] of Object.entries(counts.families)) {
    const necessary = n - (counts.throttledFamilies[family] ?? 0);
    total += necessary;
    bound = Math.max(bound, necessary / (REAL.rates[family as Family] * K));
  }
  const throttled = Object.values(counts.throttledFamilies).reduce((a, b) => a + b, 0);
  // the necessary calls: throttled attempts are retries, reported apart
  const calls = Object.fromEntries(
    Object.entries(counts.calls).map(([op, n]) => [op, n - (counts.throttled[op] ?? 0)]),
  );
  if (throttled > 0) calls.throttledRetries = throttled;
  return { result, wall, calls, bound, total };
}

/** The product's sweep, split into units of work as the fan-out state machine runs it. */
async function sweepInUnits(clustersPerUnit: number): Promise<{
  units: number[];
  summary: Pick<ReconcileSummary, "created" | "updated" | "deleted" | "unchanged" | "failed">;
}> {
  const [names, roles] = await Promise.all([listClusterNames(clients.eks), readRoles(clients.iam, 16)]);
  const shared = roles.filter((r) => Object.keys(r.tags).some((k) => k.startsWith("pod-identity/")));
  const units: number[] = [];
  const summary = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 };
  const sorted = names.sort();
  for (let i = 0; i < sorted.length; i += clustersPerUnit) {
    const t = performance.now();
    const s = await reconcile(deps(), {
      scope: { kind: "clusters", names: sorted.slice(i, i + clustersPerUnit) },
      dryRun: false,
      installAgent: false,
      roles: shared,
    });
    units.push((performance.now() - t) / 1000);
    for (const k of Object.keys(summary) as (keyof typeof summary)[]) summary[k] += s[k];
  }
  return { units, summary };
}

/** The naive baseline, as eksctl reads associations: sequential List, then Describe each. */
async function naiveRead(c: AwsClients): Promise<number> {
  let described = 0;
  await readRoles(c.iam, 1);
  for (const name of await listClusterNames(c.eks)) {
    await c.eks.send(new DescribeClusterCommand({ name }));
    let nextToken: string | undefined;
    do {
      const page = await c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: name, nextToken }));
      for (const a of page.associations ?? []) {
        await c.eks.send(
          new DescribePodIdentityAssociationCommand({ clusterName: name, associationId: a.associationId }),
        );
        described++;
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return described;
}

async function freshFleet(clusters: number, perCluster: number, prefix = "c"): Promise<void> {
  await control("POST", "reset");
  await seedFleet(seedClients, clusters, perCluster, prefix);
  const seeded = await reconcile(
    { ...deps(), clients: seedClients, readConcurrency: 32, apply: { concurrency: 32 } },
    { scope: { kind: "all" }, dryRun: false, installAgent: false },
  );
  if (seeded.created !== clusters * perCluster)
    throw new Error(`seeding created ${seeded.created}, expected ${clusters * perCluster}`);
}

function efficiencyRun(
  scenario: string,
  clusters: number,
  associations: number,
  m: Awaited<ReturnType<typeof measured>>,
): Run {
  return {
    scenario,
    clusters,
    associations,
    calls: m.total,
    wallSeconds: round(m.wall),
    boundSeconds: round(m.bound),
    efficiency: round(m.bound / m.wall),
    callsByOperation: m.calls,
  };
}

function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

const runs: Run[] = [];
const sizes: [number, number][] = opts.quick
  ? [
      [10, 20],
      [50, 100],
    ]
  : [
      [10, 20],
      [50, 100],
      [200, 200],
    ];
let peakRssMb = 0;

for (const [clusters, perCluster] of sizes) {
  log(`steady state ${clusters}×${perCluster}: seeding…`);
  await freshFleet(clusters, perCluster);
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
  }, 20);
  const sweep = await measured(() => sweepInUnits(10));
  clearInterval(sampler);
  const associations = clusters * perCluster;
  const run = efficiencyRun("steady-state sweep", clusters, associations, sweep);
  run.longestUnitRealSeconds = round(Math.max(...sweep.result.units) * K, 1);
  run.changes = sweep.result.summary.created + sweep.result.summary.updated + sweep.result.summary.deleted;
  run.describedOnce =
    sweep.calls.DescribePodIdentityAssociation === associations &&
    sweep.calls.DescribeCluster === clusters &&
    sweep.calls.ListRoleTags === Math.ceil(perCluster / 10) + 1;
  log(`  sweep ${run.wallSeconds}s (bound ${run.boundSeconds}s, efficiency ${run.efficiency}); baseline…`);
  const baseline = await measured(() => naiveRead(clients));
  run.baselineWallSeconds = round(baseline.wall);
  run.speedup = round(baseline.wall / sweep.wall, 2);
  runs.push(run);
}

{
  log("drift repair 50×100 (10 % wrong or missing)…");
  await freshFleet(50, 100);
  const other = await seedClients.iam
    .send(new TagRoleCommand({ RoleName: "c-app-000", Tags: [] }))
    .then(() => `arn:aws:iam::${ACCOUNT}:role/c-app-001`);
  const drifted = await injectDrift(seedClients, clusterNames(50), 0.1, other);
  const repair = await measured(() => sweepInUnits(10));
  const after = await reconcile(deps(), { scope: { kind: "all" }, dryRun: true });
  const run = efficiencyRun("drift repair (10 %)", 50, 5000, repair);
  run.changes = repair.result.summary.created + repair.result.summary.updated;
  run.converged = after.changes.length === 0 && run.changes === drifted;
  runs.push(run);
}

{
  log("cluster onboarding with 20 bindings…");
  await freshFleet(10, 20, "c");
  await seedFleet(seedClients, 1, 20, "new");
  const onboard = await measured(() =>
    reconcile(deps(), { scope: { kind: "clusters", names: ["new-000"] }, dryRun: false, installAgent: true }),
  );
  const run = efficiencyRun("cluster onboarding (20 bindings)", 1, 20, onboard);
  run.changes = onboard.result.created;
  run.converged = onboard.result.created === 20 && onboard.result.failed === 0;
  runs.push(run);
}

{
  log("one role re-tagged across 50 clusters…");
  await freshFleet(50, 20);
  // ten more service accounts for one role, in every cluster: 500 associations to create
  await seedClients.iam.send(
    new TagRoleCommand({
      RoleName: "c-app-000",
      Tags: [
        {
          Key: "pod-identity/bind-2",
          Value: Array.from({ length: 10 }, (_, i) => `added/sa-${i}`).join(" "),
        },
      ],
    }),
  );
  const retag = await measured(() =>
    reconcile(deps(), { scope: { kind: "role", roleName: "c-app-000" }, dryRun: false, installAgent: false }),
  );
  const run = efficiencyRun("role re-tagged across 50 clusters", 50, 1000, retag);
  run.changes = retag.result.created + retag.result.deleted;
  run.converged = retag.result.created === 500 && retag.result.failed === 0;
  runs.push(run);
}

account.child.kill("SIGTERM");

// bundle sizes and cold import times, next to a bare SDK client bundled the same way
mkdirSync(".bench", { recursive: true });
writeFileSync(
  ".bench/bare.ts",
  'import { EKSClient } from "@aws-sdk/client-eks";\nexport const handler = async () => new EKSClient({}).config.serviceId;\n',
);
await build({
  entryPoints: [".bench/bare.ts"],
  outfile: ".bench/bare.mjs",
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  minify: true,
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
function coldImportMs(file: string): number {
  const samples = [0, 1, 2].map(() =>
    Number(
      execFileSync(process.execPath, [
        "--input-type=module",
        "-e",
        `const t=performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now()-t)`,
      ]).toString(),
    ),
  );
  return round(samples.sort((a, b) => a - b)[1]!, 1);
}
const bundles = ["cluster-event", "iam-event", "sweeper", "migration"].map((name) => {
  const file = `dist/functions/${name}/index.mjs`;
  return { name, bytes: statSync(file).size, coldImportMs: coldImportMs(file) };
});
bundles.push({
  name: "bare EKS client (reference)",
  bytes: statSync(".bench/bare.mjs").size,
  coldImportMs: coldImportMs(".bench/bare.mjs"),
});

const model = { latencyMs: REAL.latencyMs, rates: REAL.rates, scale: K, burstSeconds: opts.burst };
if (opts.json) {
  process.stdout.write(
    `${JSON.stringify({ model, runs: runs.map(({ callsByOperation: _c, ...r }) => r), peakRssMb: round(peakRssMb, 1), bundles }, null, 2)}\n`,
  );
} else {
  process.stdout.write(
    `Model: ${REAL.latencyMs} ms per call; EKS reads ${REAL.rates["eks-read"]}/s, EKS writes ${REAL.rates["eks-write"]}/s, IAM ${REAL.rates["iam-read"]}/s; run ×${K}\n`,
  );
  process.stdout.write(
    `${renderTable(
      [
        "scenario",
        "clusters",
        "assoc.",
        "calls",
        "wall s",
        "bound s",
        "efficiency",
        "speed-up",
        "longest unit (real s)",
        "checks",
      ],
      runs.map((r) => [
        r.scenario,
        r.clusters,
        r.associations,
        r.calls,
        r.wallSeconds,
        r.boundSeconds,
        r.efficiency,
        r.speedup ?? "",
        r.longestUnitRealSeconds ?? "",
        [
          r.describedOnce === undefined ? "" : `each read once: ${r.describedOnce}`,
          r.converged === undefined ? "" : `converged: ${r.converged}`,
          r.changes === undefined ? "" : `changes: ${r.changes}`,
        ]
          .filter(Boolean)
          .join("\n"),
      ]),
    )}\n`,
  );
  process.stdout.write(`Peak RSS of the sweeping process: ${round(peakRssMb, 1)} MB\n`);
  process.stdout.write(
    `${renderTable(
      ["bundle", "size KiB", "cold import ms"],
      bundles.map((b) => [b.name, round(b.bytes / 1024, 0), b.coldImportMs]),
    )}\n`,
  );
  for (const r of runs)
    log(`${r.scenario} ${r.clusters}×${r.associations}: ${JSON.stringify(r.callsByOperation)}`);
}
process.exit(0);
