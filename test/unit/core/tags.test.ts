import { describe, expect, it } from "vitest";
import { DEFAULT_ADMISSION } from "../../../functions/core/admission.js";
import { CATALOG_NAMES } from "../../../functions/core/catalog.js";
import { parseClusterSettings, parseTemplate, selectsCluster } from "../../../functions/core/tags.js";
import { role, template } from "../../support/fleet.js";

describe("parseTemplate", () => {
  it("reads bind, bind-2…bind-9, clusters, session-tags and target-role", () => {
    const r = role("app", {
      "pod-identity/bind": "orders/api orders/worker",
      "pod-identity/bind-2": "billing/api",
      "pod-identity/clusters": "name:prod prefix:eu- tag:pod-identity-scope/env=prod all",
      "pod-identity/session-tags": "disabled",
      "pod-identity/target-role": "arn:aws:iam::210987654321:role/data",
    });

    const { template: t, findings } = parseTemplate(r);

    expect(findings).toEqual([]);
    expect(t).toEqual({
      roleName: "app",
      roleArn: r.arn,
      bindings: [
        { namespace: "orders", serviceAccount: "api" },
        { namespace: "orders", serviceAccount: "worker" },
        { namespace: "billing", serviceAccount: "api" },
      ],
      selectors: [
        { kind: "name", name: "prod" },
        { kind: "prefix", prefix: "eu-" },
        { kind: "tag", key: "pod-identity-scope/env", value: "prod" },
        { kind: "all" },
      ],
      disableSessionTags: true,
      targetRoleArn: "arn:aws:iam::210987654321:role/data",
    });
  });

  it("is not a template without a bind tag", () => {
    expect(parseTemplate(role("plain", { team: "a" }))).toEqual({ findings: [] });
    expect(parseTemplate(role("half", { "pod-identity/clusters": "all" })).findings[0]?.code).toBe(
      "TEMPLATE_INCOMPLETE",
    );
  });

  it.each([
    ["a namespace that is not a DNS-1123 label", { "pod-identity/bind": "Orders/api" }, "pod-identity/bind"],
    ["a binding without a slash", { "pod-identity/bind": "orders-api" }, "pod-identity/bind"],
    [
      "a service account that is not a DNS-1123 subdomain",
      { "pod-identity/bind": "orders/-api" },
      "pod-identity/bind",
    ],
    [
      "a missing clusters tag",
      { "pod-identity/bind": "orders/api", "pod-identity/clusters": undefined },
      "pod-identity/clusters",
    ],
    ["an unknown selector", { "pod-identity/clusters": "region:eu" }, "pod-identity/clusters"],
    ["a bad session-tags value", { "pod-identity/session-tags": "off" }, "pod-identity/session-tags"],
    [
      "a target role that is not a role ARN",
      { "pod-identity/target-role": "data-role" },
      "pod-identity/target-role",
    ],
    ["a wildcard (not a valid tag character)", { "pod-identity/bind": "orders/*" }, "pod-identity/bind"],
    ["an arn: term that is no cluster ARN", { "pod-identity/clusters": "arn:prod" }, "pod-identity/clusters"],
  ])("skips and freezes the whole template for %s, naming the tag", (_label, tags, tag) => {
    const base = { "pod-identity/bind": "orders/api billing/api", "pod-identity/clusters": "all" };
    const merged = Object.fromEntries(
      Object.entries({ ...base, ...tags }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;

    const { template: t, findings, frozen } = parseTemplate(role("app", merged));

    expect(t).toBeUndefined();
    expect(frozen).toBe(true);
    expect(
      findings.some((f) => f.code === "TEMPLATE_INVALID" && f.message.includes(tag) && f.roleName === "app"),
    ).toBe(true);
  });

  it.each([
    ["Enabled", false],
    ["DISABLED", true],
    [" disabled ", true],
  ])("reads session-tags=%j case-insensitively", (value, disabled) => {
    const { template: t, findings } = parseTemplate(
      template("app", "orders/api", "all", { "pod-identity/session-tags": value }),
    );

    expect(findings).toEqual([]);
    expect(t?.disableSessionTags).toBe(disabled);
  });

  it("reads selector keywords and tag keys case-insensitively", () => {
    const { template: t, findings } = parseTemplate(
      role("app", { "Pod-Identity/Bind": "orders/api", "pod-identity/Clusters": "ALL Name:prod" }),
    );

    expect(findings).toEqual([]);
    expect(t?.selectors).toEqual([{ kind: "all" }, { kind: "name", name: "prod" }]);
  });

  it.each([["pod-identity/owner"], ["pod-identity/bind-10"]])(
    "warns about the unknown key %s and still applies the template",
    (key) => {
      const {
        template: t,
        findings,
        frozen,
      } = parseTemplate(template("app", "orders/api", "all", { [key]: "x y" }));

      expect(t?.bindings).toEqual([{ namespace: "orders", serviceAccount: "api" }]);
      expect(frozen).toBeUndefined();
      expect(findings).toEqual([
        expect.objectContaining({ code: "TEMPLATE_UNKNOWN_KEY", severity: "warning", roleName: "app" }),
      ]);
    },
  );

  it("freezes a role whose tags could not be read", () => {
    const r = { ...template("app", "orders/api"), tags: {}, unreadable: "AccessDenied" };

    const parsed = parseTemplate(r);

    expect(parsed.template).toBeUndefined();
    expect(parsed.frozen).toBe(true);
    expect(parsed.findings[0]?.code).toBe("TEMPLATE_UNREADABLE");
  });

  it("does not freeze a role whose bind tag was removed: that retires the template", () => {
    const parsed = parseTemplate(role("app", { "pod-identity/clusters": "all" }));

    expect(parsed.template).toBeUndefined();
    expect(parsed.frozen).toBeUndefined();
    expect(parsed.findings.map((f) => f.code)).toEqual(["TEMPLATE_INCOMPLETE"]);
  });

  it("is not a template and not frozen with only unknown or catalog keys", () => {
    const parsed = parseTemplate(
      role("labelled", { "pod-identity/owner": "team-a", "pod-identity/catalog": "x" }),
    );

    expect(parsed.template).toBeUndefined();
    expect(parsed.frozen).toBeUndefined();
  });

  it("reads arn: terms as exact cluster ARNs", () => {
    const arn = "arn:aws:eks:eu-west-1:123456789012:cluster/prod";

    const { template: t } = parseTemplate(template("app", "orders/api", `arn:${arn}`));

    expect(t?.selectors).toEqual([{ kind: "arn", arn }]);
  });

  it("collapses a binding listed twice", () => {
    const { template: t } = parseTemplate(template("app", "orders/api orders/api"));
    expect(t?.bindings).toHaveLength(1);
  });
});

describe("template admission", () => {
  const tags = { "pod-identity/bind": "orders/api", "pod-identity/clusters": "all" };
  const boundary = "arn:aws:iam::123456789012:policy/pod-identity-template-boundary";

  it.each([
    ["at the root path", "/", undefined, DEFAULT_ADMISSION],
    ["under the catalog path", "/pod-identity/", undefined, DEFAULT_ADMISSION],
    [
      "at a path that only starts like the template path",
      "/pod-identity-templates-x/",
      undefined,
      DEFAULT_ADMISSION,
    ],
    [
      "without the required boundary",
      "/",
      undefined,
      { ...DEFAULT_ADMISSION, templatePath: undefined, templateBoundaryArn: boundary },
    ],
    [
      "with another boundary",
      "/pod-identity-templates/",
      "arn:aws:iam::123456789012:policy/other",
      { ...DEFAULT_ADMISSION, templateBoundaryArn: boundary },
    ],
    [
      "when the stack configures no authority",
      "/pod-identity-templates/",
      undefined,
      { ...DEFAULT_ADMISSION, templatePath: undefined },
    ],
  ])("refuses a tagged role %s: a finding, no template, nothing frozen", (_label, path, pb, policy) => {
    const r = { ...role("app", tags, undefined, path), ...(pb ? { permissionsBoundaryArn: pb } : {}) };

    const parsed = parseTemplate(r, policy);

    expect(parsed.template).toBeUndefined();
    expect(parsed.frozen).toBeUndefined();
    expect(parsed.findings).toEqual([
      expect.objectContaining({ code: "TEMPLATE_NOT_ADMITTED", roleName: "app" }),
    ]);
  });

  it.each([
    ["under the template path", "/pod-identity-templates/", undefined, DEFAULT_ADMISSION],
    [
      "under a sub-path of the template path",
      "/pod-identity-templates/team-a/",
      undefined,
      DEFAULT_ADMISSION,
    ],
    [
      "anywhere with the boundary, when only the boundary is configured",
      "/",
      boundary,
      { ...DEFAULT_ADMISSION, templatePath: undefined, templateBoundaryArn: boundary },
    ],
    [
      "under the path with the boundary, when both are configured",
      "/pod-identity-templates/",
      boundary,
      { ...DEFAULT_ADMISSION, templateBoundaryArn: boundary },
    ],
  ])("admits a role %s", (_label, path, pb, policy) => {
    const r = { ...role("app", tags, undefined, path), ...(pb ? { permissionsBoundaryArn: pb } : {}) };

    expect(parseTemplate(r, policy).template?.roleName).toBe("app");
  });

  it("drops tag: terms outside the protected prefix with a finding; the other terms stay", () => {
    const { template: t, findings } = parseTemplate(template("app", "orders/api", "tag:env=prod name:prod"));

    expect(t?.selectors).toEqual([{ kind: "name", name: "prod" }]);
    expect(findings).toEqual([
      expect.objectContaining({
        code: "SELECTOR_NOT_ADMITTED",
        message: expect.stringContaining("tag:env=prod"),
      }),
    ]);
  });
});

describe("selectsCluster", () => {
  const c = {
    name: "eu-prod",
    arn: "arn:aws:eks:eu-west-1:123456789012:cluster/eu-prod",
    tags: { env: "prod" },
  };
  it.each([
    [[{ kind: "all" } as const], true],
    [[{ kind: "name", name: "eu-prod" } as const], true],
    [[{ kind: "name", name: "eu" } as const], false],
    [[{ kind: "prefix", prefix: "eu-" } as const], true],
    [[{ kind: "tag", key: "env", value: "prod" } as const], true],
    [[{ kind: "tag", key: "env", value: "dev" } as const], false],
    [[{ kind: "tag", key: "env", value: "dev" } as const, { kind: "prefix", prefix: "eu" } as const], true],
    [[{ kind: "arn", arn: "arn:aws:eks:eu-west-1:123456789012:cluster/eu-prod" } as const], true],
    [[{ kind: "arn", arn: "arn:aws:eks:us-east-1:123456789012:cluster/eu-prod" } as const], false],
  ])("%j → %s", (selectors, expected) => {
    expect(selectsCluster(selectors, c)).toBe(expected);
  });
});

describe("parseClusterSettings", () => {
  it("reads opt-out, install-agent and catalog entries with overrides", () => {
    const { settings, findings } = parseClusterSettings(
      {
        name: "prod",
        tags: {
          "pod-identity/opt-out": "false",
          "pod-identity/install-agent": "false",
          "pod-identity/templates": "external-dns cert-manager@certs/issuer",
        },
      },
      CATALOG_NAMES,
    );
    expect(findings).toEqual([]);
    expect(settings).toEqual({
      optOut: false,
      installAgent: false,
      catalog: [
        { name: "external-dns" },
        { name: "cert-manager", binding: { namespace: "certs", serviceAccount: "issuer" } },
      ],
    });
  });

  it("treats an unclear opt-out value as opted out, with a finding", () => {
    const { settings, findings } = parseClusterSettings(
      { name: "prod", tags: { "pod-identity/opt-out": "yes" } },
      CATALOG_NAMES,
    );
    expect(settings.optOut).toBe(true);
    expect(findings[0]?.code).toBe("CLUSTER_TAG_INVALID");
  });

  it("skips unknown catalog names and bad overrides with findings", () => {
    const { settings, findings } = parseClusterSettings(
      { name: "prod", tags: { "pod-identity/templates": "nginx external-dns@Bad/sa external-dns" } },
      CATALOG_NAMES,
    );
    expect(settings.catalog).toEqual([{ name: "external-dns" }]);
    expect(findings.map((f) => f.code)).toEqual(["CATALOG_UNKNOWN", "CATALOG_UNKNOWN"]);
  });
});
