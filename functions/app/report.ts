import type { PlannedChange } from "../core/plan.js";

/** One change as a use case reports it. */
export interface ChangeReport {
  kind: PlannedChange["kind"];
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  source?: string;
  detail: string;
  /** planned: dry run; held: waits for an operator (deletion budget); stale: re-planned, not applied */
  status: "done" | "converged" | "failed" | "planned" | "held" | "stale" | "rejected";
  associationId?: string;
  error?: string;
}

/** The report line of a planned change and its outcome. */
export function changeReport(
  change: PlannedChange,
  status: ChangeReport["status"],
  extra: { associationId?: string; error?: string } = {},
): ChangeReport {
  const subject = change.kind === "delete" ? change.actual : change.desired;
  const detail =
    change.kind === "create"
      ? "missing"
      : change.kind === "update"
        ? `${change.changes.join(", ")} differ${change.adopt ? " (adopting)" : ""}`
        : change.reason;
  return {
    kind: change.kind,
    clusterName: subject.clusterName,
    namespace: subject.namespace,
    serviceAccount: subject.serviceAccount,
    roleArn: change.kind === "delete" ? change.actual.roleArn : change.desired.roleArn,
    ...(change.kind !== "delete" ? { source: change.desired.source } : {}),
    ...(change.kind === "delete" && change.actual.tags["pod-identity/source"]
      ? { source: change.actual.tags["pod-identity/source"] }
      : {}),
    detail,
    status,
    ...(extra.associationId ? { associationId: extra.associationId } : {}),
    ...(extra.error ? { error: extra.error } : {}),
  };
}
