import { CreateClusterCommand, UpdatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import { CreateRoleCommand, TagRoleCommand } from "@aws-sdk/client-iam";
import type { Command } from "commander";
import createClusterEvent from "../../../events/eks-create-cluster.json" with { type: "json" };
import tagRoleEvent from "../../../events/iam-tag-role.json" with { type: "json" };
import scheduledEvent from "../../../events/scheduled-sweep.json" with { type: "json" };
import { startLocalAccount } from "../../../local/index.js";
import { podIdentityTrust, seedSampleFleet } from "../../../local/sample-fleet.js";
import { type AwsClients, createClients } from "../../aws/clients.js";
import { readAssociations, readClusters, readRoles } from "../../aws/inventory.js";
import type { ReconcileSummary } from "../../aws/reconcile.js";
import { handler as clusterEvent } from "../../cluster-event/index.js";
import { DEFAULT_TEMPLATE_PATH } from "../../core/admission.js";
import { TAG } from "../../core/tags.js";
import { handler as iamEvent } from "../../iam-event/index.js";
import { createMigrationDeps, localMigrationEnv } from "../../migration/deps.js";
import { handler as sweeper } from "../../sweeper/index.js";
import { loadMigrationDefinition, runMigrationLocally } from "../migration-runner.js";
import { renderTable } from "../tables.js";
import { terminalSafe } from "../terminal.js";
import { formatReport } from "./migrate.js";

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

function printSummary(summary: ReconcileSummary): void {
  if (summary.changes.length > 0) {
    out(
      renderTable(
        ["change", "cluster", "namespace/serviceaccount", "why", "status"],
        summary.changes.map((c) => [
          c.kind,
          c.clusterName,
          `${c.namespace}/${c.serviceAccount}`,
          c.detail,
          c.status,
        ]),
      ),
    );
  }
  const findings = summary.findings.filter((f) => f.severity !== "info");
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
  const first = (await sweeper(scheduledEvent)) as { summary: ReconcileSummary };
  printSummary(first.summary);
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
  const created = (await clusterEvent(
    cloudTrail(createClusterEvent, { name: "payments-canary", version: "1.32" }),
  )) as {
    summary: ReconcileSummary;
  };
  printSummary(created.summary);
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
  const retagged = (await iamEvent(cloudTrail(tagRoleEvent, { roleName: "orders-api", tags: [] }))) as {
    summary: ReconcileSummary;
  };
  printSummary(retagged.summary);
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
  const repaired = (await sweeper(scheduledEvent)) as { summary: ReconcileSummary };
  printSummary(repaired.summary);

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
  const bad = (await iamEvent(cloudTrail(tagRoleEvent, { roleName: "reports-writer", tags: [] }))) as {
    summary: ReconcileSummary;
  };
  printSummary(bad.summary);
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
  const refused = (await iamEvent(cloudTrail(tagRoleEvent, { roleName: "ops-admin", tags: [] }))) as {
    summary: ReconcileSummary;
  };
  printSummary(refused.summary);

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
