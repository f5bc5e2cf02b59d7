import { z } from "zod";
import { enqueueSweep } from "../app/enqueue-sweep.js";
import { createWorkRuntime, type WorkRuntime } from "../aws/work-runtime.js";

/** The schedule's event (botocore-free: EventBridge "Scheduled Event" records), or `{}` by hand. */
const sweepInput = z.union([
  z.object({ source: z.literal("aws.events"), "detail-type": z.literal("Scheduled Event") }).loose(),
  z.object({}).strict(),
]);

let runtime: WorkRuntime | undefined;

/**
 * The scheduled sweep: rebuilds the template index from IAM and enqueues every cluster. It takes
 * nothing from its payload: no roles, no limits, no cluster list.
 */
export const handler = async (event: unknown) => {
  runtime ??= createWorkRuntime();
  const rt = runtime;
  const parsed = sweepInput.safeParse(event);
  if (!parsed.success) {
    const reason = `unrecognised sweeper input: ${z.prettifyError(parsed.error).slice(0, 300)}`;
    rt.base.logger.warn("event rejected", { reason });
    return { status: "rejected" as const, reason };
  }
  try {
    const settings = await rt.settings();
    const started = await enqueueSweep(rt.deps, settings.accountId, settings.admission);
    return { status: "enqueued" as const, ...started };
  } finally {
    rt.base.metrics.publishStoredMetrics();
  }
};
