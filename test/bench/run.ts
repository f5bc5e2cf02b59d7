/**
 * `npm run bench [-- --quick] [-- --json] [-- --scale K]`: the work-queue model at fleet scale on
 * the local account, under a fixed latency per call and token-bucket throttling per API family.
 * Real model: 100 ms per call; EKS reads 20/s, EKS writes 5/s, IAM 20/s (the account's rates).
 * The automation paces itself at `--share` (default 0.5) of each rate, client-side; its
 * efficiency is measured against that share. Rates are multiplied and every duration (latency,
 * bucket) divided by K (default 25) so the bench ends in minutes. What the run does not scale is
 * the local account's own time per call (moto: 5–15 ms per DynamoDB or SQS call, 300 ms for a
 * batch of ten FIFO sends), which at K = 25 is more than the modelled 4 ms per call: efficiency
 * rows run at `--efficiency-scale` (default 10), where it weighs less.
 * The sweep runs as deployed: rebuild the index, enqueue every cluster, workers drain the FIFO
 * queue (one batch in flight per cluster) with the production use cases and adapters.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EKSClient } from "@aws-sdk/client-eks";
import { CreateRoleCommand, IAMClient, TagRoleCommand } from "@aws-sdk/client-iam";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Command } from "commander";
import { build } from "esbuild";
import pLimit from "p-limit";
import { enqueueSweep } from "../../functions/app/enqueue-sweep.js";
import type { ReconcileSettings } from "../../functions/app/ports.js";
import { type ReconcileClusterDeps, reconcileCluster } from "../../functions/app/reconcile-cluster.js";
import { handleWorkBatch } from "../../functions/app/work-items.js";
import { groupWorkRecords, sqsEventSchema } from "../../functions/app/work-records.js";
import { EksClusterApi } from "../../functions/aws/cluster-api.js";
import { DynamoDeletionBudget } from "../../functions/aws/deletion-budget.js";
import { readRoles } from "../../functions/aws/inventory.js";
import { IamRoleDirectory } from "../../functions/aws/role-directory.js";
import { pacedClients, type SharedPacer } from "../../functions/aws/shared-pacing.js";
import { DynamoTemplateIndex } from "../../functions/aws/template-index.js";
import { SqsWorkQueue } from "../../functions/aws/work-queue.js";
import { catalogRoleLock } from "../../functions/aws/work-runtime.js";
import { renderTable } from "../../functions/cli/tables.js";
import { drainQueue } from "../../functions/cli/work-drain.js";
import { DEFAULT_TEMPLATE_PATH } from "../../functions/core/admission.js";
import { podIdentityTrust } from "../../local/sample-fleet.js";
import { localWorkEnv } from "../../local/work-resources.js";
import {
  createClusterEvent,
  createRoleEvent,
  deliverClusterEvent,
  deliverIamEvent,
  tagRoleEvent,
} from "./events.js";
import { ACCOUNT, clusterNames, injectDrift, seedFleet, startAccountProcess } from "./fleet.js";

const REAL = {
  latencyMs: 100,
  // SQS and DynamoDB ("other") are not the bound of anything here: their rates are far higher
  rates: { "eks-read": 20, "eks-write": 5, "iam-read": 20, "iam-write": 20, sts: 20, other: 5000 },
} as const;
type Family = keyof typeof REAL.rates;
const PACED: Family[] = ["eks-read", "eks-write", "iam-read", "iam-write"];

const cli = new Command("bench")
  .option("--quick", "the smaller sizes only")
  .option("--json", "print JSON")
  .option("--scale <k>", "rate multiplier", (v) => Number(v), 25)
  .option(
    "--efficiency-scale <k>",
    "rate multiplier of the efficiency rows (50×100, buckets of 1 s and 0.1 s)",
    (v) => Number(v),
    10,
  )
  .option("--share <f>", "share of each API family's rate the automation uses", (v) => Number(v), 0.5)
  .option("--workers <n>", "concurrent worker invocations", (v) => Number(v), 8)
  .option(
    "--sizes <list>",
    "steady-state fleets, clusters x associations per cluster (default 10x20,50x100 and, unless --quick, 200x200); the largest also gets the one-cluster re-tag row",
    parseSizes,
  )
  .option(
    "--rows <list>",
    "the rows to run, comma-separated: steady (with the one-cluster re-tag), drift, onboarding, retag, iam (default all)",
    (v) => v.split(",").map((r) => r.trim()),
  )
  .option("--roles <n>", "roles of the IAM-calls-per-sweep row (default 500 with --quick, else 2000)", (v) =>
    Number(v),
  )
  .parse(process.argv.slice(2), { from: "user" });
const opts = cli.opts<{
  quick?: boolean;
  json?: boolean;
  scale: number;
  efficiencyScale: number;
  share: number;
  workers: number;
  sizes?: [number, number][];
  roles?: number;
  rows?: string[];
}>();
const ROWS = ["steady", "drift", "onboarding", "retag", "iam"];
for (const r of opts.rows ?? [])
  if (!ROWS.includes(r)) throw new Error(`--rows: "${r}" is not one of ${ROWS.join(", ")}`);
const want = (r: string) => !opts.rows || opts.rows.includes(r);

function parseSizes(value: string): [number, number][] {
  return value.split(",").map((pair) => {
    const m = /^(\d+)x(\d+)$/.exec(pair.trim());
    if (!m) throw new Error(`--sizes: "${pair}" is not CLUSTERSxASSOCIATIONS (e.g. 200x200)`);
    return [Number(m[1]), Number(m[2])];
  });
}
/** the rate multiplier of the row being run */
let K = opts.scale;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Run {
  scenario: string;
  clusters: number;
  associations: number;
  calls: number;
  wallSeconds: number;
  boundSeconds: number;
  efficiency: number;
  burstSeconds: number;
  /** the rate multiplier it ran at */
  scale: number;
  describedOnce?: boolean;
  callsByOperation?: Record<string, number>;
  changes?: number;
  converged?: boolean;
  note?: string;
  /** what the row must show; a failed check makes the bench exit 1 */
  failedChecks?: string[];
}

/** Records the row's checks: the failed ones are listed and fail the bench. */
function check(run: Run, checks: Record<string, boolean>): void {
  const failed = Object.entries(checks)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  if (failed.length > 0) run.failedChecks = failed;
}

const account = await startAccountProcess();
const { control } = account;
const env = localWorkEnv(account.endpoint);
const common = {
  endpoint: account.endpoint,
  region: "us-east-1",
  maxAttempts: 10,
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
};
const seedClients = {
  eks: new EKSClient(common),
  iam: new IAMClient(common),
} as unknown as Parameters<typeof seedFleet>[0];
const settings: ReconcileSettings = {
  accountId: ACCOUNT,
  dryRun: false,
  adoptUnmanaged: false,
  installAgent: false,
  budget: { floor: 5, fraction: 0.1 },
};

/**
 * The production ports over fresh clients, paced at the share of the (scaled) rates; unpaced for
 * seeding (not measured: the account has no faults then, so seeding runs as fast as it serves).
 */
function workDeps(burstSeconds: number, paced = true): ReconcileClusterDeps & { queue: SqsWorkQueue } {
  const eks = new EKSClient({ ...common, retryMode: "adaptive" });
  const iam = new IAMClient({ ...common, retryMode: "adaptive" });
  const db = new DynamoDBClient(common);
  // the account-wide schedules in the local account's DynamoDB, as the functions take them
  if (paced) {
    const pacer = pacedClients(
      db,
      {
        PACING_TABLE: env.PACING_TABLE!,
        PACING_SHARE: opts.share,
        PACING_RATES: PACED.map((f) => `${f}=${REAL.rates[f] * K}`).join(","),
      },
      { eks, iam },
      // the bucket is in real seconds: the run's time is K times faster
      { burstSeconds: burstSeconds / K },
    );
    pacers.push(pacer);
    const take = pacer.take.bind(pacer);
    pacer.take = async (family) => {
      const at = await take(family);
      const t = performance.now();
      paceTrace.first = Math.min(paceTrace.first, t);
      paceTrace.last = Math.max(paceTrace.last, t);
      return at;
    };
  }
  return {
    clusters: new EksClusterApi(eks, { readConcurrency: 16, concurrency: 16 }),
    // as deployed: catalog roles edited under their lease
    roles: new IamRoleDirectory(iam, catalogRoleLock(db, env.TEMPLATE_INDEX_TABLE!)),
    index: new DynamoTemplateIndex(db, env.TEMPLATE_INDEX_TABLE!),
    budget: new DynamoDeletionBudget(db, env.DELETION_BUDGET_TABLE!, settings.budget),
    queue: new SqsWorkQueue(new SQSClient(common), env.WORK_QUEUE_URL!),
    publisher: { publish() {}, flush: async () => undefined },
    metrics: { count() {} },
    log: { info() {}, warn() {}, error() {} },
    now: () => new Date(),
  };
}

/** Every pacer of the run (one per simulated execution environment) and when paced calls went. */
const pacers: SharedPacer[] = [];
const paceTrace = { first: Number.POSITIVE_INFINITY, last: 0 };

/**
 * Drains the work queue with `workers` concurrent worker invocations (the handler's logic). With
 * `container`, each invocation runs in an execution environment of its own, as Lambda runs
 * them: a free one is reused, else a new one is made (its own clients and pacer, local state).
 */
type WorkDeps = ReturnType<typeof workDeps>;
async function drain(
  deps: WorkDeps,
  container?: () => WorkDeps,
  until?: Promise<unknown>,
): Promise<{ clusters: number }> {
  const free: WorkDeps[] = [];
  const sqs = new SQSClient(common);
  const out = await drainQueue({
    sqs,
    queueUrl: env.WORK_QUEUE_URL!,
    pollers: opts.workers,
    ...(until ? { until } : {}),
    // as deployed (six times the worker's timeout): a batch of ten large clusters, paced, can
    // take longer than a minute, and must not be received again meanwhile
    visibilityTimeout: 900,
    worker: async (event) => {
      const { groups } = groupWorkRecords(sqsEventSchema.parse(event).Records);
      const env = container ? (free.pop() ?? container()) : deps;
      // the worker's use case, as the handler runs it
      const { failures } = await handleWorkBatch(env, settings, groups);
      if (container) free.push(env);
      return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
    },
  });
  sqs.destroy();
  if (out.failedItems > 0) throw new Error(`${out.failedItems} work items failed`);
  return { clusters: out.clusters.length };
}

async function faultsOn(burstSeconds: number): Promise<void> {
  const throttle = Object.fromEntries(
    Object.entries(REAL.rates).map(([f, r]) => [
      f,
      // a bucket of b real seconds holds r × b requests: the run's time is K times faster, its
      // rates K times higher, and the same number of requests
      { rate: r * K, burst: Math.max(1, r * burstSeconds) },
    ]),
  );
  await control("PUT", "faults", { latencyMs: Math.round(REAL.latencyMs / K), throttle });
  await control("DELETE", "calls");
}

async function measured<T>(fn: () => Promise<T>, burstSeconds = 1) {
  await faultsOn(burstSeconds);
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const counts = (await control("GET", "calls")) as {
    calls: Record<string, number>;
    throttled: Record<string, number>;
    families: Record<string, number>;
    throttledFamilies: Record<string, number>;
  };
  await control("PUT", "faults", {});
  let bound = 0;
  let total = 0;
  for (const [family, n] of Object.entries(counts.families)) {
    if (!PACED.includes(family as Family)) continue;
    const necessary = n - (counts.throttledFamilies[family] ?? 0);
    total += necessary;
    // against the automation's own share of the rate
    bound = Math.max(bound, necessary / (REAL.rates[family as Family] * K * opts.share));
  }
  const throttled = Object.values(counts.throttledFamilies).reduce((a, b) => a + b, 0);
  const calls = Object.fromEntries(
    Object.entries(counts.calls).map(([op, n]) => [op, n - (counts.throttled[op] ?? 0)]),
  );
  if (throttled > 0) calls.throttledRetries = throttled;
  return { result, wall, calls, bound, total, burstSeconds };
}

/** The schedule's flow: rebuild the index, enqueue every cluster, drain. */
async function sweep(burstSeconds = 1, paced = true) {
  const deps = workDeps(burstSeconds, paced);
  const t0 = performance.now();
  let enqueuedAfter = 0;
  const enqueue = enqueueSweep(deps, ACCOUNT).then(() => {
    enqueuedAfter = (performance.now() - t0) / 1000;
  });
  // the sweeper's environment rebuilt the index; workers run in environments of their own, and
  // the event source mapping polls all along
  const drained = await drain(deps, () => workDeps(burstSeconds, paced), enqueue);
  await enqueue;
  return { ...drained, enqueuedAfter, t0 };
}

/**
 * A new fleet whose associations the worker's use case creates, unpaced and unmeasured, a few
 * clusters at a time without the queue: a queue batch of ten 200-association clusters outlasts
 * the drain's 60 s visibility timeout on a busy machine (ReceiptHandleIsInvalid).
 */
async function freshFleet(clusters: number, perCluster: number, prefix = "c"): Promise<void> {
  const t0 = performance.now();
  await control("POST", "reset");
  await seedFleet(seedClients, clusters, perCluster, prefix);
  const deps = workDeps(1, false);
  const [first, ...rest] = await deps.clusters.listClusters();
  // the first builds the index (never built yet), the others read it
  if (first) await reconcileCluster(deps, settings, first);
  const limit = pLimit(4);
  await Promise.all(rest.map((name) => limit(() => reconcileCluster(deps, settings, name))));
  log(`  seeded ${clusters}×${perCluster} in ${round((performance.now() - t0) / 1000, 1)} s`);
}

function row(
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
    burstSeconds: m.burstSeconds,
    scale: K,
    callsByOperation: m.calls,
  };
}

function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

/** Drift left after a flow: a dry-run plan of every cluster through the worker. */
async function driftLeft(): Promise<number> {
  const deps = workDeps(1);
  let changes = 0;
  for (const name of await deps.clusters.listClusters())
    changes += (await reconcileCluster(deps, { ...settings, dryRun: true }, name)).changes.length;
  return changes;
}

const runs: Run[] = [];
const sizes: [number, number][] =
  opts.sizes ??
  (opts.quick
    ? [
        [10, 20],
        [50, 100],
      ]
    : [
        [10, 20],
        [50, 100],
        [200, 200],
      ]);
let peakRssMb = 0;

for (const [clusters, perCluster] of want("steady") ? sizes : []) {
  log(`steady state ${clusters}×${perCluster}: seeding…`);
  await freshFleet(clusters, perCluster);
  const sampler = setInterval(() => {
    peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
  }, 20);
  const associations = clusters * perCluster;
  const efficiencyRows = clusters === 50;
  K = efficiencyRows ? opts.efficiencyScale : opts.scale;
  for (const burst of efficiencyRows ? [1, 0.1] : [1]) {
    pacers.length = 0;
    paceTrace.first = Number.POSITIVE_INFINITY;
    paceTrace.last = 0;
    const m = await measured(() => sweep(burst), burst);
    const run = row(`steady-state sweep (bucket ${burst} s, ×${K})`, clusters, associations, m);
    run.describedOnce =
      m.calls.DescribePodIdentityAssociation === associations && m.calls.DescribeCluster === clusters;
    // where the wall time beyond the bound goes: the index rebuild and enqueue, the first and
    // the last paced call; the account-wide schedule's leases and the slots left unused
    const at = (t: number) => round((t - m.result.t0) / 1000, 2);
    const leases = pacers.reduce((n, p) => n + p.stats.leases, 0);
    const wasted = pacers.reduce((n, p) => n + p.stats.wasted, 0);
    run.note = `${pacers.length - 1} worker environments; index+enqueue ${round(m.result.enqueuedAfter, 2)} s; paced calls ${at(paceTrace.first)}–${at(paceTrace.last)} s; ${leases} leases, ${wasted} slots unused`;
    check(run, {
      "each association described once": run.describedOnce,
      ...(efficiencyRows ? { "efficiency ≥ 0.95 against the share": run.efficiency >= 0.95 } : {}),
    });
    runs.push(run);
    log(`  ${run.scenario}: ${run.wallSeconds}s (bound ${run.boundSeconds}s, efficiency ${run.efficiency})`);
  }
  clearInterval(sampler);
  K = opts.scale;
  if (clusters === Math.max(...sizes.map(([c]) => c))) {
    // one role re-tagged that selects one cluster: only that cluster is read. The role is new
    // (CreateRole with its tags) and its event goes through the iam-event use case
    log(`one-cluster role re-tag in ${clusters}×${perCluster}…`);
    const solo = clusterNames(clusters)[Math.min(7, clusters - 1)]!;
    const trust = podIdentityTrust();
    const tags = { "pod-identity/bind": "solo/app", "pod-identity/clusters": `name:${solo}` };
    const created = await seedClients.iam.send(
      new CreateRoleCommand({
        RoleName: "solo",
        Path: DEFAULT_TEMPLATE_PATH,
        AssumeRolePolicyDocument: trust,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    const event = createRoleEvent(created.Role!, trust, tags);
    const m = await measured(async () => {
      const deps = workDeps(1);
      const refreshed = await deliverIamEvent(deps, ACCOUNT, event);
      return { ...(await drain(deps)), enqueued: refreshed.clusters };
    });
    const run = row("role re-tag selecting one cluster", clusters, associations, m);
    run.describedOnce =
      m.calls.DescribePodIdentityAssociation === perCluster && m.calls.DescribeCluster === 1;
    run.changes = m.calls.CreatePodIdentityAssociation ?? 0;
    run.note = `${m.result.enqueued.length} cluster(s) enqueued; ${m.calls.DescribePodIdentityAssociation ?? 0} associations described`;
    check(run, {
      "only the selected cluster enqueued": m.result.enqueued.join() === solo,
      "only that cluster's associations described": run.describedOnce,
      "its one association created": run.changes === 1,
    });
    runs.push(run);
  }
}

if (want("drift")) {
  log("drift repair 50×100 (10 % wrong or missing)…");
  await freshFleet(50, 100);
  const other = `arn:aws:iam::${ACCOUNT}:role${DEFAULT_TEMPLATE_PATH}c-app-001`;
  const drifted = await injectDrift(seedClients, clusterNames(50), 0.1, other);
  const m = await measured(() => sweep());
  const run = row("drift repair (10 %)", 50, 5000, m);
  run.changes = (m.calls.CreatePodIdentityAssociation ?? 0) + (m.calls.UpdatePodIdentityAssociation ?? 0);
  const left = await driftLeft();
  run.converged = left === 0 && run.changes === drifted;
  run.note = `${drifted} drifted, ${left} left`;
  check(run, { converged: run.converged });
  runs.push(run);
}

if (want("onboarding")) {
  // the production way: the new templates' CreateRole events reach iam-event (the roles enter
  // the index; no cluster selects them yet), then the cluster's CreateCluster event onboards it
  log("cluster onboarding with 20 bindings…");
  await freshFleet(10, 20, "c");
  const seeded = await seedFleet(seedClients, 1, 20, "new");
  const roleEvents = seeded.created.map((r) => createRoleEvent(r.role, r.trust, r.tags));
  const cluster = seeded.clusters[0] as { name: string; arn: string; tags: Record<string, string> };
  const m = await measured(async () => {
    const deps = workDeps(1);
    const refreshed = await Promise.all(roleEvents.map((e) => deliverIamEvent(deps, ACCOUNT, e)));
    await deliverClusterEvent(deps, createClusterEvent(cluster));
    const drained = await drain(deps);
    return { ...drained, indexed: refreshed.filter((r) => r.now === "indexed").length };
  });
  const run = row("cluster onboarding (20 bindings)", 1, 20, m);
  run.changes = m.calls.CreatePodIdentityAssociation ?? 0;
  const left = await driftLeft();
  run.converged = run.changes === 20 && left === 0;
  run.note = `${m.result.indexed} templates indexed from their CreateRole events, ${m.result.clusters} cluster reconciled`;
  check(run, {
    "the new templates indexed": m.result.indexed === roleEvents.length,
    "20 associations created": run.changes === 20,
    "converged (nothing left to do)": left === 0,
  });
  runs.push(run);
}

if (want("retag")) {
  log("one role re-tagged across 50 clusters…");
  await freshFleet(50, 20);
  const added = { "pod-identity/bind-2": Array.from({ length: 10 }, (_, i) => `added/sa-${i}`).join(" ") };
  await seedClients.iam.send(
    new TagRoleCommand({
      RoleName: "c-app-000",
      Tags: Object.entries(added).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  const event = tagRoleEvent("c-app-000", added);
  const m = await measured(async () => {
    const deps = workDeps(1);
    await deliverIamEvent(deps, ACCOUNT, event);
    return await drain(deps);
  });
  const run = row("role re-tagged across 50 clusters", 50, 1000, m);
  run.changes = m.calls.CreatePodIdentityAssociation ?? 0;
  run.converged = run.changes === 500;
  check(run, { "500 associations created": run.converged });
  runs.push(run);
}

const iamPerSweep: Record<string, number> = {};
if (want("iam")) {
  const roles = opts.roles ?? (opts.quick ? 500 : 2000);
  log(`IAM calls per sweep at ${roles} roles…`);
  await control("POST", "reset");
  const t0 = performance.now();
  const limit = pLimit(16);
  await Promise.all(
    Array.from({ length: roles }, (_, i) =>
      limit(() =>
        seedClients.iam.send(
          new CreateRoleCommand({
            RoleName: `r-${i}`,
            Path: DEFAULT_TEMPLATE_PATH,
            AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
            ...(i % 20 === 0 ? { Tags: [{ Key: "pod-identity/bind", Value: "a/b" }] } : {}),
          }),
        ),
      ),
    ),
  );
  log(`  seeded ${roles} roles in ${round((performance.now() - t0) / 1000, 1)} s`);
  type Counts = { families: Record<string, number>; calls: Record<string, number> };
  await control("DELETE", "calls");
  await enqueueSweep(workDeps(1), ACCOUNT);
  const sweepCalls = ((await control("GET", "calls")) as Counts).families;
  await control("DELETE", "calls");
  await readRoles(seedClients.iam, 16);
  const old = (await control("GET", "calls")) as Counts;
  const oldCalls = old.families;
  iamPerSweep.listRoles = old.calls.ListRoles ?? 0;
  iamPerSweep.listRoleTags = old.calls.ListRoleTags ?? 0;
  // ListRoles does not return the permissions boundary template admission checks
  iamPerSweep.getRoleForBoundary = old.calls.GetRole ?? 0;
  iamPerSweep.roles = roles;
  iamPerSweep.getAccountAuthorizationDetails = sweepCalls["iam-read"] ?? 0;
  iamPerSweep.getAccountAuthorizationDetailsAtAwsPageSize = Math.ceil(roles / 1000);
  iamPerSweep.listRolesPlusListRoleTags = oldCalls["iam-read"] ?? 0;
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
const bundles = ["cluster-event", "iam-event", "sweeper", "reconcile-worker", "migration"].map((name) => {
  const file = `dist/functions/${name}/index.mjs`;
  return { name, bytes: statSync(file).size, coldImportMs: coldImportMs(file) };
});
bundles.push({
  name: "bare EKS client (reference)",
  bytes: statSync(".bench/bare.mjs").size,
  coldImportMs: coldImportMs(".bench/bare.mjs"),
});

const model = {
  latencyMs: REAL.latencyMs,
  rates: REAL.rates,
  scale: opts.scale,
  efficiencyScale: opts.efficiencyScale,
  share: opts.share,
  workers: opts.workers,
};
if (opts.json) {
  process.stdout.write(
    `${JSON.stringify({ model, runs: runs.map(({ callsByOperation: _c, ...r }) => r), iamPerSweep, peakRssMb: round(peakRssMb, 1), bundles }, null, 2)}\n`,
  );
} else {
  process.stdout.write(
    `Model: ${REAL.latencyMs} ms per call; EKS reads ${REAL.rates["eks-read"]}/s, EKS writes ${REAL.rates["eks-write"]}/s, IAM ${REAL.rates["iam-read"]}/s; automation share ${opts.share}; ${opts.workers} workers; run ×${opts.scale} (efficiency rows ×${opts.efficiencyScale})\n`,
  );
  process.stdout.write(
    `${renderTable(
      ["scenario", "clusters", "assoc.", "calls", "wall s", "bound s (share)", "efficiency", "checks"],
      runs.map((r) => [
        r.scenario,
        r.clusters,
        r.associations,
        r.calls,
        r.wallSeconds,
        r.boundSeconds,
        r.efficiency,
        [
          r.describedOnce === undefined ? "" : `each read once: ${r.describedOnce}`,
          r.converged === undefined ? "" : `converged: ${r.converged}`,
          r.changes === undefined ? "" : `changes: ${r.changes}`,
          r.note ?? "",
          r.failedChecks ? `FAILED: ${r.failedChecks.join("; ")}` : "",
        ]
          .filter(Boolean)
          .join("\n"),
      ]),
    )}\n`,
  );
  if (iamPerSweep.roles)
    process.stdout.write(
      `IAM calls per sweep at ${iamPerSweep.roles} roles: GetAccountAuthorizationDetails ${iamPerSweep.getAccountAuthorizationDetails} here (moto: one page; ${iamPerSweep.getAccountAuthorizationDetailsAtAwsPageSize} at AWS's 1,000 per page) vs ListRoles + ListRoleTags ${iamPerSweep.listRolesPlusListRoleTags} (ListRoles ${iamPerSweep.listRoles}, ListRoleTags ${iamPerSweep.listRoleTags}, GetRole for the boundary of tagged roles ${iamPerSweep.getRoleForBoundary})\n`,
    );
  process.stdout.write(`Peak RSS of the benchmarking process: ${round(peakRssMb, 1)} MB\n`);
  process.stdout.write(
    `${renderTable(
      ["bundle", "size KiB", "cold import ms"],
      bundles.map((b) => [b.name, round(b.bytes / 1024, 0), b.coldImportMs]),
    )}\n`,
  );
  for (const r of runs)
    log(`${r.scenario} ${r.clusters}×${r.associations}: ${JSON.stringify(r.callsByOperation)}`);
  // the trust-lint bench reads no flags: it runs here so that `npm run bench -- --quick` reaches
  // this script (npm appends the arguments to the last command of a chain)
  await import("./trust-lint.js");
}
const failed = runs.filter((r) => r.failedChecks);
for (const r of failed)
  log(`FAILED ${r.scenario} ${r.clusters}×${r.associations}: ${r.failedChecks!.join("; ")}`);
process.exit(failed.length > 0 ? 1 : 0);
