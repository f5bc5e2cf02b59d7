import { describe, expect, it } from "vitest";
import { discover } from "../../../functions/core/migration/discover.js";
import { decideFinalize } from "../../../functions/core/migration/finalize.js";
import { addScopedPodTrust, undoPodTrust } from "../../../functions/core/migration/scope.js";
import { removeIrsaTrust } from "../../../functions/core/trust/edit.js";
import {
  ACCOUNT,
  CLUSTER_ARN,
  ISSUER_HOST,
  irsaStatement,
  OTHER_PROVIDER_ARN,
  PROVIDER_ARN,
  podsStatement,
  policy,
} from "../../support/policies.js";

const role = (name: string, trust: string) => ({
  name,
  arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
  trustPolicy: trust,
});
const found = (trust: string, requested?: string[]) =>
  discover({
    accountId: ACCOUNT,
    issuer: `https://${ISSUER_HOST}`,
    roles: [role("app", trust)],
    addons: [],
    ...(requested ? { requested } : {}),
  });
const sub = (ref: string) => `system:serviceaccount:${ref.replace("/", ":")}`;

describe("discovery honours the whole trust policy", () => {
  it("excludes a service account a StringNotEquals exclusion names", () => {
    // Prepare: team-a:* except team-a:untrusted (security.md finding 9)
    const statement = irsaStatement("system:serviceaccount:team-a:*", { operator: "StringLike" });
    (statement.Condition as Record<string, unknown>).StringNotEquals = {
      [`${ISSUER_HOST}:sub`]: sub("team-a/untrusted"),
    };

    // Act
    const result = found(policy(statement), ["team-a/untrusted", "team-a/api"]);

    // Assess
    expect(result.items.map((i) => `${i.namespace}/${i.serviceAccount}`)).toEqual(["team-a/api"]);
    expect(result.excluded.map((i) => `${i.namespace}/${i.serviceAccount}`)).toEqual(["team-a/untrusted"]);
    expect(result.notFound).toEqual([]);
  });

  it("excludes a service account a Deny statement refuses, and one a StringNotLike pattern excludes", () => {
    const deny = {
      Effect: "Deny",
      Principal: { Federated: PROVIDER_ARN },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${ISSUER_HOST}:sub`]: sub("web/blocked") } },
    };
    const allow = irsaStatement([sub("web/api"), sub("web/blocked"), sub("ops/debug")]);
    (allow.Condition as Record<string, unknown>).StringNotLike = {
      [`${ISSUER_HOST}:sub`]: "system:serviceaccount:ops:*",
    };

    const result = found(policy(allow, deny));

    expect(result.items.map((i) => `${i.namespace}/${i.serviceAccount}`)).toEqual(["web/api"]);
    expect(result.excluded.map((i) => [`${i.namespace}/${i.serviceAccount}`, i.reasons[0]])).toEqual([
      ["ops/debug", expect.stringMatching(/exclusion/)],
      ["web/blocked", expect.stringMatching(/denies/)],
    ]);
  });

  it("treats a condition on a key it cannot know as undecided, never as allowed", () => {
    const allow = irsaStatement(sub("web/api"));
    (allow.Condition as Record<string, Record<string, unknown>>).StringEquals!["aws:PrincipalTag/team"] = "x";
    const result = found(policy(allow));
    expect(result.items).toEqual([]);
    expect(result.excluded[0]?.reasons[0]).toMatch(/cannot be evaluated/);
  });

  it("takes an add-on's service accounts from its Pod Identity configuration; a version without it is marked", () => {
    const result = discover({
      accountId: ACCOUNT,
      issuer: `https://${ISSUER_HOST}`,
      roles: [role("cni", policy(irsaStatement(sub("kube-system/aws-node"))))],
      addons: [
        {
          name: "vpc-cni",
          version: "v1.0",
          serviceAccountRoleArn: `arn:aws:iam::${ACCOUNT}:role/cni`,
          podIdentityServiceAccounts: [],
        },
      ],
    });
    expect(result.items[0]).toMatchObject({
      kind: "addon",
      addonName: "vpc-cni",
      addonSupportsPodIdentity: false,
    });
  });
});

describe("scoped Pod Identity trust and its compensating edit", () => {
  const scope = {
    accountId: ACCOUNT,
    clusterArn: CLUSTER_ARN,
    clusterName: "prod",
    runTag: "r1",
    serviceAccounts: [
      { namespace: "web", serviceAccount: "api", sessionTags: true },
      { namespace: "web", serviceAccount: "worker", sessionTags: true },
      { namespace: "jobs", serviceAccount: "nightly", sessionTags: true },
    ],
  };

  it("adds one statement per namespace limited to IRSA's cluster, namespace and service accounts", () => {
    const added = addScopedPodTrust(policy(irsaStatement([sub("web/api")])), scope);
    expect(added.ok && added.statements).toEqual([
      expect.objectContaining({
        Sid: "PodIdMigrationr10",
        Condition: {
          StringEquals: {
            "aws:SourceAccount": ACCOUNT,
            "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
            "aws:RequestTag/kubernetes-namespace": "jobs",
            "aws:RequestTag/kubernetes-service-account": "nightly",
          },
        },
      }),
      expect.objectContaining({
        Condition: {
          StringEquals: expect.objectContaining({
            "aws:RequestTag/kubernetes-namespace": "web",
            "aws:RequestTag/kubernetes-service-account": ["api", "worker"],
          }),
        },
      }),
    ]);
  });

  it("falls back to aws:SourceAccount for service accounts whose association disables session tags, and says so", () => {
    const added = addScopedPodTrust(policy(irsaStatement(sub("web/api"))), {
      ...scope,
      serviceAccounts: [{ namespace: "web", serviceAccount: "api", sessionTags: false }],
    });
    expect(added.ok && added.unscoped).toEqual(["web/api"]);
    expect(added.ok && added.statements[0]).toMatchObject({
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
    });
  });

  it("adds nothing when the policy already lets the pods in", () => {
    const added = addScopedPodTrust(policy(irsaStatement(sub("web/api")), podsStatement()), scope);
    expect(added.ok && added.statements).toEqual([]);
  });

  it("undo removes exactly its own statements and keeps another run's and people's edits", () => {
    // Prepare: run 1 adds; then run 2 (another cluster) adds; then someone adds a statement
    const first = addScopedPodTrust(policy(irsaStatement(sub("web/api"))), scope);
    if (!first.ok) throw new Error(first.reason);
    const second = addScopedPodTrust(first.document, {
      ...scope,
      clusterArn: `${CLUSTER_ARN}-b`,
      runTag: "r2",
    });
    if (!second.ok) throw new Error(second.reason);
    const edited = {
      ...second.document,
      Statement: [...(second.document.Statement as unknown[]), { Sid: "Human", ...podsStatement() }],
    };

    // Act
    const undo = undoPodTrust(edited, first.statements, true);

    // Assess
    expect(undo.ok).toBe(true);
    const sids = ((undo.ok ? undo.document.Statement : []) as { Sid?: string }[]).map((s) => s.Sid);
    expect(sids).toEqual([undefined, "PodIdMigrationr20", "PodIdMigrationr21", "Human"]);
  });

  it("undo stops and reports the exact difference when its statement was changed or removed", () => {
    const first = addScopedPodTrust(policy(irsaStatement(sub("web/api"))), scope);
    if (!first.ok) throw new Error(first.reason);
    const statements = structuredClone(first.document.Statement) as Record<string, unknown>[];
    statements[1]!.Action = "sts:AssumeRole";
    statements.splice(2, 1);

    const undo = undoPodTrust({ ...first.document, Statement: statements }, first.statements, true);

    expect(undo.ok).toBe(false);
    expect(!undo.ok && undo.difference).toEqual([
      expect.stringMatching(
        /statement PodIdMigrationr10 was changed since this run wrote it: now .*"Action":"sts:AssumeRole"/,
      ),
      "statement PodIdMigrationr11 that this run added is no longer in the policy",
    ]);
  });

  it("undo of an intent never written accepts a document without the statements", () => {
    const first = addScopedPodTrust(policy(irsaStatement(sub("web/api"))), scope);
    if (!first.ok) throw new Error(first.reason);
    expect(undoPodTrust(policy(irsaStatement(sub("web/api"))), first.statements, false)).toMatchObject({
      ok: true,
      changed: false,
    });
  });
});

describe("IRSA removal keeps exclusions", () => {
  it("removes the sub from positive operators only, and drops a statement left with exclusions alone", () => {
    const keep = irsaStatement([sub("team-a/api"), sub("team-a/web")]);
    (keep.Condition as Record<string, unknown>).StringNotEquals = {
      [`${ISSUER_HOST}:sub`]: sub("team-a/api"),
    };
    const only = irsaStatement(sub("team-b/job"));
    (only.Condition as Record<string, unknown>).StringNotEquals = {
      [`${ISSUER_HOST}:sub`]: sub("team-b/other"),
    };

    const removed = removeIrsaTrust(policy(keep, only), PROVIDER_ARN, [sub("team-a/api"), sub("team-b/job")]);

    expect(removed.ok).toBe(true);
    const statements = (removed.ok ? removed.document.Statement : []) as {
      Condition: Record<string, Record<string, unknown>>;
    }[];
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Condition.StringNotEquals).toEqual({ [`${ISSUER_HOST}:sub`]: sub("team-a/api") });
    expect(statements[0]!.Condition.StringEquals![`${ISSUER_HOST}:sub`]).toEqual([sub("team-a/web")]);
  });
});

describe("finalize decisions from CloudTrail evidence", () => {
  const now = new Date("2026-11-23T12:00:00Z");
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/app`;
  const candidate = (sa: string) => ({
    namespace: "web",
    serviceAccount: sa,
    roleName: "app",
    roleArn,
    maxSessionSeconds: 3600,
  });
  const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000);
  const decide = (
    uses: Parameters<typeof decideFinalize>[0]["uses"],
    options: { quietSeconds?: number } = {},
  ) =>
    decideFinalize({
      now,
      providerArn: PROVIDER_ARN,
      clusterName: "prod",
      candidates: [candidate("api"), candidate("worker")],
      uses,
      lagSeconds: 900,
      ...options,
    });

  it("keeps a service account still refreshing on IRSA (naming its last use) and removes the quiet one", () => {
    const decisions = decide([
      { kind: "irsa", time: at(1000), roleArn, providerArn: PROVIDER_ARN, subject: sub("web/api") },
      {
        kind: "pod-identity",
        time: at(100),
        roleArn,
        clusterName: "prod",
        namespace: "web",
        serviceAccount: "worker",
      },
    ]);
    expect(
      decisions.map((d) => [
        d.serviceAccount,
        d.verdict,
        d.lastIrsaUse ?? null,
        d.lastPodIdentityUse ?? null,
      ]),
    ).toEqual([
      ["api", "keep", at(1000).toISOString(), null],
      ["worker", "remove", null, at(100).toISOString()],
    ]);
  });

  it("counts a use inside the evidence lag as use, and ignores other clusters, subs and old events", () => {
    const decisions = decide([
      { kind: "irsa", time: at(10), roleArn, providerArn: PROVIDER_ARN, subject: sub("web/api") },
      { kind: "irsa", time: at(100), roleArn, providerArn: OTHER_PROVIDER_ARN, subject: sub("web/worker") },
      {
        kind: "irsa",
        time: at(3600 + 900 + 1),
        roleArn,
        providerArn: PROVIDER_ARN,
        subject: sub("web/worker"),
      },
    ]);
    expect(decisions.map((d) => d.verdict)).toEqual(["keep", "remove"]);
  });

  it("the quiet window defaults to MaxSessionDuration and can be set; an unreadable event keeps (undecided)", () => {
    const old = {
      kind: "irsa" as const,
      time: at(900 + 1800),
      roleArn,
      providerArn: PROVIDER_ARN,
      subject: sub("web/api"),
    };
    expect(decide([old])[0]!.verdict).toBe("keep");
    expect(decide([old], { quietSeconds: 600 })[0]!.verdict).toBe("remove");
    const unreadable = {
      kind: "unreadable" as const,
      time: at(50),
      roleArn,
      eventName: "AssumeRoleWithWebIdentity",
      reason: "x",
    };
    expect(decide([unreadable]).map((d) => d.verdict)).toEqual(["keep", "keep"]);
  });
});
