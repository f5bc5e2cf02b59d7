import {
  CreateClusterCommand,
  DescribeClusterCommand,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { CreateRoleCommand, TagRoleCommand } from "@aws-sdk/client-iam";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { Command } from "commander";
import createClusterEvent from "../../../events/eks-create-cluster.json" with { type: "json" };
import tagRoleEvent from "../../../events/iam-tag-role.json" with { type: "json" };
import scheduledEvent from "../../../events/scheduled-sweep.json" with { type: "json" };
import { startLocalAccount } from "../../../local/index.js";
import { mintJwt } from "../../../local/jwt.js";
import { podIdentityTrust, seedSampleFleet } from "../../../local/sample-fleet.js";
import { type AwsClients, createClients } from "../../aws/clients.js";
import { readAssociations, readClusters, readRoles } from "../../aws/inventory.js";
import { DEFAULT_TEMPLATE_PATH } from "../../core/admission.js";
import { TAG } from "../../core/tags.js";
import { createMigrationDeps, localMigrationEnv } from "../../migration/deps.js";
import { finalizeLocally, loadMigrationDefinition, runMigrationLocally } from "../migration-runner.js";
import { renderTable } from "../tables.js";
import { terminalSafe } from "../terminal.js";
import { formatFinalize, formatReport } from "./migrate.js";
import { planWith } from "./reconcile.js";
import { type FlowReport, runFlow } from "./replay.js";

const POD_IDENTITY_TAG = /^pod-identity\//;
const out = (s = "") => process.stdout.write(`${terminalSafe(s)}\n`);

function tagList(tags: Record<string, string>, filter?: RegExp): string {
  return Object.entries(tags)
    .filter(([k]) => !filter || filter.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join("\n");
}

function step(n: number, title: string): void {
  out(`\n━━ ${n}. ${title}`);
}

/** A CloudTrail event like the samples in events/, with other request parameters. */
function cloudTrail<T extends { detail: { requestParameters: unknown } }>(
  sample: T,
  requestParameters: Record<string, unknown>,
): T {
  const event = structuredClone(sample);
  event.detail.requestParameters = requestParameters;
  return event;
}

async function printAssociations(clients: AwsClients, clusterNames?: string[]): Promise<void> {
  const clusters = (await readClusters(clients.eks)).filter(
    (c) => !clusterNames || clusterNames.includes(c.name),
  );
  const rows: string[][] = [];
  for (const c of clusters) {
    for (const a of await readAssociations(clients.eks, c.name)) {
      rows.push([
        c.name,
        `${a.namespace}/${a.serviceAccount}`,
        a.roleArn.replace(/^arn:aws:iam::\d{12}:role\//, ""),
        a.ownerArn
          ? "add-on"
          : (a.tags[TAG.source] ?? (a.tags["pod-identity/migration"] ? "migration" : "not managed")),
      ]);
    }
  }
  rows.sort((a, b) => a.join().localeCompare(b.join()));
  out(renderTable(["cluster", "namespace/serviceaccount", "role", "source"], rows));
}

/** What a trigger did once the work queue was drained: the changed slots. */
function printFlow(report: FlowReport): void {
  const rows = (["created", "updated", "deleted"] as const).flatMap((kind) =>
    report.changes[kind].map((slot) => [kind, slot]),
  );
  out(
    `${report.drain.messages} work item(s) for ${report.drain.clusters.join(", ") || "no cluster"}; ${rows.length} change(s)${report.handled ? "" : " (NOT all handled)"}`,
  );
  if (rows.length > 0) out(renderTable(["change", "cluster/namespace/serviceaccount"], rows));
}

/** The findings a role's tags produce (a dry-run plan scoped to the role). */
async function printRoleFindings(clients: AwsClients, accountId: string, roleName: string): Promise<void> {
  const plan = await planWith(clients, accountId);
  const findings = plan.findings.filter((f) => f.severity !== "info" && f.roleName === roleName);
  if (findings.length > 0)
    out(
      renderTable(
        ["severity", "code", "finding"],
        findings.map((f) => [f.severity, f.code, f.message]),
      ),
    );
}

async function story(clients: AwsClients, accountId: string): Promise<void> {
  out(
    `Local AWS account ${accountId}. Seeding a sample fleet: three clusters, two template roles, one IRSA role.`,
  );
  await seedSampleFleet(clients, accountId);
  out("\nClusters");
  out(
    renderTable(
      ["cluster", "version", "status", "tags"],
      (await readClusters(clients.eks)).map((c) => [c.name, c.version, c.status, tagList(c.tags)]),
    ),
  );
  out("\nRoles");
  const roles = (await readRoles(clients.iam)).filter((r) => r.name !== "eks-cluster-role");
  out(
    renderTable(
      ["role", "kind", "pod-identity tags"],
      roles.map((r) => [
        r.name,
        r.tags[TAG.bind] ? "template" : r.trustPolicy.includes("oidc-provider") ? "IRSA" : "other",
        tagList(r.tags, POD_IDENTITY_TAG) || "-",
      ]),
    ),
  );

  step(1, "The scheduled sweep onboards the fleet (legacy-batch is opted out)");
  printFlow(await runFlow([{ file: "schedule", event: scheduledEvent }]));
  await printAssociations(clients);

  step(2, "A cluster is created: CreateCluster → cluster-event → its associations");
  await clients.eks.send(
    new CreateClusterCommand({
      name: "payments-canary",
      version: "1.32",
      roleArn: `arn:aws:iam::${accountId}:role/eks-cluster-role`,
      resourcesVpcConfig: { subnetIds: ["subnet-0a1b2c3d", "subnet-4e5f6a7b"] },
      tags: {
        team: "payments",
        env: "canary",
        "pod-identity-scope/team": "payments",
        "pod-identity-scope/env": "canary",
      },
    }),
  );
  printFlow(
    await runFlow([{ event: cloudTrail(createClusterEvent, { name: "payments-canary", version: "1.32" }) }]),
  );
  await printAssociations(clients, ["payments-canary"]);

  step(3, "A role is re-tagged: orders-api now binds orders-reporter and only prod clusters → iam-event");
  const tags = {
    [TAG.bind]: "orders/orders-api orders/orders-reporter",
    [TAG.clusters]: "tag:pod-identity-scope/env=prod",
  };
  await clients.iam.send(
    new TagRoleCommand({
      RoleName: "orders-api",
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  printFlow(await runFlow([{ event: cloudTrail(tagRoleEvent, { roleName: "orders-api", tags: [] }) }]));
  await printAssociations(clients);

  step(4, "Someone repoints an association by hand; the sweeper repairs the drift");
  const prod = await readAssociations(clients.eks, "payments-prod");
  const victim = prod.find((a) => a.namespace === "monitoring");
  await clients.iam.send(
    new CreateRoleCommand({ RoleName: "hand-made", AssumeRolePolicyDocument: podIdentityTrust() }),
  );
  if (victim) {
    await clients.eks.send(
      new UpdatePodIdentityAssociationCommand({
        clusterName: "payments-prod",
        associationId: victim.associationId,
        roleArn: `arn:aws:iam::${accountId}:role/hand-made`,
      }),
    );
    out(`payments-prod ${victim.namespace}/${victim.serviceAccount} now points at role hand-made.`);
  }
  printFlow(await runFlow([{ file: "schedule", event: scheduledEvent }]));

  step(5, "A bad template is reported, not applied; a tagged role outside the template path is refused");
  await clients.iam.send(
    new CreateRoleCommand({
      RoleName: "reports-writer",
      Path: DEFAULT_TEMPLATE_PATH,
      AssumeRolePolicyDocument: podIdentityTrust(),
      Tags: [
        { Key: TAG.bind, Value: "Reports/writer" },
        { Key: TAG.clusters, Value: "everywhere" },
      ],
    }),
  );
  printFlow(await runFlow([{ event: cloudTrail(tagRoleEvent, { roleName: "reports-writer", tags: [] }) }]));
  await printRoleFindings(clients, accountId, "reports-writer");
  await clients.iam.send(
    new CreateRoleCommand({
      RoleName: "ops-admin",
      AssumeRolePolicyDocument: podIdentityTrust(),
      Tags: [
        { Key: TAG.bind, Value: "tools/shell" },
        { Key: TAG.clusters, Value: "all" },
      ],
    }),
  );
  printFlow(await runFlow([{ event: cloudTrail(tagRoleEvent, { roleName: "ops-admin", tags: [] }) }]));
  await printRoleFindings(clients, accountId, "ops-admin");

  step(
    6,
    "The IRSA role of payments-staging moves to Pod Identity (the migration state machine, run locally)",
  );
  const { recordOutcome: _metrics, ...deps } = createMigrationDeps({
    ...process.env,
    ...localMigrationEnv(accountId),
  });
  await deps.store.ensureTable();
  const migration = await runMigrationLocally({
    definition: loadMigrationDefinition("run"),
    deps,
    input: { clusterName: "payments-staging", soakSeconds: 300 },
    migrationId: `payments-staging-${Date.now()}`,
    soakMs: 0,
    autoApprove: true,
  });
  out("(approved automatically and the 300 s soak skipped in the demo; IRSA trust stays until finalize)");
  if (migration.report) out(formatReport(migration.report));
  else out(`migration failed: ${migration.error?.name}: ${migration.error?.cause}`);
  await printAssociations(clients, ["payments-staging"]);

  step(7, "A pod not restarted yet still refreshes on IRSA: finalize keeps its IRSA trust");
  const pod = { cluster: "payments-staging", namespace: "reports", serviceAccount: "s3-reader" };
  const roleArn = `arn:aws:iam::${accountId}:role/reports-s3-reader`;
  out(`IRSA refresh (AssumeRoleWithWebIdentity): ${await demoIrsa(clients, pod, roleArn)}`);
  const held = await finalizeLocally({
    definition: loadMigrationDefinition("finalize"),
    deps,
    input: { clusterName: "payments-staging" },
    migrationId: `finalize-payments-staging-${Date.now()}`,
  });
  if (held.report) out(formatFinalize(held.report));
  out(`finalize ${held.status === "succeeded" ? "completed" : "is incomplete (exit code 1)"}`);

  step(8, "The pod restarts onto Pod Identity; two hours later finalize removes this cluster's IRSA trust");
  out(`Pod Identity (AssumeRoleForPodIdentity): ${await demoPodIdentity(clients, pod)}`);
  const later = { ...deps, now: () => new Date(Date.now() + 2 * 3600_000) };
  const done = await finalizeLocally({
    definition: loadMigrationDefinition("finalize"),
    deps: later,
    input: { clusterName: "payments-staging" },
    migrationId: `finalize-payments-staging-${Date.now()}`,
  });
  if (done.report) out(formatFinalize(done.report));
  out(`finalize ${done.status === "succeeded" ? "completed" : "is incomplete (exit code 1)"}`);
  out(`IRSA refresh now: ${await demoIrsa(clients, pod, roleArn)}`);
  out(`Pod Identity now: ${await demoPodIdentity(clients, pod)}`);
}

type DemoPod = { cluster: string; namespace: string; serviceAccount: string };

async function demoToken(clients: AwsClients, pod: DemoPod, audience: string): Promise<string> {
  const { cluster } = await clients.eks.send(new DescribeClusterCommand({ name: pod.cluster }));
  const iat = Math.floor(Date.now() / 1000);
  return mintJwt({
    iss: cluster?.identity?.oidc?.issuer ?? "",
    sub: `system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`,
    aud: [audience],
    iat,
    nbf: iat,
    exp: iat + 3600,
    "kubernetes.io": {
      namespace: pod.namespace,
      pod: { name: `${pod.serviceAccount}-pod`, uid: "00000000-0000-4000-8000-000000000001" },
      serviceaccount: { name: pod.serviceAccount, uid: "00000000-0000-4000-8000-000000000002" },
    },
  });
}

/** A pod on IRSA asks STS for credentials (as its SDK does). */
async function demoIrsa(clients: AwsClients, pod: DemoPod, roleArn: string): Promise<string> {
  try {
    const sts = new STSClient({
      region: "us-east-1",
      endpoint: process.env.AWS_ENDPOINT_URL,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const outcome = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: "demo",
        WebIdentityToken: await demoToken(clients, pod, "sts.amazonaws.com"),
      }),
    );
    return `credentials for ${outcome.AssumedRoleUser?.Arn}`;
  } catch (error) {
    return `refused: ${(error as Error).name}`;
  }
}

/** The Pod Identity Agent asks EKS Auth for the pod's credentials. */
async function demoPodIdentity(clients: AwsClients, pod: DemoPod): Promise<string> {
  const res = await fetch(
    `${process.env.AWS_ENDPOINT_URL}/clusters/${encodeURIComponent(pod.cluster)}/assume-role-for-pod-identity`,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `AWS4-HMAC-SHA256 Credential=${process.env.ACCOUNT_ID}/20240101/us-east-1/eks-auth/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ token: await demoToken(clients, pod, "pods.eks.amazonaws.com") }),
    },
  );
  const body = (await res.json()) as { assumedRoleUser?: { arn?: string }; message?: string };
  return res.ok
    ? `credentials for ${body.assumedRoleUser?.arn}`
    : `refused: ${res.headers.get("x-amzn-errortype") ?? res.status}`;
}

/** `podid demo` (what `npm start` runs): the product's story on a fresh local account. */
export function registerDemo(program: Command, setExit: (code: number) => void): void {
  program
    .command("demo")
    .description("run the demo on a fresh local account")
    .action(async () => {
      const account = await startLocalAccount();
      try {
        Object.assign(process.env, account.env(), {
          ACCOUNT_ID: account.accountId,
          POWERTOOLS_LOG_LEVEL: "SILENT",
          POWERTOOLS_METRICS_DISABLED: "true",
        });
        await story(createClients(), account.accountId);
        setExit(0);
      } finally {
        await account.stop();
      }
    });
}
