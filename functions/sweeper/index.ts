import { z } from "zod";
import { listClusterNames } from "../aws/inventory.js";
import { reconcile } from "../aws/reconcile.js";
import { compactSummary, createRuntime, type Runtime, recordReconcileMetrics } from "../aws/runtime.js";

/**
 * Inputs: the schedule's event (sweep everything in this invocation), `{action: "list-clusters"}`
 * (the names, for a Step Functions Map that fans out), or `{clusters: [...]}` (one unit of work:
 * sweep these clusters only).
 */
const listInput = z.object({ action: z.literal("list-clusters") }).strict();
const unitInput = z
  .object({ clusters: z.array(z.string().min(1).max(100)).min(1).max(500), dryRun: z.boolean().optional() })
  .strict();
const fullInput = z.union([
  z.object({ source: z.literal("aws.events"), "detail-type": z.literal("Scheduled Event") }).loose(),
  z.object({ dryRun: z.boolean().optional() }).strict(),
]);
const sweepInput = z.union([listInput, unitInput, fullInput]);

let runtime: Runtime | undefined;

/** The scheduled full reconcile; its unit of work is a list of clusters. */
export const handler = async (event: unknown) => {
  runtime ??= createRuntime();
  const rt = runtime;
  const parsed = sweepInput.safeParse(event);
  if (!parsed.success) {
    const reason = `unrecognised sweeper input: ${z.prettifyError(parsed.error).slice(0, 300)}`;
    rt.logger.warn("event rejected", { reason });
    return { status: "rejected" as const, reason };
  }
  if (listInput.safeParse(event).success) {
    return { clusters: await listClusterNames(rt.deps.clients.eks) };
  }
  const unit = unitInput.safeParse(event);
  const clusters = unit.success ? unit.data.clusters : undefined;
  const dryRun = (event as { dryRun?: unknown } | null)?.dryRun === true || rt.env.DRY_RUN;
  const summary = await reconcile(rt.deps, {
    scope: clusters ? { kind: "clusters", names: clusters } : { kind: "all" },
    dryRun,
    adoptUnmanaged: rt.env.ADOPT_UNMANAGED,
    installAgent: rt.env.INSTALL_AGENT,
    breaker: { floor: rt.env.BREAKER_FLOOR, fraction: rt.env.BREAKER_FRACTION },
  });
  recordReconcileMetrics(rt.metrics, summary);
  return { status: "reconciled" as const, summary: compactSummary(summary) };
};
