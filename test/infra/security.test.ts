import { beforeAll, describe, expect, it } from "vitest";
import { synthTemplates } from "../support/synth.js";

/**
 * Issue 13, IAM semantics the local account cannot enforce: asserted on the synthesized templates.
 * Synthesis runs cdk-nag; an unacknowledged finding fails it.
 */
let raw: Record<string, any>;
let custom: Record<string, any>;
let forwarder: Record<string, any>;

beforeAll(() => {
  const templates = synthTemplates({ regions: "us-east-1" });
  raw = templates["PodIdentityAutopilot-us-east-1"]!;
  forwarder = templates.PodIdentityAutopilotIamForwarder!;
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

describe("logs, keys and the product's own resources", () => {
  it("encrypts every log group with the logs CMK, usable only by CloudWatch Logs for this account's log groups", () => {
    const resources = raw.Resources as Record<string, any>;
    const logGroups = Object.values(resources).filter((r) => r.Type === "AWS::Logs::LogGroup");
    const logsKeyId = Object.keys(resources).find((id) => id.startsWith("SecurityHardeningLogsKey"));
    const keyPolicy = JSON.stringify(resources[logsKeyId!].Properties.KeyPolicy);

    expect(logGroups.length).toBeGreaterThanOrEqual(6);
    for (const g of logGroups) expect(JSON.stringify(g.Properties.KmsKeyId)).toContain(logsKeyId);
    expect(keyPolicy).toContain("kms:EncryptionContext:aws:logs:arn");
    expect(keyPolicy).toContain("aws:SourceAccount");
  });

  it("conditions every service principal of every key policy on aws:SourceAccount or the logs encryption context", () => {
    const keys = Object.values(raw.Resources as Record<string, any>).filter(
      (r) => r.Type === "AWS::KMS::Key",
    );
    const services = keys.flatMap((k) =>
      (k.Properties.KeyPolicy.Statement as any[]).filter((s) => s.Principal?.Service !== undefined),
    );

    expect(services.length).toBeGreaterThanOrEqual(3);
    for (const s of services)
      expect(JSON.stringify(s.Condition ?? {})).toMatch(/aws:SourceAccount|aws:SourceArn/);
  });

  it("makes every function role deny itself changes to the product's functions, roles and keys", () => {
    const resources = raw.Resources as Record<string, any>;
    const lambdaRoles = Object.entries(resources)
      .filter(
        ([, r]) =>
          r.Type === "AWS::IAM::Role" &&
          JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes("lambda.amazonaws.com"),
      )
      .map(([id]) => id);
    const denied = (roleId: string) =>
      Object.values(resources).some(
        (r) =>
          (r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy") &&
          JSON.stringify(r.Properties.Roles ?? []).includes(roleId) &&
          (r.Properties.PolicyDocument.Statement as any[]).some(
            (s) =>
              s.Effect === "Deny" &&
              s.Sid === "DenyChangesToTheProductItself" &&
              s.Action.includes("lambda:UpdateFunctionCode") &&
              s.Action.includes("iam:PutRolePolicy") &&
              s.Action.includes("kms:PutKeyPolicy"),
          ),
      );

    expect(lambdaRoles.length).toBeGreaterThanOrEqual(4);
    expect(lambdaRoles.filter((id) => !denied(id))).toEqual([]);
  });
});

describe("one key per data class", () => {
  it("encrypts the table with another key than the queues and the topic", () => {
    const resources = Object.values(raw.Resources as Record<string, any>);
    const keyOf = (v: unknown) => JSON.stringify(v).match(/"([A-Za-z0-9]*Key[0-9A-F]{8})"/)?.[1];
    const tableKeys = resources
      .filter((r) => r.Type === "AWS::DynamoDB::GlobalTable")
      .map((r) => keyOf(r.Properties.Replicas ?? r.Properties.SSESpecification));
    const queueKeys = resources
      .filter((r) => r.Type === "AWS::SQS::Queue")
      .map((r) => keyOf(r.Properties.KmsMasterKeyId));
    const topicKeys = resources
      .filter((r) => r.Type === "AWS::SNS::Topic")
      .map((r) => keyOf(r.Properties.KmsMasterKeyId));

    expect(tableKeys.length).toBeGreaterThan(0);
    for (const t of tableKeys) {
      expect(t).toBeDefined();
      expect(queueKeys.filter(Boolean)).not.toContain(t);
      expect(topicKeys.filter(Boolean)).not.toContain(t);
    }
  });
});

/** Renders CloudFormation intrinsics as text (`Fn::Join` joined, `Ref` as `<Name>`) for comparisons. */
function flat(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(flat);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if ("Fn::Join" in o) {
    const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
    return parts.map((p) => String(flat(p))).join(sep);
  }
  if ("Ref" in o) return `<${String(o.Ref)}>`;
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, flat(x)]));
}

describe("the us-east-1 IAM event forwarder", () => {
  const ruleArn =
    "arn:<AWS::Partition>:events:us-east-1:<AWS::AccountId>:rule/pod-identity-autopilot-iam-forwarder";
  const fromTheRule = {
    StringEquals: { "aws:SourceAccount": "<AWS::AccountId>" },
    ArnEquals: { "aws:SourceArn": ruleArn },
  };
  const ofType = (type: string) =>
    Object.entries(forwarder.Resources as Record<string, any>).filter(([, r]) => r.Type === type);

  it("names its rule, so that conditions on aws:SourceArn match it", () => {
    const rules = ofType("AWS::Events::Rule");

    expect(rules.map(([, r]) => r.Properties.Name)).toEqual(["pod-identity-autopilot-iam-forwarder"]);
  });

  it("keeps its dead letters under a CMK of its own, not SQS-managed keys", () => {
    const queues = ofType("AWS::SQS::Queue");
    const keyIds = ofType("AWS::KMS::Key").map(([id]) => id);

    expect(queues.length).toBeGreaterThan(0);
    for (const [, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled).toBeUndefined();
      expect(keyIds).toContain(q.Properties.KmsMasterKeyId?.["Fn::GetAtt"]?.[0]);
    }
  });

  it("lets only EventBridge, for this rule of this account, use the dead-letter key", () => {
    const keys = ofType("AWS::KMS::Key");
    const services = keys.flatMap(([, k]) =>
      (k.Properties.KeyPolicy.Statement as any[]).filter((s) => s.Principal?.Service !== undefined),
    );

    expect(keys.length).toBeGreaterThan(0);
    expect(services.map((s) => flat(s))).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Condition: fromTheRule,
      }),
    ]);
  });

  it("lets EventBridge send to the dead-letter queue only from this rule", () => {
    const [ruleId] = ofType("AWS::Events::Rule").map(([id]) => id);
    const sends = ofType("AWS::SQS::QueuePolicy").flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as any[]).filter((s) => s.Effect === "Allow"),
    );

    expect(sends.length).toBeGreaterThan(0);
    for (const s of sends) {
      expect(s.Principal).toEqual({ Service: "events.amazonaws.com" });
      expect(s.Condition).toEqual({ ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } });
    }
  });

  it("lets EventBridge assume the forwarding role only for this rule of this account", () => {
    const roles = ofType("AWS::IAM::Role").filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes("events.amazonaws.com"),
    );
    const targetRoles = ofType("AWS::Events::Rule").flatMap(([, r]) =>
      (r.Properties.Targets as any[]).map((t) => t.RoleArn?.["Fn::GetAtt"]?.[0]),
    );

    expect(roles.length).toBeGreaterThan(0);
    for (const [, r] of roles) {
      for (const s of r.Properties.AssumeRolePolicyDocument.Statement as any[])
        expect(flat(s.Condition)).toEqual(fromTheRule);
    }
    expect(new Set(targetRoles)).toEqual(new Set(roles.map(([id]) => id)));
  });
});
