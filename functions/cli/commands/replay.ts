import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { WorkItem } from "../../app/ports.js";
import {
  associationMap,
  type Delivery,
  deliver,
  difference,
  drain,
  enqueue,
  workEnvironment,
} from "../local-flow.js";
import { UsageError } from "../podid.js";
import { renderTable } from "../tables.js";

/** The outcome of a replay or a sweep: deliveries, the drain, and what changed. */
export interface FlowReport {
  deliveries: Delivery[];
  drain: Awaited<ReturnType<typeof drain>>;
  changes: ReturnType<typeof difference>;
  handled: boolean;
}

/** Delivers events concurrently, drains the queue, and reports; handled when nothing failed. */
export async function runFlow(
  events: { file?: string; event: unknown }[],
  direct: WorkItem[] = [],
): Promise<FlowReport> {
  workEnvironment();
  const before = await associationMap();
  const deliveries = await deliver(events);
  if (direct.length > 0) await enqueue(direct);
  const drained = await drain();
  const changes = difference(before, await associationMap());
  const handled =
    deliveries.every((d) => d.handled) &&
    drained.failedItems === 0 &&
    drained.failedInvocations === 0 &&
    drained.deadLettered === 0;
  return { deliveries, drain: drained, changes, handled };
}

/** The readable report. */
export function formatFlow(report: FlowReport): string {
  const lines = [
    renderTable(
      ["event", "function", "status", "detail"],
      report.deliveries.map((d) => [d.file ?? "-", d.function ?? "-", d.status, d.detail ?? ""]),
    ),
    `queue: ${report.drain.messages} work item(s) for ${report.drain.clusters.length} cluster(s) in ${report.drain.invocations} worker invocation(s); failed items ${report.drain.failedItems}; in DLQ ${report.drain.deadLettered}`,
    `associations: ${report.changes.created.length} created, ${report.changes.updated.length} updated, ${report.changes.deleted.length} deleted`,
  ];
  for (const [kind, list] of Object.entries(report.changes))
    for (const k of list as string[]) lines.push(`  ${kind} ${k}`);
  lines.push(report.handled ? "all handled" : "NOT all handled");
  return `${lines.join("\n")}\n`;
}

/** `podid replay FILE… [--json]`: EventBridge event files through the functions and the queue. */
export function registerReplay(program: Command, setExit: (code: number) => void): void {
  program
    .command("replay")
    .description("deliver EventBridge event files to their functions at once, then drain the work queue")
    .argument("<files...>", "EventBridge event JSON files")
    .option("--json", "machine-readable output")
    .action(async (files: string[], opts: { json?: boolean }) => {
      const events = files.map((file) => {
        try {
          return { file, event: JSON.parse(readFileSync(file, "utf8")) as unknown };
        } catch (error) {
          throw new UsageError(
            `cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      });
      const report = await runFlow(events);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatFlow(report));
      setExit(report.handled ? 0 : 1);
    });
}
