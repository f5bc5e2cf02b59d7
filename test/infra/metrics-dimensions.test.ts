import { afterEach, describe, expect, it, vi } from "vitest";
import type { ReconcileSummary } from "../../functions/aws/reconcile.js";
import { createRuntime, recordReconcileMetrics } from "../../functions/aws/runtime.js";
import { metricsPort } from "../../functions/aws/work-runtime.js";
import { createMigrationDeps } from "../../functions/migration/deps.js";
import { synthTemplates } from "../support/synth.js";

/** The EMF documents a runtime's metrics object prints when it publishes. */
function emfOf(publish: () => void): Array<Record<string, any>> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const log = vi
    .spyOn(console, "log")
    .mockImplementation((...args: unknown[]) => void lines.push(args.join(" ")));
  try {
    publish();
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  return lines
    .flatMap((l) => l.split("\n"))
    .filter((l) => l.includes("_aws"))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

afterEach(() => vi.restoreAllMocks());

describe("alarms that can fire: what the alarms read is what the functions emit", () => {
  it("every product alarm names the namespace, metric and service dimension that a function really emits (EMF)", () => {
    // Prepare: a function configured as the stack configures it (service name per function)
    const emitted = new Map<string, Set<string>>();
    for (const name of ["cluster-event", "iam-event", "sweeper"]) {
      const rt = createRuntime({
        POWERTOOLS_SERVICE_NAME: `pod-identity-autopilot-${name}`,
        POWERTOOLS_METRICS_DISABLED: "false",
        EVENT_BUS_NAME: "bus",
        AWS_REGION: "us-east-1",
      });
      // Act: the reconciler's own recorder, as each handler calls it after a run
      const summary = {
        created: 1,
        updated: 0,
        deleted: 0,
        changes: [],
        failed: 0,
        conflicts: 0,
        breakerTripped: true,
        findingsBySeverity: { critical: 1, error: 0, warning: 0, info: 0 },
      } as unknown as ReconcileSummary;
      const docs = emfOf(() => recordReconcileMetrics(rt.metrics, summary));
      // the queue worker's port, as reconcile-cluster counts held deletions
      docs.push(
        ...emfOf(() => {
          metricsPort(rt.metrics).count("DeletionsHeld", 1);
          rt.metrics.publishStoredMetrics();
        }),
      );
      if (name === "sweeper") {
        const sm = (n: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${n}`;
        const deps = createMigrationDeps({
          AWS_REGION: "us-east-1",
          MIGRATION_TABLE: "migrations",
          MIGRATION_STATE_MACHINE_ARN: sm("run"),
          MIGRATION_FINALIZE_STATE_MACHINE_ARN: sm("finalize"),
          MIGRATION_ROLLBACK_STATE_MACHINE_ARN: sm("rollback"),
          MIGRATION_CLUSTER_LEASE_SECONDS: "3600",
          POWERTOOLS_SERVICE_NAME: "pod-identity-autopilot-migration",
        });
        docs.push(...emfOf(() => deps.recordOutcome?.("rollback-incomplete")));
      }
      for (const doc of docs) {
        for (const directive of doc._aws.CloudWatchMetrics) {
          for (const m of directive.Metrics) {
            const dims = directive.Dimensions.flat()
              .map((d: string) => `${d}=${doc[d]}`)
              .sort()
              .join(",");
            const key = `${directive.Namespace}|${m.Name}`;
            emitted.set(key, (emitted.get(key) ?? new Set()).add(dims));
          }
        }
      }
    }
    const templates = synthTemplates();

    // Assess: each alarm on a product metric finds an emitted (namespace, name, dimensions)
    const watched = Object.values(templates).flatMap((t) =>
      Object.values(t.Resources)
        .filter(
          (r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.Namespace === "PodIdentityAutopilot",
        )
        .map((r) => ({
          key: `${r.Properties.Namespace}|${r.Properties.MetricName}`,
          dims: (r.Properties.Dimensions as { Name: string; Value: string }[])
            .map((d) => `${d.Name}=${d.Value}`)
            .sort()
            .join(","),
        })),
    );
    expect(watched.map((w) => w.key).sort()).toEqual([
      "PodIdentityAutopilot|BreakerTrips",
      "PodIdentityAutopilot|DeletionsHeld",
      "PodIdentityAutopilot|FindingsCritical",
      "PodIdentityAutopilot|MigrationsRollbackIncomplete",
    ]);
    for (const w of watched) expect([...(emitted.get(w.key) ?? [])]).toContain(w.dims);
  });
});
