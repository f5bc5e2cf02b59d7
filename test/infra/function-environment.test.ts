import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { reconcilerEnvSchema } from "../../functions/aws/runtime.js";
import { workEnvSchema } from "../../functions/aws/work-runtime.js";
import { migrationEnvSchema } from "../../functions/migration/deps.js";
import { synthTemplates, type Template } from "../support/synth.js";

/**
 * Each function's own environment schema, by the folder name of its logical id. A function the
 * stack adds without a schema here fails the test: register its schema when you add it.
 */
const WORK = reconcilerEnvSchema.extend(workEnvSchema.shape);
const SCHEMAS: Record<string, z.ZodObject> = {
  ClusterEvent: WORK,
  IamEvent: WORK,
  Sweeper: WORK,
  ReconcileWorker: WORK,
  Migration: migrationEnvSchema,
};
/** Variables a function's schema knows but that function does not use (only cluster-event starts the wait loop). */
const NOT_USED: Record<string, string[]> = {
  IamEvent: ["WAIT_STATE_MACHINE_ARN"],
  Sweeper: ["WAIT_STATE_MACHINE_ARN"],
  ReconcileWorker: ["WAIT_STATE_MACHINE_ARN"],
};

/** CloudFormation intrinsics become placeholder text of the shape they resolve to. */
function resolve(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const node = value as Record<string, unknown>;
    if ("Fn::Join" in node) {
      const [sep, parts] = node["Fn::Join"] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
    if ("Ref" in node) {
      const ref = String(node.Ref);
      if (ref === "AWS::Partition") return "aws";
      if (ref === "AWS::Region") return "us-east-1";
      if (ref === "AWS::AccountId") return "123456789012";
      return `resolved-${ref}`;
    }
    if ("Fn::GetAtt" in node) return `resolved-${(node["Fn::GetAtt"] as string[]).join("-")}`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

let functions: { id: string; kind: string; env: Record<string, string> }[];

beforeAll(() => {
  const template: Template = synthTemplates()["PodIdentityAutopilot-us-east-1"]!;
  functions = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === "AWS::Lambda::Function")
    .flatMap(([id, r]) => {
      const kind = /^([A-Z][A-Za-z]+?)Function/.exec(id)?.[1];
      // CDK's own helpers (log retention, custom resources) are not product functions
      if (!kind || id.startsWith("LogRetention") || id.startsWith("AWS") || id.startsWith("Custom"))
        return [];
      const vars = (r.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
      return [{ id, kind, env: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v)])) }];
    });
}, 120_000);

describe("every environment variable a function reads is set by the stack", () => {
  it("finds the product's functions, each with a registered schema", () => {
    expect(functions.map((f) => f.kind).sort()).toEqual(
      expect.arrayContaining(["ClusterEvent", "IamEvent", "Migration", "Sweeper"]),
    );
    for (const f of functions)
      expect(SCHEMAS[f.kind], `no environment schema registered for ${f.id}`).toBeDefined();
  });

  it("parses each synthesized Environment with that function's own schema, with every key set (no silent default)", () => {
    for (const f of functions) {
      const schema = SCHEMAS[f.kind]!;
      const parsed = schema.safeParse(f.env);
      expect(parsed.success, `${f.id}: ${parsed.success ? "" : parsed.error.message}`).toBe(true);
      const missing = Object.keys(schema.shape).filter(
        (k) => !(k in f.env) && !(NOT_USED[f.kind] ?? []).includes(k),
      );
      expect(missing, `${f.id} reads variables the stack does not set`).toEqual([]);
    }
  });
});

describe("the migration state machines", () => {
  it("time out only after the longest approval plus the longest soak; a run always passes approval before changing anything", async () => {
    const { migrationDefinitions } = await import("../../infra/definitions.js");
    const { MAX_SOAK_SECONDS } = await import("../../functions/core/migration/input.js");
    const run = migrationDefinitions().run as {
      TimeoutSeconds: number;
      States: Record<
        string,
        { TimeoutSeconds?: number; Next?: string; Choices?: { Next: string }[]; Default?: string }
      >;
    };
    const approval = run.States.WaitForApproval!;
    expect(run.TimeoutSeconds).toBeGreaterThan((approval.TimeoutSeconds ?? 0) + MAX_SOAK_SECONDS);
    // the only ways into the first change are through the approval gate
    const into = Object.entries(run.States).filter(
      ([, s]) =>
        s.Next === "AddPodIdentityTrust" ||
        s.Default === "AddPodIdentityTrust" ||
        s.Choices?.some((c) => c.Next === "AddPodIdentityTrust"),
    );
    expect(into.map(([name]) => name)).toEqual(["WaitForApproval"]);
  });
});
