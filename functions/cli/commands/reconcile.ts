import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { Command } from "commander";
import scheduledEvent from "../../../events/scheduled-sweep.json" with { type: "json" };
import { type AccountSummary, planAccount } from "../../app/plan-account.js";
import { silentLog } from "../../app/silent-log.js";
import { admissionFromEnv } from "../../aws/admission-settings.js";
import { type AwsClients, createClients } from "../../aws/clients.js";
import { EksClusterApi } from "../../aws/cluster-api.js";
import { IamRoleDirectory } from "../../aws/role-directory.js";
import { DEFAULT_BUDGET } from "../../core/budget.js";
import { SEVERITIES } from "../../core/trust/findings.js";
import { renderTable } from "../tables.js";
import { terminalSafe } from "../terminal.js";
import { formatFlow, runFlow } from "./replay.js";

/** The readable form of a reconcile summary: changes, findings, counts. */
export function formatSummary(summary: AccountSummary, title: string): string {
  const lines: string[] = [];
  if (summary.changes.length === 0)
    lines.push(`${title}: no changes (${summary.unchanged} associations as desired).`);
  else {
    lines.push(`${title}:`);
    lines.push(
      renderTable(
        ["change", "cluster", "namespace/serviceaccount", "role", "why", "status"],
        summary.changes.map((c) => [
          c.kind,
          c.clusterName,
          `${c.namespace}/${c.serviceAccount}`,
          c.roleArn.replace(/^arn:aws[a-z-]*:iam::\d{12}:role\//, ""),
          c.detail,
          c.error ? `${c.status}: ${c.error}` : c.status,
        ]),
      ),
    );
  }
  const findings = [...summary.findings].sort(
    (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity),
  );
  if (findings.length > 0) {
    lines.push("", "Findings:");
    lines.push(
      renderTable(
        ["severity", "code", "message"],
        findings.map((f) => [f.severity, f.code, f.message]),
      ),
    );
  }
  lines.push(
    "",
    `clusters ${summary.clusters} · created ${summary.created} · updated ${summary.updated} · deleted ${summary.deleted} · unchanged ${summary.unchanged} · failed ${summary.failed} · conflicts ${summary.conflicts}${summary.held > 0 ? ` · ${summary.held} DELETION(S) HELD` : ""}`,
  );
  return `${lines.join("\n")}\n`;
}

/**
 * The worker's own use case, dry: every cluster (or `only` these) planned from one IAM read,
 * against whatever AWS the SDK points at; nothing is written, no table or queue is needed.
 */
export async function planFromWorkstation(only?: string[]): Promise<AccountSummary> {
  const clients = createClients({ endpointOverrides: true });
  const accountId = (await clients.sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
  return await planWith(clients, accountId, only);
}

/** The dry-run plan with these clients (the stack's default settings, admission from the environment). */
export async function planWith(
  clients: Pick<AwsClients, "eks" | "iam">,
  accountId: string,
  only?: string[],
): Promise<AccountSummary> {
  return await planAccount(
    {
      clusters: new EksClusterApi(clients.eks),
      roles: new IamRoleDirectory(clients.iam),
      log: silentLog,
      now: () => new Date(),
    },
    {
      accountId,
      adoptUnmanaged: false,
      installAgent: true,
      budget: { floor: DEFAULT_BUDGET.floor, fraction: DEFAULT_BUDGET.fraction },
      admission: admissionFromEnv(),
    },
    only,
  );
}

/** `podid plan` and `podid sweep`: the reconciler from a workstation, against whatever AWS the SDK points at. */
export function registerReconcile(program: Command, setExit: (code: number) => void): void {
  program
    .command("plan")
    .description("desired vs actual for the account the SDK points at (exit 2 when there is drift)")
    .option("--json", "machine-readable output")
    .option("--cluster <name...>", "only these clusters")
    .action(async (opts: { json?: boolean; cluster?: string[] }) => {
      const summary = await planFromWorkstation(opts.cluster);
      process.stdout.write(
        opts.json ? `${JSON.stringify(summary)}\n` : terminalSafe(formatSummary(summary, "Plan")),
      );
      setExit(summary.changes.length > 0 ? 2 : 0);
    });
  program
    .command("sweep")
    .description("the scheduled flow now: rebuild the template index, enqueue every cluster, drain the queue")
    .option("--dry-run", "plan only, change nothing (no queue)")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean; dryRun?: boolean }) => {
      if (opts.dryRun) {
        const summary = await planFromWorkstation();
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(summary)}\n`
            : terminalSafe(formatSummary(summary, "Sweep (dry run)")),
        );
        setExit(summary.failed > 0 ? 1 : 0);
        return;
      }
      const report = await runFlow([{ file: "schedule", event: scheduledEvent }]);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : terminalSafe(formatFlow(report)));
      setExit(report.handled ? 0 : 1);
    });
}
