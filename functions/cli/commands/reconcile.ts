import type { Command } from "commander";
import scheduledEvent from "../../../events/scheduled-sweep.json" with { type: "json" };
import { admissionFromEnv } from "../../aws/admission-settings.js";
import { createClients } from "../../aws/clients.js";
import { memoryPublisher } from "../../aws/events.js";
import { type ReconcileSummary, reconcile, silentLogger } from "../../aws/reconcile.js";
import { SEVERITIES } from "../../core/trust/findings.js";
import { renderTable } from "../tables.js";
import { terminalSafe } from "../terminal.js";
import { formatFlow, runFlow } from "./replay.js";

/** The readable form of a reconcile summary: changes, findings, counts. */
export function formatSummary(summary: ReconcileSummary, title: string): string {
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
    `clusters ${summary.clusters} · created ${summary.created} · updated ${summary.updated} · deleted ${summary.deleted} · unchanged ${summary.unchanged} · failed ${summary.failed} · conflicts ${summary.conflicts}${summary.breakerTripped ? " · DELETION BREAKER TRIPPED" : ""}`,
  );
  return `${lines.join("\n")}\n`;
}

/** `podid plan` and `podid sweep`: the reconciler from a workstation, against whatever AWS the SDK points at. */
export function registerReconcile(program: Command, setExit: (code: number) => void): void {
  program
    .command("plan")
    .description("desired vs actual for the account the SDK points at (exit 2 when there is drift)")
    .option("--json", "machine-readable output")
    .option("--cluster <name...>", "only these clusters")
    .action(async (opts: { json?: boolean; cluster?: string[] }) => {
      const summary = await reconcile(
        {
          clients: createClients({ endpointOverrides: true }),
          publisher: memoryPublisher(),
          logger: silentLogger,
        },
        {
          scope: opts.cluster ? { kind: "clusters", names: opts.cluster } : { kind: "all" },
          dryRun: true,
          admission: admissionFromEnv(),
        },
      );
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
        const summary = await reconcile(
          {
            clients: createClients({ endpointOverrides: true }),
            publisher: memoryPublisher(),
            logger: silentLogger,
          },
          { scope: { kind: "all" }, dryRun: true, admission: admissionFromEnv() },
        );
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
