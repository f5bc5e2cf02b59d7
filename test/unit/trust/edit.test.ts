import { describe, expect, it } from "vitest";
import {
  addPodIdentityTrust,
  lintTrustPolicy,
  podIdentityRefusals,
  podIdentityVerdicts,
  policiesEqual,
  removeIrsaTrust,
} from "../../../functions/core/trust/index.js";
import {
  ACCOUNT,
  CLUSTER_ARN,
  irsaStatement,
  OTHER_HOST,
  OTHER_PROVIDER_ARN,
  PROVIDER_ARN,
  podsStatement,
  policy,
  SEED_MIGRATION,
} from "../../support/policies.js";

const sub = (ns: string, sa: string) => `system:serviceaccount:${ns}:${sa}`;

describe("addPodIdentityTrust", () => {
  it("adds one statement with aws:SourceAccount to an IRSA-only policy", () => {
    const result = addPodIdentityTrust(policy(irsaStatement()), { sourceAccount: ACCOUNT });

    expect(result.ok && result.changed).toBe(true);
    if (!result.ok) return;
    expect(result.document.Statement).toHaveLength(2);
    expect(lintTrustPolicy(JSON.stringify(result.document), { accountId: ACCOUNT })).toEqual([]);
    expect(result.sizeAfter).toBeGreaterThan(result.sizeBefore);
  });

  it("changes nothing when an equivalent statement exists, and is idempotent on re-run", () => {
    const once = addPodIdentityTrust(policy(irsaStatement()), { sourceAccount: ACCOUNT });
    if (!once.ok) throw new Error(once.reason);
    const twice = addPodIdentityTrust(once.document, { sourceAccount: ACCOUNT });
    const existing = addPodIdentityTrust(SEED_MIGRATION);

    expect(twice.ok && twice.changed).toBe(false);
    expect(twice.ok && policiesEqual(twice.document, once.document)).toBe(true);
    expect(existing.ok && existing.changed).toBe(false);
  });

  it("adds sts:TagSession to a statement that only lacks it instead of adding a second statement", () => {
    const result = addPodIdentityTrust(policy(podsStatement({ Action: "sts:AssumeRole" })));

    if (!result.ok) throw new Error(result.reason);
    expect(result.changed).toBe(true);
    expect(result.document.Statement).toEqual([
      expect.objectContaining({ Action: ["sts:AssumeRole", "sts:TagSession"] }),
    ]);
  });

  it("adds a statement when the existing one excludes this cluster", () => {
    const other = policy(
      podsStatement({
        Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/other` } },
      }),
    );

    const result = addPodIdentityTrust(other, { clusterArn: CLUSTER_ARN });

    expect(result.ok && result.changed).toBe(true);
  });

  it("refuses a malformed policy without throwing", () => {
    expect(addPodIdentityTrust("{not json")).toMatchObject({ ok: false });
  });
});

describe("removeIrsaTrust", () => {
  it("removes only the given sub values of this cluster's provider", () => {
    // Prepare: one statement for this cluster with two subjects, one for another cluster
    const text = policy(
      irsaStatement([sub("a", "one"), sub("a", "two")]),
      irsaStatement(sub("a", "one"), { host: OTHER_HOST }),
      podsStatement(),
    );

    // Act
    const result = removeIrsaTrust(text, PROVIDER_ARN, [sub("a", "one")]);

    // Assess
    if (!result.ok) throw new Error(result.reason);
    expect(result.removedSubjects).toEqual([sub("a", "one")]);
    expect(result.droppedStatements).toEqual([]);
    const statements = result.document.Statement as {
      Condition: { StringEquals: Record<string, unknown> };
    }[];
    expect(statements).toHaveLength(3);
    expect(Object.values(statements[0]!.Condition.StringEquals)).toContainEqual([sub("a", "two")]);
    expect(statements[1]).toEqual(irsaStatement(sub("a", "one"), { host: OTHER_HOST }));
    expect(result.sizeAfter).toBeLessThan(result.sizeBefore);
  });

  it("drops the statement only when no sub is left", () => {
    const text = policy(irsaStatement(sub("a", "one")), podsStatement());

    const result = removeIrsaTrust(text, PROVIDER_ARN, [sub("a", "one")]);

    if (!result.ok) throw new Error(result.reason);
    expect(result.droppedStatements).toEqual([0]);
    expect(result.document.Statement).toEqual([podsStatement()]);
  });

  it("leaves wildcard subs and other providers alone and reports what it could not remove", () => {
    const text = policy(irsaStatement(sub("a", "*"), { operator: "StringLike" }), podsStatement());

    const result = removeIrsaTrust(text, PROVIDER_ARN, [sub("a", "one")]);
    const elsewhere = removeIrsaTrust(text, OTHER_PROVIDER_ARN, [sub("a", "one")]);

    expect(result.ok && result.changed).toBe(false);
    expect(result.ok && result.unresolvedSubjects).toEqual([sub("a", "one")]);
    expect(elsewhere.ok && policiesEqual(elsewhere.document, text)).toBe(true);
  });

  it("refuses to leave a policy without statements", () => {
    expect(removeIrsaTrust(policy(irsaStatement()), PROVIDER_ARN, [sub("demo-ns", "demo-sa")])).toMatchObject(
      { ok: false },
    );
  });
});

describe("policiesEqual", () => {
  it("ignores list order, key case and single-versus-list forms", () => {
    const a = policy(podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } }));
    const b = JSON.stringify({
      Version: "2012-10-17",
      Statement: {
        Action: ["sts:tagsession", "sts:AssumeRole"],
        Effect: "Allow",
        Principal: { Service: ["pods.eks.amazonaws.com"] },
        Condition: { stringequals: { "aws:sourceaccount": [ACCOUNT] } },
      },
    });
    expect(policiesEqual(a, encodeURIComponent(b))).toBe(true);
  });

  it("sees a different value, an extra statement, or a malformed side", () => {
    const a = policy(podsStatement());
    expect(policiesEqual(a, policy(podsStatement({ Action: "sts:AssumeRole" })))).toBe(false);
    expect(policiesEqual(a, policy(podsStatement(), irsaStatement()))).toBe(false);
    expect(policiesEqual(a, "{")).toBe(false);
  });
});

describe("podIdentityRefusals (reconciler context checks)", () => {
  const clusters = [
    { name: "prod", arn: CLUSTER_ARN },
    { name: "dev", arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev` },
  ];

  it("names the clusters a SourceArn condition refuses", () => {
    const text = policy(podsStatement({ Condition: { ArnEquals: { "aws:SourceArn": CLUSTER_ARN } } }));
    expect(podIdentityRefusals(text, { accountId: ACCOUNT, clusters })).toEqual([
      expect.objectContaining({ clusterName: "dev", code: "SOURCE_ARN_EXCLUDES_CLUSTER", by: "sts" }),
    ]);
  });

  it("refuses every cluster for a wrong SourceAccount", () => {
    const text = policy(
      podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": "999999999999" } } }),
    );
    const refusals = podIdentityRefusals(text, { accountId: ACCOUNT, clusters });
    expect(refusals.map((r) => r.code)).toEqual(["SOURCE_ACCOUNT_MISMATCH", "SOURCE_ACCOUNT_MISMATCH"]);
  });

  it("says EKS refuses a policy without TagSession while session tags are on, not when they are off", () => {
    const text = policy(podsStatement({ Action: "sts:AssumeRole" }));
    expect(podIdentityRefusals(text, { accountId: ACCOUNT, clusters })[0]).toMatchObject({
      code: "MISSING_TAG_SESSION",
      by: "eks",
    });
    expect(podIdentityRefusals(text, { accountId: ACCOUNT, clusters, sessionTagsDisabled: true })).toEqual(
      [],
    );
  });

  it("honours a Deny statement; one that depends on which ARN is aws:SourceArn leaves the verdict undecided", () => {
    const deny = (condition: Record<string, unknown>) =>
      policy(podsStatement(), {
        Effect: "Deny",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: condition,
      });
    const byAccount = deny({ StringEquals: { "aws:SourceAccount": ACCOUNT } });
    const byClusterArn = deny({ ArnEquals: { "aws:SourceArn": CLUSTER_ARN } });

    expect(
      podIdentityRefusals(byAccount, { accountId: ACCOUNT, clusters }).map((r) => r.clusterName),
    ).toEqual(["prod", "dev"]);
    expect(podIdentityRefusals(byClusterArn, { accountId: ACCOUNT, clusters })).toEqual([]);
    expect(
      podIdentityVerdicts(byClusterArn, { accountId: ACCOUNT, clusters }).filter(
        (v) => v.verdict !== "allowed",
      ),
    ).toEqual([
      expect.objectContaining({ clusterName: "prod", verdict: "undecided", code: "TRUST_UNDECIDED" }),
    ]);
  });

  it("refuses nothing for an unrestricted Pod Identity trust", () => {
    expect(podIdentityRefusals(policy(podsStatement()), { accountId: ACCOUNT, clusters })).toEqual([]);
  });
});
