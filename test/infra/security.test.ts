import { beforeAll, describe, expect, it } from "vitest";
import { synthTemplates } from "../support/synth.js";

/**
 * Issue 13, IAM semantics the local account cannot enforce: asserted on the synthesized templates.
 * Synthesis runs cdk-nag; an unacknowledged finding fails it.
 */
let raw: Record<string, any>;
let custom: Record<string, any>;

beforeAll(() => {
  raw = synthTemplates({ regions: "us-east-1" })["PodIdentityAutopilot-us-east-1"]!;
  custom = synthTemplates({
    regions: "us-east-1",
    templatePath: "/team-templates/",
    templateBoundaryArn: "arn:aws:iam::123456789012:policy/template-boundary",
    clusterTagPrefix: "platform/",
    catalogEntries: "external-dns cert-manager",
    catalogOverrides: JSON.stringify({ "cert-manager": ["certs/acme"] }),
  })["PodIdentityAutopilot-us-east-1"]!;
}, 180_000);

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => JSON.stringify(s.Resource);

function statements(template: Record<string, any>): Statement[] {
  return Object.values(template.Resources as Record<string, any>)
    .filter((r) => r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy")
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}

function functionEnvs(template: Record<string, any>): Record<string, string>[] {
  return Object.values(template.Resources as Record<string, any>)
    .filter((r) => r.Type === "AWS::Lambda::Function")
    .map((r) => (r.Properties.Environment?.Variables ?? {}) as Record<string, string>);
}

describe("template authority in IAM", () => {
  it("lets the reconcilers pass only roles under the template path and the catalog path", () => {
    const reconcilerPassRole = statements(raw).filter(
      (s) => actions(s).includes("iam:PassRole") && s.Sid === "PassTemplateAndCatalogRolesToPodIdentity",
    );

    expect(reconcilerPassRole.length).toBeGreaterThan(0);
    for (const s of reconcilerPassRole) {
      expect(resourcesOf(s)).toContain(":role/pod-identity-templates/*");
      expect(resourcesOf(s)).toContain(":role/pod-identity/*");
      expect(resourcesOf(s)).not.toMatch(/:role\/\*"/);
      expect(s.Condition).toEqual({ StringEquals: { "iam:PassedToService": "pods.eks.amazonaws.com" } });
    }
  });

  it("follows a configured template path", () => {
    const passRole = statements(custom).filter((s) => s.Sid === "PassTemplateAndCatalogRolesToPodIdentity");

    expect(passRole.length).toBeGreaterThan(0);
    for (const s of passRole) expect(resourcesOf(s)).toContain(":role/team-templates/*");
  });

  it("has no reconciler statement that passes every role", () => {
    const reconcilerPassAll = statements(raw).filter(
      (s) =>
        actions(s).includes("iam:PassRole") &&
        s.Sid !== "PassRolesToPodIdentity" && // the migration's, scoped by the migration work (issue 11)
        /:role\/\*"/.test(resourcesOf(s)),
    );

    expect(reconcilerPassAll).toEqual([]);
  });

  it("gives every function the admission settings, and the configured ones when set", () => {
    const defaults = functionEnvs(raw).filter((e) => e.TEMPLATE_PATH !== undefined);
    const configured = functionEnvs(custom).filter((e) => e.TEMPLATE_PATH !== undefined);

    expect(defaults.length).toBeGreaterThanOrEqual(3);
    expect(defaults[0]).toMatchObject({
      TEMPLATE_PATH: "/pod-identity-templates/",
      CLUSTER_TAG_PREFIX: "pod-identity-scope/",
    });
    expect(configured[0]).toMatchObject({
      TEMPLATE_PATH: "/team-templates/",
      TEMPLATE_BOUNDARY_ARN: "arn:aws:iam::123456789012:policy/template-boundary",
      CLUSTER_TAG_PREFIX: "platform/",
      CATALOG_ENTRIES: "external-dns cert-manager",
      CATALOG_OVERRIDES: JSON.stringify({ "cert-manager": ["certs/acme"] }),
    });
  });
});

describe("endpoint overrides", () => {
  it("no deployed function gets PODID_LOCAL or an AWS_ENDPOINT_URL setting", () => {
    const envs = [...functionEnvs(raw), ...functionEnvs(custom)];

    expect(envs.length).toBeGreaterThan(0);
    for (const env of envs) {
      expect(Object.keys(env).filter((k) => k === "PODID_LOCAL" || k.startsWith("AWS_ENDPOINT_URL"))).toEqual(
        [],
      );
    }
  });
});
