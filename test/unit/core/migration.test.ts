import { describe, expect, it } from "vitest";
import { discover } from "../../../functions/core/migration/discover.js";
import { parseMigrationInput } from "../../../functions/core/migration/input.js";
import { preflight } from "../../../functions/core/migration/preflight.js";
import { podIdentitySupport } from "../../../functions/core/support.js";
import { ISSUER_HOST, irsaStatement, OTHER_HOST, podsStatement, policy } from "../../support/policies.js";

const ACCOUNT = "111122223333";
const role = (name: string, trust: string) => ({
  name,
  arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
  trustPolicy: trust,
});

describe("parseMigrationInput", () => {
  it("fills defaults", () => {
    expect(parseMigrationInput({ clusterName: "prod" })).toEqual({
      ok: true,
      request: {
        clusterName: "prod",
        dryRun: false,
        soakSeconds: 300,
        maxConcurrency: 4,
      },
    });
  });

  it.each([
    [{}],
    [{ clusterName: "prod", serviceAccounts: ["no-slash"] }],
    [{ clusterName: "prod", approval: "none" }],
    [{ clusterName: "prod", removeIrsaTrust: true }],
    [{ clusterName: "prod", soakSeconds: -1 }],
    [{ clusterName: "prod", maxConcurrency: 0 }],
    [{ clusterName: "prod", unexpected: true }],
    ["prod"],
  ])("refuses %j with a readable error", (input) => {
    const parsed = parseMigrationInput(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.length).toBeGreaterThan(5);
  });
});

describe("discover", () => {
  it("finds subs of this cluster's provider only, marks add-on roles, reports wildcards and unknown requests", () => {
    const found = discover({
      accountId: ACCOUNT,
      issuer: `https://${ISSUER_HOST}`,
      roles: [
        role(
          "app",
          policy(irsaStatement(["system:serviceaccount:web:api", "system:serviceaccount:web:worker"])),
        ),
        role("other-cluster", policy(irsaStatement("system:serviceaccount:web:api", { host: OTHER_HOST }))),
        role("ebs", policy(irsaStatement("system:serviceaccount:kube-system:ebs-csi-controller-sa"))),
        role("batch", policy(irsaStatement("system:serviceaccount:batch:*", { operator: "StringLike" }))),
        role("pods-only", policy(podsStatement())),
        role("broken", "{"),
      ],
      addons: [
        {
          name: "aws-ebs-csi-driver",
          version: "v1.40.0-eksbuild.1",
          serviceAccountRoleArn: `arn:aws:iam::${ACCOUNT}:role/ebs`,
          podIdentityServiceAccounts: ["ebs-csi-controller-sa"],
        },
      ],
    });
    expect(found.items.map((i) => [`${i.namespace}/${i.serviceAccount}`, i.roleName, i.kind])).toEqual([
      ["kube-system/ebs-csi-controller-sa", "ebs", "addon"],
      ["web/api", "app", "service-account"],
      ["web/worker", "app", "service-account"],
    ]);
    expect(found.wildcards).toEqual([
      { roleName: "batch", pattern: "system:serviceaccount:batch:*", matchedRequested: [] },
    ]);
  });

  it("limits to requested service accounts and resolves wildcards with them", () => {
    const found = discover({
      accountId: ACCOUNT,
      issuer: `https://${ISSUER_HOST}`,
      roles: [
        role("batch", policy(irsaStatement("system:serviceaccount:batch:*", { operator: "StringLike" }))),
      ],
      addons: [],
      requested: ["batch/nightly", "web/missing"],
    });
    expect(found.items.map((i) => `${i.namespace}/${i.serviceAccount}`)).toEqual(["batch/nightly"]);
    expect(found.notFound).toEqual(["web/missing"]);
  });
});

describe("preflight", () => {
  const base = {
    runTag: "abc123",
    cluster: {
      name: "prod",
      arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`,
      status: "ACTIVE",
      version: "1.31",
      platformVersion: "eks.5",
      accountId: ACCOUNT,
    },
    agentPresent: true,
    fargateProfiles: [],
    associations: [],
    providerArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}`,
  };
  const item = (ns: string, sa: string, roleName = "app") => ({
    namespace: ns,
    serviceAccount: sa,
    roleName,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    kind: "service-account" as const,
  });

  it("plans one edit per role with the size before and after", () => {
    const result = preflight({
      ...base,
      items: [item("web", "a"), item("web", "b")],
      trustByRole: {
        app: policy(irsaStatement(["system:serviceaccount:web:a", "system:serviceaccount:web:b"])),
      },
    });
    expect(result.ready).toHaveLength(2);
    expect(result.roleEdits).toEqual([
      expect.objectContaining({
        roleName: "app",
        subjects: ["system:serviceaccount:web:a", "system:serviceaccount:web:b"],
      }),
    ]);
    expect(result.roleEdits[0]!.sizeAfterAdd).toBeGreaterThan(result.roleEdits[0]!.sizeBefore);
  });

  it.each([
    ["a cluster that is not ACTIVE", { cluster: { ...base.cluster, status: "UPDATING" } }, /not ACTIVE/],
    [
      "a platform version below the minimum",
      { cluster: { ...base.cluster, version: "1.28", platformVersion: "eks.3" } },
      /eks\.4/,
    ],
    [
      "an association with another role",
      {
        associations: [
          { namespace: "web", serviceAccount: "a", roleArn: "arn:aws:iam::111122223333:role/x" },
        ],
      },
      /another role/,
    ],
    [
      "a Fargate namespace",
      { fargateProfiles: [{ name: "fp", selectors: [{ namespace: "web" }] }] },
      /Fargate profile fp/,
    ],
    ["a trust policy that would exceed the limit", { sizeLimit: 300 }, /above the limit of 300/],
    [
      "an add-on version without Pod Identity support",
      {
        items: [
          {
            ...item("web", "a"),
            kind: "addon" as const,
            addonName: "old",
            addonVersion: "v1",
            addonSupportsPodIdentity: false,
          },
        ],
      },
      /add-on old version v1 does not support Pod Identity/,
    ],
  ])("refuses %s with the reason", (_label, override, reason) => {
    const result = preflight({
      ...base,
      items: [item("web", "a")],
      ...override,
      trustByRole: { app: policy(irsaStatement("system:serviceaccount:web:a")) },
    });
    expect(result.ready).toEqual([]);
    expect(result.refused[0]?.reasons.join(" ")).toMatch(reason);
  });

  it("refuses a role in another account and says the agent will be installed", () => {
    const foreign = { ...item("web", "a"), roleArn: "arn:aws:iam::999999999999:role/app" };
    const result = preflight({
      ...base,
      agentPresent: false,
      items: [foreign],
      trustByRole: { app: policy(irsaStatement("system:serviceaccount:web:a")) },
    });
    expect(result.refused[0]?.reasons[0]).toMatch(/not in the cluster's account/);
    expect(result.agent).toBe("install");
  });

  it("never installs the agent on an Auto Mode cluster", () => {
    const result = preflight({
      ...base,
      cluster: { ...base.cluster, autoMode: true },
      agentPresent: false,
      items: [item("web", "a")],
      trustByRole: { app: policy(irsaStatement("system:serviceaccount:web:a")) },
    });
    expect(result.agent).toBe("built-in");
  });

  it("counts an association that already uses the role as done", () => {
    const result = preflight({
      ...base,
      associations: [{ namespace: "web", serviceAccount: "a", roleArn: `arn:aws:iam::${ACCOUNT}:role/app` }],
      items: [item("web", "a")],
      trustByRole: { app: policy(irsaStatement("system:serviceaccount:web:a")) },
    });
    expect(result.ready).toEqual([expect.objectContaining({ associated: true })]);
  });
});

describe("podIdentitySupport", () => {
  it.each([
    ["1.23", "eks.20", false],
    ["1.24", "eks.12", false],
    ["1.24", "eks.13", true],
    ["1.28", "eks.4", true],
    ["1.29", "eks.1", true],
    ["1.31", "eks.3", false],
    ["1.32", "eks.1", true],
    ["2.0", "eks.1", true],
    ["latest", "eks.1", false],
  ])("%s %s → %s", (version, platform, supported) => {
    expect(podIdentitySupport(version, platform).supported).toBe(supported);
  });
});
