/**
 * `podid catalog list|show NAME|diff NAME [--json]`: the built-in catalog, the documents the
 * automation writes, and what changed between versions.
 *
 * Offline or online: the catalog itself is data shipped with podid, so every command works
 * without an account. When the environment points the SDK at an account (AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID or AWS_PROFILE set, and no --offline), podid also reads the clusters of the
 * SDK's region (which ones use each entry; the per-cluster statements and trust are rendered
 * exactly as the reconciler writes them for those clusters) and, for `diff`, the role's version
 * tags and live policy. If that read fails, the output says why and carries the offline view.
 */
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { Command } from "commander";
import { createClients } from "../../aws/clients.js";
import { readClusters } from "../../aws/inventory.js";
import {
  CATALOG,
  CATALOG_BY_NAME,
  CATALOG_NAMES,
  type CatalogEntry,
  catalogRoleName,
  managedPolicyArns,
} from "../../core/catalog.js";
import { catalogVersion, diffCatalogVersions, knownVersions } from "../../core/catalog-history.js";
import { type CatalogCluster, renderCatalogPolicy, wantedClusterGrants } from "../../core/catalog-policy.js";
import { catalogTrustPolicy, type TrustBinding } from "../../core/catalog-trust.js";
import { errorMessage } from "../../core/errors.js";
import type { Finding } from "../../core/findings.js";
import { parseClusterSettings, TAG } from "../../core/tags.js";
import { UsageError } from "../podid.js";
import { renderTable } from "../tables.js";

/** What podid could read of the account. */
export interface AccountView {
  accountId: string;
  partition: string;
  region: string;
  /** clusters of the region, with the catalog entries and bindings they request */
  clusters: {
    cluster: CatalogCluster;
    entries: Map<string, { namespace: string; serviceAccount: string }[]>;
  }[];
}

/** Whether the environment points the SDK at an account (so podid does not probe instance metadata). */
export function accountConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL || env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
}

async function readAccount(): Promise<AccountView> {
  const clients = createClients();
  const [identity, clusters, region] = await Promise.all([
    clients.sts.send(new GetCallerIdentityCommand({})),
    readClusters(clients.eks),
    clients.eks.config.region(),
  ]);
  const arnParts = (identity.Arn ?? "arn:aws:").split(":");
  return {
    accountId: identity.Account ?? "",
    partition: arnParts[1] || "aws",
    region,
    clusters: clusters.map((c) => {
      const { settings } = parseClusterSettings(c, CATALOG_NAMES);
      const entries = new Map<string, { namespace: string; serviceAccount: string }[]>();
      if (!settings.optOut) {
        for (const request of settings.catalog) {
          const entry = CATALOG_BY_NAME.get(request.name);
          if (!entry) continue;
          const list = entries.get(entry.name) ?? [];
          list.push(...(request.binding ? [request.binding] : entry.serviceAccounts));
          entries.set(entry.name, list);
        }
      }
      return { cluster: { arn: c.arn, name: c.name, tags: c.tags }, entries };
    }),
  };
}

/** The account view, or why there is none. */
async function maybeAccount(offline: boolean | undefined): Promise<{ account?: AccountView; note: string }> {
  if (offline) return { note: "offline (--offline)" };
  if (!accountConfigured())
    return { note: "offline (no AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID or AWS_PROFILE)" };
  try {
    const account = await readAccount();
    return { account, note: `account ${account.accountId}, region ${account.region}` };
  } catch (error) {
    return { note: `offline (reading the account failed: ${errorMessage(error)})` };
  }
}

function clustersUsing(entry: CatalogEntry, account: AccountView | undefined): AccountView["clusters"] {
  return account?.clusters.filter((c) => c.entries.has(entry.name)) ?? [];
}

/** The documents the automation writes for an entry (with placeholders when offline). */
export function entryDocuments(entry: CatalogEntry, account: AccountView | undefined) {
  const accountId = account?.accountId ?? "{account}";
  const partition = account?.partition ?? "aws";
  const using = clustersUsing(entry, account);
  const findings: Finding[] = [];
  const wanted = wantedClusterGrants(
    entry,
    using.map((c) => c.cluster),
    accountId,
    partition,
  );
  findings.push(...wanted.findings);
  const bindings: TrustBinding[] = using.flatMap((c) =>
    (c.entries.get(entry.name) ?? []).map((s) => ({ clusterArn: c.cluster.arn, ...s })),
  );
  return {
    roleName: catalogRoleName(entry.name),
    managedPolicyArns: managedPolicyArns(entry, partition),
    inlinePolicy: renderCatalogPolicy(entry, { accountId, partition, grants: wanted.grants }) ?? null,
    perClusterTemplates: entry.perCluster,
    trustPolicy: catalogTrustPolicy(accountId, bindings),
    findings,
  };
}

function summary(entry: CatalogEntry, account: AccountView | undefined) {
  return {
    name: entry.name,
    version: entry.version,
    upstream: entry.upstream,
    description: entry.description,
    serviceAccounts: entry.serviceAccounts,
    managedPolicyArns: entry.managedPolicyArns,
    inlinePolicy: Boolean(entry.policy) || entry.perCluster.length > 0,
    clusterTags: entry.perCluster.map((g) => g.tag),
    scopedBySessionTags: entry.scopedBySessionTags,
    narrower: entry.narrower,
    residualRisks: entry.residualRisks,
    ...(account ? { clusters: clustersUsing(entry, account).map((c) => c.cluster.arn) } : {}),
  };
}

function sa(list: { namespace: string; serviceAccount: string }[]): string {
  return list.map((s) => `${s.namespace}/${s.serviceAccount}`).join(" ");
}

function entryOrUsage(name: string): CatalogEntry {
  const entry = CATALOG_BY_NAME.get(name);
  if (!entry) throw new UsageError(`no catalog entry "${name}" (podid catalog list shows them)`);
  return entry;
}

/** Registers `podid catalog`. */
export function registerCatalog(program: Command, setExit: (code: number) => void): void {
  const catalog = program.command("catalog").description("the built-in catalog of shared roles");
  catalog
    .command("list")
    .description("entries, versions, upstream versions, default service accounts, clusters using each")
    .option("--json", "machine-readable output")
    .option("--offline", "do not read the account")
    .action(async (opts: { json?: boolean; offline?: boolean }) => {
      const { account, note } = await maybeAccount(opts.offline);
      const entries = CATALOG.map((e) => summary(e, account));
      if (opts.json) process.stdout.write(`${JSON.stringify({ source: note, entries })}\n`);
      else {
        process.stdout.write(
          `${renderTable(
            [
              "entry",
              "version",
              "upstream",
              "service accounts",
              "policies",
              ...(account ? ["clusters"] : []),
            ],
            entries.map((e) => [
              e.name,
              e.version,
              e.upstream.version,
              sa(e.serviceAccounts),
              [
                ...e.managedPolicyArns.map((a) => a.split("/").pop() ?? a),
                ...(e.inlinePolicy ? ["inline"] : []),
              ].join(" + "),
              ...(account ? [(e.clusters ?? []).map((a) => a.split("/").pop()).join(" ") || "-"] : []),
            ]),
          )}\n${note}\n`,
        );
      }
      setExit(0);
    });
  catalog
    .command("show <name>")
    .description(
      "one entry: upstream, what it narrows, and the policy documents as the automation writes them",
    )
    .option("--json", "machine-readable output")
    .option("--offline", "do not read the account")
    .action(async (name: string, opts: { json?: boolean; offline?: boolean }) => {
      const entry = entryOrUsage(name);
      const { account, note } = await maybeAccount(opts.offline);
      const view = { source: note, ...summary(entry, account), documents: entryDocuments(entry, account) };
      if (opts.json) process.stdout.write(`${JSON.stringify(view)}\n`);
      else {
        const d = view.documents;
        const lines = [
          `${entry.name} ${entry.version}: ${entry.description}`,
          `upstream: ${entry.upstream.project} ${entry.upstream.version} (${entry.upstream.source})`,
          `service accounts: ${sa(entry.serviceAccounts)}`,
          `role: ${d.roleName} (path /pod-identity/, permissions boundary pod-identity-catalog-boundary)`,
          ...(entry.perCluster.length > 0
            ? [`cluster tags read: ${[...new Set(entry.perCluster.map((g) => g.tag))].join(", ")}`]
            : []),
          ...(view.clusters ? [`clusters using it: ${view.clusters.join(" ") || "none"}`] : []),
          "",
          "Narrower than upstream:",
          ...(entry.narrower.length > 0
            ? entry.narrower.map((n) => `  - ${n}`)
            : ["  - nothing (as upstream)"]),
          ...(entry.residualRisks.length > 0
            ? ["As broad as upstream:", ...entry.residualRisks.map((n) => `  - ${n}`)]
            : []),
          "",
          `Managed policies: ${d.managedPolicyArns.join(" ") || "none"}`,
          `Inline policy ${"pod-identity-catalog"}:`,
          d.inlinePolicy ? JSON.stringify(d.inlinePolicy, null, 2) : "  none",
          "Trust policy:",
          JSON.stringify(d.trustPolicy, null, 2),
          ...d.findings.map((f) => `${f.severity}: ${f.message}`),
          note,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      setExit(0);
    });
  catalog
    .command("diff <name>")
    .description("what changed between the version a role was written at (or --from) and the current catalog")
    .option("--from <version>", "compare from this catalog version")
    .option("--json", "machine-readable output")
    .option("--offline", "do not read the account")
    .action(async (name: string, opts: { from?: string; json?: boolean; offline?: boolean }) => {
      const entry = entryOrUsage(name);
      const versions = knownVersions(entry);
      let from = opts.from;
      let source = "catalog history";
      if (!from && !opts.offline && accountConfigured()) {
        try {
          const { GetRoleCommand } = await import("@aws-sdk/client-iam");
          const role = await createClients().iam.send(
            new GetRoleCommand({ RoleName: catalogRoleName(entry.name) }),
          );
          const tags = Object.fromEntries((role.Role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
          const written = tags[TAG.catalogVersion];
          from =
            written && written !== entry.version ? written : tags["pod-identity/catalog-previous-version"];
          source = `role ${catalogRoleName(entry.name)} (written at ${written ?? "unknown"})`;
        } catch (error) {
          source = `catalog history (reading the role failed: ${errorMessage(error)})`;
        }
      }
      from ??= versions.at(-2) ?? entry.version;
      const older = catalogVersion(entry, from);
      if (!older) {
        process.stderr.write(
          `podid: catalog version ${from} of ${entry.name} is unknown (known: ${versions.join(", ")})\n`,
        );
        setExit(1);
        return;
      }
      const diff = diffCatalogVersions(older, entry);
      if (opts.json) process.stdout.write(`${JSON.stringify({ source, knownVersions: versions, diff })}\n`);
      else {
        const list = (label: string, items: string[]) =>
          items.length > 0 ? [`${label}:`, ...items.map((i) => `  ${i}`)] : [];
        const lines = [
          `${entry.name}: ${diff.from} -> ${diff.to} (${source})`,
          ...list("actions added", diff.addedActions),
          ...list("actions removed", diff.removedActions),
          ...list("managed policies attached", diff.addedManagedPolicies),
          ...list("managed policies detached", diff.removedManagedPolicies),
          ...list("service accounts added", diff.addedServiceAccounts),
          ...list("service accounts removed", diff.removedServiceAccounts),
          ...list(
            "statements",
            diff.changedStatements.map((s) => `${s.change} ${s.sid}`),
          ),
        ];
        if (lines.length === 1) lines.push("no differences");
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      setExit(0);
    });
}
