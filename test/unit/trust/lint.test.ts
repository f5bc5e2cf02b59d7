import { describe, expect, it } from "vitest";
import { lintTrustPolicy, type TrustCode } from "../../../functions/core/trust/index.js";
import {
  ACCOUNT,
  CLUSTER_ARN,
  ISSUER_HOST,
  irsaStatement,
  OTHER_HOST,
  podsStatement,
  policy,
  SEED_MIGRATION,
  SEED_POD_IDENTITY,
  SEED_RESTRICTED,
} from "../../support/policies.js";

/** Codes other than POD_TRUST_UNSCOPED (most fixtures trust pods without conditions; its own tests below). */
const codes = (text: unknown, options = {}) =>
  lintTrustPolicy(text, options)
    .map((f) => f.code)
    .filter((c) => c !== "POD_TRUST_UNSCOPED");
const find = (text: unknown, code: TrustCode, options = {}) =>
  lintTrustPolicy(text, options).filter((f) => f.code === code);

describe("reading policies", () => {
  it("accepts IAM's URL-encoded form like raw JSON", () => {
    const raw = policy(podsStatement());
    expect(lintTrustPolicy(encodeURIComponent(raw))).toEqual(lintTrustPolicy(raw));
  });

  it("accepts a single Statement object and scalar Principal/Action values", () => {
    const text = JSON.stringify({
      Version: "2012-10-17",
      Statement: {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: "sts:AssumeRole",
      },
    });
    expect(codes(text)).toEqual(["MISSING_TAG_SESSION"]);
  });

  it("treats condition operators and keys case-insensitively", () => {
    const text = policy(
      podsStatement({ Condition: { stringequals: { "aws:sourceaccount": "999999999999" } } }),
    );
    expect(codes(text, { accountId: ACCOUNT })).toEqual(["SOURCE_ACCOUNT_MISMATCH"]);
  });

  it("reads IfExists and ForAnyValue forms", () => {
    const text = policy(
      podsStatement({
        Condition: { "ForAnyValue:StringEqualsIfExists": { "aws:SourceAccount": ["999999999999"] } },
      }),
    );
    expect(codes(text, { accountId: ACCOUNT })).toEqual(["SOURCE_ACCOUNT_MISMATCH"]);
  });
});

describe("the seed documents", () => {
  it("flags the launch post's placeholders in the cluster-restricted policy", () => {
    const found = lintTrustPolicy(SEED_RESTRICTED, { accountId: ACCOUNT });
    expect(found.map((f) => f.code).sort()).toEqual(["SOURCE_ACCOUNT_MISMATCH", "SOURCE_ARN_INVALID"]);
    expect(found.every((f) => f.statement === 0 && f.fix.length > 0)).toBe(true);
  });

  it("finds nothing wrong with the migration and Pod Identity policies", () => {
    expect(codes(SEED_MIGRATION)).toEqual([]);
    expect(codes(SEED_POD_IDENTITY, { accountId: ACCOUNT, clusterArns: [CLUSTER_ARN] })).toEqual([]);
  });
});

describe("POLICY_MALFORMED", () => {
  it.each([
    ["not JSON", "{nope"],
    ["an array", "[]"],
    ["no Statement", '{"Version":"2012-10-17"}'],
    ["an empty Statement", '{"Statement":[]}'],
    ["a non-string input", 42],
    ["an empty string", ""],
  ])("reports %s", (_label, text) => {
    expect(lintTrustPolicy(text)).toEqual([
      expect.objectContaining({ code: "POLICY_MALFORMED", severity: "error", statement: null }),
    ]);
  });

  it("names the statement that cannot be read and still lints the others", () => {
    const text = JSON.stringify({
      Statement: [podsStatement(), { Effect: "Maybe", Action: "x", Principal: "*" }],
    });
    expect(find(text, "POLICY_MALFORMED")).toEqual([expect.objectContaining({ statement: 1 })]);
  });

  it("is absent from a well-formed policy", () => {
    expect(codes(SEED_POD_IDENTITY)).not.toContain("POLICY_MALFORMED");
  });
});

describe("NO_POD_IDENTITY_TRUST and MISSING_TAG_SESSION", () => {
  it("reports a policy without the pods.eks.amazonaws.com service principal as an error", () => {
    const text = policy({
      Effect: "Allow",
      Principal: { Service: "ec2.amazonaws.com" },
      Action: "sts:AssumeRole",
    });
    expect(find(text, "NO_POD_IDENTITY_TRUST")).toEqual([expect.objectContaining({ severity: "error" })]);
  });

  it("reports an IRSA-only role as a warning (not migrated yet)", () => {
    expect(find(policy(irsaStatement()), "NO_POD_IDENTITY_TRUST")).toEqual([
      expect.objectContaining({ severity: "warning" }),
    ]);
  });

  it("ignores a Deny for the service principal", () => {
    const text = policy(podsStatement({ Effect: "Deny" }));
    expect(codes(text)).toContain("NO_POD_IDENTITY_TRUST");
  });

  it("counts wildcard actions such as sts:* and sts:Assume*", () => {
    expect(codes(policy(podsStatement({ Action: "sts:*" })))).toEqual([]);
    expect(codes(policy(podsStatement({ Action: ["sts:Assume*", "sts:TagSession"] })))).toEqual([]);
  });

  it("requires sts:TagSession unless session tags are disabled", () => {
    const text = policy(podsStatement({ Action: "sts:AssumeRole" }));
    expect(codes(text)).toEqual(["MISSING_TAG_SESSION"]);
    expect(codes(text, { sessionTagsDisabled: true })).toEqual([]);
  });
});

describe("WILDCARD_PRINCIPAL", () => {
  it.each([["*"], [{ AWS: "*" }], [{ AWS: ["arn:aws:iam::111122223333:root", "*"] }]])(
    "is critical for principal %j without a narrowing condition",
    (principal) => {
      const text = policy(podsStatement(), {
        Effect: "Allow",
        Principal: principal,
        Action: "sts:AssumeRole",
      });
      expect(find(text, "WILDCARD_PRINCIPAL")).toEqual([
        expect.objectContaining({ severity: "critical", statement: 1 }),
      ]);
    },
  );

  it("is not reported when the account or organisation narrows it", () => {
    const byAccount = policy(podsStatement(), {
      Effect: "Allow",
      Principal: "*",
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:PrincipalAccount": ACCOUNT } },
    });
    const byOrg = policy(podsStatement(), {
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123" } },
    });
    expect(codes(byAccount)).toEqual([]);
    expect(codes(byOrg)).toEqual([]);
  });

  it("is still reported when the narrowing condition is IfExists or negated", () => {
    const text = policy(podsStatement(), {
      Effect: "Allow",
      Principal: "*",
      Action: "sts:AssumeRole",
      Condition: { StringEqualsIfExists: { "aws:PrincipalAccount": ACCOUNT } },
    });
    expect(codes(text)).toContain("WILDCARD_PRINCIPAL");
  });
});

describe("SOURCE_ACCOUNT_MISMATCH", () => {
  it("reports an aws:SourceAccount other than --account", () => {
    const text = policy(
      podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": "999999999999" } } }),
    );
    expect(find(text, "SOURCE_ACCOUNT_MISMATCH", { accountId: ACCOUNT })).toHaveLength(1);
  });

  it("accepts the matching account, and says nothing without --account", () => {
    const text = policy(podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } }));
    expect(codes(text, { accountId: ACCOUNT })).toEqual([]);
    expect(
      codes(policy(podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": "999999999999" } } }))),
    ).toEqual([]);
  });
});

describe("SOURCE_ARN_INVALID", () => {
  it("reports a SourceArn that is not an EKS cluster ARN", () => {
    const text = policy(
      podsStatement({
        Condition: { ArnEquals: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT}:nodegroup/x/y/z` } },
      }),
    );
    expect(find(text, "SOURCE_ARN_INVALID")).toEqual([expect.objectContaining({ severity: "error" })]);
  });

  it("reports a wildcard under StringEquals as an error, under ArnEquals as a warning", () => {
    const pattern = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod-*`;
    expect(
      find(
        policy(podsStatement({ Condition: { StringEquals: { "aws:SourceArn": pattern } } })),
        "SOURCE_ARN_INVALID",
      ),
    ).toEqual([expect.objectContaining({ severity: "error" })]);
    expect(
      find(
        policy(podsStatement({ Condition: { ArnEquals: { "aws:SourceArn": pattern } } })),
        "SOURCE_ARN_INVALID",
      ),
    ).toEqual([expect.objectContaining({ severity: "warning" })]);
  });

  it("accepts exact cluster ARNs and cluster patterns under ArnLike", () => {
    const exact = policy(podsStatement({ Condition: { ArnEquals: { "aws:SourceArn": CLUSTER_ARN } } }));
    const like = policy(
      podsStatement({ Condition: { ArnLike: { "aws:SourceArn": `arn:aws:eks:*:${ACCOUNT}:cluster/*` } } }),
    );
    expect(codes(exact)).toEqual([]);
    expect(codes(like)).toEqual([]);
  });
});

describe("SOURCE_ARN_EXCLUDES_CLUSTER", () => {
  const restricted = policy(
    podsStatement({
      Condition: { ArnLike: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod-*` } },
    }),
  );

  it("reports a cluster the SourceArn condition rejects", () => {
    const other = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/staging`;
    const found = find(restricted, "SOURCE_ARN_EXCLUDES_CLUSTER", { clusterArns: [other] });
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toContain(other);
  });

  it("accepts clusters the condition allows", () => {
    expect(codes(restricted, { clusterArns: [`arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod-eu`] })).toEqual(
      [],
    );
  });
});

describe("IRSA statements", () => {
  it("IRSA_MISSING_SUB is critical: any service account of the cluster may assume the role", () => {
    const text = policy({
      Effect: "Allow",
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}` },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${ISSUER_HOST}:aud`]: "sts.amazonaws.com" } },
    });
    expect(find(text, "IRSA_MISSING_SUB")).toEqual([
      expect.objectContaining({ severity: "critical", statement: 0 }),
    ]);
    expect(codes(policy(irsaStatement()))).not.toContain("IRSA_MISSING_SUB");
  });

  it("IRSA_MISSING_AUD warns when no aud condition is present", () => {
    expect(find(policy(irsaStatement(undefined, { aud: false })), "IRSA_MISSING_AUD")).toEqual([
      expect.objectContaining({ severity: "warning" }),
    ]);
    expect(codes(policy(irsaStatement()))).not.toContain("IRSA_MISSING_AUD");
  });

  it("IRSA_WILDCARD_SUB warns on a name pattern and errs on a namespace pattern", () => {
    const name = find(
      policy(irsaStatement("system:serviceaccount:demo-ns:*", { operator: "StringLike" })),
      "IRSA_WILDCARD_SUB",
    );
    const namespace = find(
      policy(irsaStatement("system:serviceaccount:*", { operator: "StringLike" })),
      "IRSA_WILDCARD_SUB",
    );
    expect(name).toEqual([expect.objectContaining({ severity: "warning" })]);
    expect(namespace).toEqual([expect.objectContaining({ severity: "error" })]);
    expect(codes(policy(irsaStatement()))).not.toContain("IRSA_WILDCARD_SUB");
  });

  it.each([
    "demo-sa",
    "system:serviceaccount:Demo:sa",
    "system:serviceaccount:demo-ns",
    "system:serviceaccount:ns:sa:extra",
  ])("IRSA_SUB_MALFORMED for %s", (sub) => {
    expect(codes(policy(irsaStatement(sub)))).toContain("IRSA_SUB_MALFORMED");
  });

  it("IRSA_SUB_MALFORMED for a wildcard under StringEquals (compared literally)", () => {
    expect(codes(policy(irsaStatement("system:serviceaccount:demo-ns:*")))).toContain("IRSA_SUB_MALFORMED");
  });

  it("IRSA_ISSUER_MISMATCH when the condition keys name another cluster's issuer", () => {
    const statement = irsaStatement(undefined, { host: OTHER_HOST });
    statement.Principal = { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}` };
    expect(codes(policy(statement))).toContain("IRSA_ISSUER_MISMATCH");
    expect(codes(policy(irsaStatement()))).not.toContain("IRSA_ISSUER_MISMATCH");
  });
});

describe("TRUST_POLICY_SIZE", () => {
  const sized = (subjects: number) =>
    policy(
      podsStatement(),
      irsaStatement(Array.from({ length: subjects }, (_, i) => `system:serviceaccount:ns:sa-${i}`)),
    );

  it("warns from 90% of the limit and errs above it, whitespace not counted", () => {
    const text = sized(40);
    const size = JSON.stringify(JSON.parse(text)).length;
    expect(find(text, "TRUST_POLICY_SIZE", { sizeLimit: size - 1 })).toEqual([
      expect.objectContaining({ severity: "error" }),
    ]);
    expect(find(text, "TRUST_POLICY_SIZE", { sizeLimit: Math.ceil(size / 0.95) })).toEqual([
      expect.objectContaining({ severity: "warning" }),
    ]);
    expect(find(text, "TRUST_POLICY_SIZE", { sizeLimit: size * 2 })).toEqual([]);
    expect(
      find(JSON.stringify(JSON.parse(text), null, 8), "TRUST_POLICY_SIZE", { sizeLimit: size * 2 }),
    ).toEqual([]);
  });

  it("uses the default limit of 2,048 characters", () => {
    expect(codes(sized(80))).toContain("TRUST_POLICY_SIZE");
    expect(codes(sized(2))).not.toContain("TRUST_POLICY_SIZE");
  });
});

describe("NOT_PRINCIPAL and DUPLICATE_STATEMENT", () => {
  it("reports NotPrincipal with Allow, not with Deny", () => {
    const allow = policy(podsStatement(), {
      Effect: "Allow",
      NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "sts:AssumeRole",
    });
    const deny = policy(podsStatement(), {
      Effect: "Deny",
      NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "sts:AssumeRole",
    });
    expect(find(allow, "NOT_PRINCIPAL")).toEqual([
      expect.objectContaining({ severity: "critical", statement: 1 }),
    ]);
    expect(codes(deny)).not.toContain("NOT_PRINCIPAL");
  });

  it("reports statements that grant the same thing, whatever their order and case", () => {
    const dup = policy(
      podsStatement(),
      podsStatement({ Sid: "Again", Action: ["STS:TagSession", "sts:AssumeRole"] }),
    );
    expect(find(dup, "DUPLICATE_STATEMENT")).toEqual([
      expect.objectContaining({ statement: 1, severity: "warning" }),
    ]);
    expect(codes(policy(podsStatement(), irsaStatement()))).not.toContain("DUPLICATE_STATEMENT");
  });
});

describe("Pod Identity conditions STS evaluates (issue 12) and unscoped trust (issue 13)", () => {
  const all = (text: string, options = {}) => lintTrustPolicy(text, options);

  it("POD_TRUST_UNSCOPED: a Pod Identity statement without any condition is a warning", () => {
    const found = all(policy(podsStatement()));
    const scoped = all(
      policy(podsStatement({ Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } })),
    );

    expect(found).toEqual([
      expect.objectContaining({ code: "POD_TRUST_UNSCOPED", severity: "warning", statement: 0 }),
    ]);
    expect(scoped.map((f) => f.code)).not.toContain("POD_TRUST_UNSCOPED");
  });

  it("REQUEST_TAG_EXCLUDES: a cluster the aws:RequestTag/eks-cluster-name condition excludes, or any with session tags disabled", () => {
    const text = policy(
      podsStatement({ Condition: { StringEquals: { "aws:RequestTag/eks-cluster-name": "staging" } } }),
    );

    expect(codes(text, { clusterArns: [CLUSTER_ARN] })).toEqual(["REQUEST_TAG_EXCLUDES"]);
    expect(codes(text, { sessionTagsDisabled: true })).toEqual(["REQUEST_TAG_EXCLUDES"]);
    expect(codes(text)).toEqual([]);
  });

  it("TRUST_UNDECIDED: a key known only per pod or not documented for Pod Identity is a warning, never an error", () => {
    const text = policy(
      podsStatement({ Condition: { StringLike: { "aws:RequestTag/kubernetes-pod-name": "api-*" } } }),
    );

    const alone = all(text);
    const forCluster = all(text, { clusterArns: [CLUSTER_ARN] });

    expect(alone.map((f) => [f.code, f.severity])).toEqual([["TRUST_UNDECIDED", "warning"]]);
    expect(forCluster.map((f) => [f.code, f.severity])).toEqual([["TRUST_UNDECIDED", "warning"]]);
  });

  it("accepts aws:SourceArn as an association ARN pattern and words the fix so it lists both ARNs", () => {
    const association = `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/prod/*`;
    const ok = policy(podsStatement({ Condition: { ArnLike: { "aws:SourceArn": association } } }));
    const other = policy(
      podsStatement({
        Condition: { ArnLike: { "aws:SourceArn": `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/staging` } },
      }),
    );

    const excluded = all(other, { clusterArns: [CLUSTER_ARN] });

    expect(codes(ok, { clusterArns: [CLUSTER_ARN] })).toEqual([]);
    expect(excluded).toEqual([
      expect.objectContaining({ code: "SOURCE_ARN_EXCLUDES_CLUSTER", severity: "error" }),
    ]);
    expect(excluded[0]!.fix).toContain(`cluster/prod`);
    expect(excluded[0]!.fix).toContain(`podidentityassociation/prod/*`);
  });
});

describe("IRSA: keys of another issuer, with or without a path", () => {
  it.each(["oidc.example.com", "s3.amazonaws.com/my-bucket", "token.actions.githubusercontent.com"])(
    "recognises %s:sub as another issuer's key, not as a missing sub",
    (issuer) => {
      const statement = irsaStatement("system:serviceaccount:demo-ns:demo-sa", { aud: false });
      const text = policy({
        ...statement,
        Condition: { StringEquals: { [`${issuer}:sub`]: "system:serviceaccount:demo-ns:demo-sa" } },
      });

      const found = codes(text);

      expect(found).toContain("IRSA_ISSUER_MISMATCH");
      expect(found).not.toContain("IRSA_MISSING_SUB");
    },
  );

  it("reads a provider whose issuer has no /id/ path (self-managed, ROSA: s3.amazonaws.com/bucket)", () => {
    const host = "s3.amazonaws.com/my-oidc-bucket";
    const text = policy(irsaStatement("system:serviceaccount:demo-ns:demo-sa", { host }));

    // only the missing Pod Identity trust (a warning on an IRSA role): its own IRSA keys are read
    expect(codes(text)).toEqual(["NO_POD_IDENTITY_TRUST"]);
  });
});
