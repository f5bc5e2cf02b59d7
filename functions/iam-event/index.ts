import { refreshTemplate } from "../app/refresh-template.js";
import { createWorkRuntime, type WorkRuntime } from "../aws/work-runtime.js";
import { parseIamEvent } from "../core/cloudtrail.js";
import { errorMessage } from "../core/errors.js";

let runtime: WorkRuntime | undefined;

/**
 * IAM CloudTrail events (CreateRole, TagRole, UntagRole, UpdateAssumeRolePolicy, DeleteRole),
 * forwarded from us-east-1: re-reads that role from IAM (never from the event), refreshes it in the
 * template index, lints its trust, and enqueues the clusters it selected before or selects now.
 * Invalid, failed-call and foreign events are rejected with a logged reason.
 */
export const handler = async (event: unknown) => {
  runtime ??= createWorkRuntime();
  const rt = runtime;
  const parsed = parseIamEvent(event);
  if (!parsed.ok) {
    rt.base.logger.warn("event rejected", { reason: parsed.reason });
    return { status: "rejected" as const, reason: parsed.reason };
  }
  const { roleName } = parsed;
  rt.base.logger.appendKeys({ roleName });
  try {
    const settings = await rt.settings();
    const result = await refreshTemplate(rt.deps, settings.accountId, roleName, settings.admission);
    return { status: "enqueued" as const, eventName: parsed.eventName, ...result };
  } catch (error) {
    rt.base.logger.error("iam event failed", { error: errorMessage(error) });
    throw error;
  } finally {
    rt.base.logger.removeKeys(["roleName"]);
    rt.base.metrics.publishStoredMetrics();
  }
};
