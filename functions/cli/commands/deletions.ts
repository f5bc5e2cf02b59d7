import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Command } from "commander";
import type { HeldDeletion } from "../../app/ports.js";
import { DynamoDeletionBudget } from "../../aws/deletion-budget.js";
import { workEnvironment } from "../local-flow.js";
import { UsageError } from "../podid.js";
import { renderTable } from "../tables.js";
import { runFlow } from "./replay.js";

function budget(): DynamoDeletionBudget {
  workEnvironment();
  const table = process.env.DELETION_BUDGET_TABLE;
  if (!table) throw new UsageError("DELETION_BUDGET_TABLE is not set");
  return new DynamoDeletionBudget(new DynamoDBClient({}), table, { floor: 0, fraction: 0 });
}

function format(items: HeldDeletion[]): string {
  if (items.length === 0) return "No deletions held.\n";
  return `${renderTable(
    ["id", "namespace/serviceaccount", "role", "source", "status", "held at", "why"],
    items.map((h) => [
      h.id,
      `${h.namespace}/${h.serviceAccount}`,
      h.roleArn.replace(/^arn:aws[a-z-]*:iam::\d{12}:role\//, ""),
      h.source ?? "",
      h.status,
      h.heldAt,
      h.reason,
    ]),
  )}\n`;
}

/**
 * `podid deletions list|approve ID|reject ID [--json]`: deletions the account-wide budget held.
 * approve lets the worker delete it (without drawing on the budget); reject keeps the association.
 * Either decision enqueues the cluster and, against a local account, drains the queue.
 */
export function registerDeletions(program: Command, setExit: (code: number) => void): void {
  const cmd = program.command("deletions").description("deletions held by the account-wide deletion budget");
  cmd
    .command("list")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const items = await budget().held();
      process.stdout.write(opts.json ? `${JSON.stringify({ held: items })}\n` : format(items));
      setExit(0);
    });
  for (const decision of ["approve", "reject"] as const) {
    cmd
      .command(decision)
      .argument("<id>", "the held deletion's id (<cluster>/<associationId>), or `all`")
      .option("--json", "machine-readable output")
      .action(async (id: string, opts: { json?: boolean }) => {
        const b = budget();
        const ids =
          id === "all" ? (await b.held()).filter((h) => h.status === "held").map((h) => h.id) : [id];
        const decided: HeldDeletion[] = [];
        for (const one of ids) {
          const d = await b.decide(one, decision === "approve" ? "approved" : "rejected");
          if (d) decided.push(d);
        }
        if (decided.length === 0) {
          process.stderr.write(`podid: no held deletion ${id}\n`);
          setExit(1);
          return;
        }
        // the worker acts on the decision: enqueue the clusters, and drain when the queue is local
        const clusters = [...new Set(decided.map((d) => d.clusterName))];
        const report = await runFlow(
          [],
          clusters.map((clusterName) => ({ clusterName, trigger: "operator" as const })),
        );
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ decided, changes: report.changes })}\n`
            : `${format(decided)}${report.changes.deleted.length} association(s) deleted\n`,
        );
        setExit(report.handled ? 0 : 1);
      });
  }
}
