import { describe, expect, it } from "vitest";
import { type ClusterResult, countClusterMetrics } from "../../functions/app/reconcile-cluster.js";
import { createRuntime } from "../../functions/aws/runtime.js";
import { metricsPort } from "../../functions/aws/work-runtime.js";
import type { MigrationOutcome, PhaseOutcome } from "../../functions/migration/actions/report.js";
import { createMigrationDeps } from "../../functions/migration/deps.js";
import { alarmDimensions, captureEmf, emfMetrics } from "../support/emf.js";
import { synthTemplates } from "../support/synth.js";

/** Every run and finalize/rollback outcome report() passes to recordOutcome (MigrationOutcome, PhaseOutcome). */
const MIGRATION_OUTCOMES = [
  "succeeded",
  "dry-run",
  "nothing-to-do",
  "rejected",
  "rolled-back",
  "rollback-incomplete",
  "failed",
  "incomplete",
] as const satisfies readonly (MigrationOutcome | PhaseOutcome)[];

/**
 * What the functions' real recorders emit, as EMF: `namespace|name` to the set of sorted
 * `dimension=value` lists, for each function configured as the stack configures it.
 */
async function emittedMetrics(): Promise<Map<string, Set<string>>> {
  // a function configured as the stack configures it (service name per function)
  const emitted = new Map<string, Set<string>>();
  for (const name of ["reconcile-worker", "migration"]) {
    const rt = createRuntime({
      POWERTOOLS_SERVICE_NAME: `pod-identity-autopilot-${name}`,
      POWERTOOLS_METRICS_DISABLED: "false",
      EVENT_BUS_NAME: "bus",
      AWS_REGION: "us-east-1",
    });
    // the queue worker's recorder, as reconcile-cluster calls it after each cluster
    const result = {
      clusterName: "prod",
      created: 1,
      updated: 0,
      deleted: 0,
      held: 1,
      stale: 0,
      failed: 0,
      changes: [],
      findings: [{ code: "TRUST_REFUSED", severity: "critical", clusterName: "prod", message: "m" }],
    } as unknown as ClusterResult;
    const docs =
      name === "reconcile-worker"
        ? await captureEmf(() => {
            countClusterMetrics(metricsPort(rt.metrics), result);
            rt.metrics.publishStoredMetrics();
          })
        : [];
    if (name === "migration") {
      const sm = (n: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${n}`;
      const deps = createMigrationDeps({
        AWS_REGION: "us-east-1",
        MIGRATION_TABLE: "migrations",
        MIGRATION_STATE_MACHINE_ARN: sm("run"),
        MIGRATION_FINALIZE_STATE_MACHINE_ARN: sm("finalize"),
        MIGRATION_ROLLBACK_STATE_MACHINE_ARN: sm("rollback"),
        MIGRATION_CLUSTER_LEASE_SECONDS: "3600",
        PACING_TABLE: "limits",
        POWERTOOLS_SERVICE_NAME: "pod-identity-autopilot-migration",
      });
      // every outcome report() records: a run's MigrationOutcome and a finalize's "incomplete"
      for (const outcome of MIGRATION_OUTCOMES)
        docs.push(...(await captureEmf(() => deps.recordOutcome?.(outcome))));
    }
    for (const m of emfMetrics(docs)) {
      const key = `${m.namespace}|${m.name}`;
      emitted.set(key, (emitted.get(key) ?? new Set()).add(m.dims));
    }
  }
  return emitted;
}

describe("alarms that can fire: what the alarms read is what the functions emit", () => {
  it("every product alarm names the namespace, metric and service dimension that a function really emits (EMF)", async () => {
    // Prepare: what the functions emit
    const emitted = await emittedMetrics();
    const templates = synthTemplates();

    // Assess: each alarm on a product metric finds an emitted (namespace, name, dimensions)
    const watched = Object.values(templates).flatMap((t) =>
      Object.values(t.Resources)
        .filter(
          (r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.Namespace === "PodIdentityAutopilot",
        )
        .map((r) => ({
          key: `${r.Properties.Namespace}|${r.Properties.MetricName}`,
          dims: alarmDimensions(r.Properties.Dimensions),
        })),
    );
    expect(watched.map((w) => w.key).sort()).toEqual([
      "PodIdentityAutopilot|DeletionsHeld",
      "PodIdentityAutopilot|FindingsCritical",
      "PodIdentityAutopilot|MigrationsRollbackIncomplete",
    ]);
    for (const w of watched) expect([...(emitted.get(w.key) ?? [])]).toContain(w.dims);
  });
});

/** CloudFormation resource type of each AWS namespace a dashboard may graph. */
const RESOURCE_TYPE_OF: Record<string, string> = {
  "AWS/Lambda": "AWS::Lambda::Function",
  "AWS/States": "AWS::StepFunctions::StateMachine",
  "AWS/SQS": "AWS::SQS::Queue",
};

/**
 * A dashboard body (a `Fn::Join` of JSON text and references) as JSON, each reference rendered
 * as the text `{{Ref:LogicalId}}` or `{{GetAtt:LogicalId.Attr}}`.
 */
function dashboardBody(body: unknown): { widgets: Array<{ properties: Record<string, any> }> } {
  const join = (body as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  const parts = join ? join[1] : [body];
  const text = parts
    .map((p) => {
      if (typeof p === "string") return p;
      const o = p as { Ref?: string; "Fn::GetAtt"?: string[] };
      if (o.Ref) return `{{Ref:${o.Ref}}}`;
      if (o["Fn::GetAtt"]) return `{{GetAtt:${o["Fn::GetAtt"].join(".")}}}`;
      throw new Error(`unexpected part of a dashboard body: ${JSON.stringify(p)}`);
    })
    .join("");
  return JSON.parse(text);
}

describe("a dashboard that can show something: what the widgets graph is what exists", () => {
  it("every dashboard metric is one a function emits (product) or one of a resource of the stack (AWS)", async () => {
    // Prepare
    const emitted = await emittedMetrics();
    const templates = synthTemplates();

    // Act: every metric line of every widget of every dashboard
    const lines = Object.values(templates).flatMap((t) =>
      Object.values(t.Resources)
        .filter((r) => r.Type === "AWS::CloudWatch::Dashboard")
        .flatMap((r) => dashboardBody(r.Properties.DashboardBody).widgets)
        .flatMap((w) => (w.properties.metrics ?? []) as unknown[][])
        .map((line) => {
          const [namespace, name, ...rest] = line.filter((x) => typeof x === "string") as string[];
          const dims: [string, string][] = [];
          for (let i = 0; i + 1 < rest.length; i += 2) dims.push([rest[i]!, rest[i + 1]!]);
          return { template: t, namespace: namespace!, name: name!, dims };
        }),
    );

    // Assess
    expect(lines.filter((l) => l.namespace === "PodIdentityAutopilot").length).toBeGreaterThan(0);
    const graphed = new Set<string>();
    for (const l of lines) {
      const what = `${l.namespace}|${l.name} ${JSON.stringify(l.dims)}`;
      // no "." shorthand: each line names its namespace and metric in full
      expect(l.namespace, what).not.toBe(".");
      if (l.namespace === "PodIdentityAutopilot") {
        const dims = l.dims
          .map(([k, v]) => `${k}=${v}`)
          .sort()
          .join(",");
        expect([...(emitted.get(`${l.namespace}|${l.name}`) ?? [])], `nothing emits ${what}`).toContain(dims);
        continue;
      }
      const type = RESOURCE_TYPE_OF[l.namespace];
      expect(type, `a dashboard graphs an unknown namespace: ${what}`).toBeDefined();
      expect(l.dims.length, what).toBeGreaterThan(0);
      for (const [, value] of l.dims) {
        const id = /^\{\{(?:Ref|GetAtt):([^.}]+)/.exec(value)?.[1];
        expect(id, `${what} names no resource of the stack`).toBeDefined();
        expect(l.template.Resources[id!]?.Type, what).toBe(type);
        graphed.add(id!);
      }
    }
    // and every state machine of the stack is on the dashboard
    for (const t of Object.values(templates))
      for (const [id, r] of Object.entries(t.Resources))
        if (r.Type === "AWS::StepFunctions::StateMachine") expect([...graphed], id).toContain(id);
  });
});
