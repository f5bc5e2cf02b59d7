import { UpdateAssumeRolePolicyCommand } from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { webIdentityRecord } from "../../../local/cloudtrail-records.js";
import { irsaTrust } from "../../../local/sample-fleet.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../../support/local-account.js";
import { LocalPods, type PodRef } from "../../support/pods.js";

const ctx = useLocalAccount();
let pods: LocalPods;
let clients: ReturnType<typeof awsClientsFor>;

const app: PodRef = { cluster: "alpha", namespace: "shop", serviceAccount: "cart" };

async function irsaRole(
  name: string,
  statement: (host: string) => Record<string, unknown>[],
): Promise<string> {
  const host = (await pods.issuer("alpha")).replace(/^https:\/\//, "");
  return await createRole(clients.iam, name, {
    trust: JSON.stringify({ Version: "2012-10-17", Statement: statement(host) }),
  });
}

function federated(
  host: string,
  condition: Record<string, unknown>,
  effect = "Allow",
): Record<string, unknown> {
  return {
    Effect: effect,
    Principal: { Federated: `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${host}` },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: condition,
  };
}

beforeEach(async () => {
  pods = new LocalPods(ctx.account.endpoint);
  clients = awsClientsFor(ctx.account.endpoint, 1, ACCOUNT_ID);
  await createCluster(clients, "alpha");
  await createCluster(clients, "beta");
  await pods.ensureOidcProvider("alpha");
});

describe("STS AssumeRoleWithWebIdentity (IRSA)", () => {
  it("gives credentials to the service account the trust names and records a WebIdentityUser event", async () => {
    // Prepare
    const issuer = await pods.issuer("alpha");
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, issuer, ["system:serviceaccount:shop:cart"]),
    });
    // Act
    const creds = await pods.irsa(app, roleArn, { sessionName: "cart-session" });
    const records = await pods.records({ eventName: "AssumeRoleWithWebIdentity" });
    // Assess
    expect(creds).toMatchObject({
      ok: true,
      assumedRoleArn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/cart-irsa/cart-session`,
    });
    expect(creds.ok && creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    const host = issuer.replace("https://", "");
    const provider = `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${host}`;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRoleWithWebIdentity",
      userIdentity: {
        type: "WebIdentityUser",
        principalId: `${provider}:sts.amazonaws.com:system:serviceaccount:shop:cart`,
        userName: "system:serviceaccount:shop:cart",
        identityProvider: provider,
      },
      requestParameters: { roleArn, roleSessionName: "cart-session" },
      responseElements: {
        provider,
        audience: "sts.amazonaws.com",
        subjectFromWebIdentityToken: "system:serviceaccount:shop:cart",
      },
      resources: [{ accountId: ACCOUNT_ID, type: "AWS::IAM::Role", ARN: roleArn }],
      recipientAccountId: ACCOUNT_ID,
    });
    expect(await pods.records({ resourceName: roleArn })).toHaveLength(1);
  });

  it("refuses another service account with AccessDenied (403) and records the refusal", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    // Act
    const result = await pods.irsa({ ...app, serviceAccount: "intruder" }, roleArn);
    // Assess
    expect(result).toMatchObject({
      ok: false,
      code: "AccessDenied",
      status: 403,
      message: "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    });
    const [record] = await pods.records({ eventName: "AssumeRoleWithWebIdentity" });
    expect(record).toMatchObject({ errorCode: "AccessDenied", responseElements: null });
  });

  it("honours StringLike, negated conditions and Deny statements", async () => {
    // Prepare
    const roleArn = await irsaRole("shop-wide", (host) => [
      federated(host, {
        StringLike: { [`${host}:sub`]: "system:serviceaccount:shop:*" },
        StringEquals: { [`${host}:aud`]: "sts.amazonaws.com" },
        StringNotEquals: { [`${host}:sub`]: "system:serviceaccount:shop:excluded" },
      }),
      federated(host, { StringEquals: { [`${host}:sub`]: "system:serviceaccount:shop:denied" } }, "Deny"),
    ]);
    // Act
    const wildcard = await pods.irsa({ ...app, serviceAccount: "anything" }, roleArn);
    const excluded = await pods.irsa({ ...app, serviceAccount: "excluded" }, roleArn);
    const denied = await pods.irsa({ ...app, serviceAccount: "denied" }, roleArn);
    const otherNamespace = await pods.irsa({ ...app, namespace: "ops" }, roleArn);
    // Assess
    expect(wildcard.ok).toBe(true);
    expect([excluded, denied, otherNamespace].map((r) => (r.ok ? "ok" : r.code))).toEqual([
      "AccessDenied",
      "AccessDenied",
      "AccessDenied",
    ]);
  });

  it("refuses a cluster whose OIDC provider the trust does not name, and one without a provider", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    const onBeta = { ...app, cluster: "beta" };
    // Act
    const withoutProvider = await pods.irsa(onBeta, roleArn);
    await pods.ensureOidcProvider("beta");
    const untrustedProvider = await pods.irsa(onBeta, roleArn);
    // Assess
    expect(withoutProvider).toMatchObject({ ok: false, code: "InvalidIdentityTokenException", status: 400 });
    expect(!withoutProvider.ok && withoutProvider.message).toBe(
      `No OpenIDConnect provider found in your account for ${await pods.issuer("beta")}`,
    );
    expect(untrustedProvider).toMatchObject({ ok: false, code: "AccessDenied" });
  });

  it("refuses a wrong audience, an expired token and a duration over MaxSessionDuration", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    const wrongAudience = await pods.token(app, { audience: "pods.eks.amazonaws.com" });
    const shortLived = await pods.token(app, { audience: "sts.amazonaws.com", lifetimeSeconds: 600 });
    // Act
    const audience = await pods.irsa(app, roleArn, { token: wrongAudience });
    const tooLong = await pods.irsa(app, roleArn, { durationSeconds: 7200 });
    await pods.advanceClock(601);
    const expired = await pods.irsa(app, roleArn, { token: shortLived });
    // Assess
    expect(audience).toMatchObject({
      ok: false,
      code: "InvalidIdentityTokenException",
      message: "Incorrect token audience",
    });
    expect(tooLong).toMatchObject({ ok: false, code: "ValidationError" });
    expect(expired).toMatchObject({ ok: false, code: "ExpiredTokenException", status: 400 });
  });
  it("sees IAM's previous trust policy inside the consistency window, then the new one", async () => {
    // Prepare
    const issuer = await pods.issuer("alpha");
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, issuer, ["system:serviceaccount:shop:cart"]),
    });
    await ctx.account.setFaults({ trustPolicyConsistencyDelayMs: 60_000 });
    await clients.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: "cart-irsa",
        PolicyDocument: irsaTrust(ACCOUNT_ID, issuer, ["system:serviceaccount:shop:other"]),
      }),
    );
    // Act
    const stale = await pods.irsa(app, roleArn);
    await pods.advanceClock(61);
    const fresh = await pods.irsa(app, roleArn);
    // Assess
    expect(stale.ok).toBe(true);
    expect(fresh).toMatchObject({ ok: false, code: "AccessDenied" });
  });

  it("answers bad input with a 4xx and never a server error", async () => {
    // Prepare
    const roleArn = `arn:aws:iam::${ACCOUNT_ID}:role/cart-irsa`;
    const weird = [
      "not-a-jwt",
      "a.b.c",
      `x.${Buffer.from("[1,2]").toString("base64url")}.y`,
      `x.${Buffer.from(JSON.stringify({ iss: 5, sub: null, aud: {}, exp: "soon" })).toString("base64url")}.y`,
    ];
    const post = async (form: Record<string, string>) =>
      (
        await fetch(ctx.account.endpoint, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ Action: "AssumeRoleWithWebIdentity", Version: "2011-06-15", ...form }),
        })
      ).status;
    // Act
    const statuses = [
      ...(await Promise.all(
        weird.map((t) => post({ RoleArn: roleArn, RoleSessionName: "s1", WebIdentityToken: t })),
      )),
      await post({}),
      await post({
        RoleArn: "arn:aws:iam::1:user/x-is-not-a-role",
        RoleSessionName: "s1",
        WebIdentityToken: weird[0]!,
      }),
      await post({
        RoleArn: roleArn,
        RoleSessionName: "s1",
        WebIdentityToken: "abcd",
        DurationSeconds: "lots",
      }),
    ];
    // Assess
    expect(statuses.every((status) => status >= 400 && status < 500)).toBe(true);
  });

  it("issues credentials a pod can use until they expire on the local clock", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    const creds = await pods.irsa(app, roleArn, { sessionName: "use" });
    if (!creds.ok) throw new Error(creds.message);
    // Act
    const fresh = await pods.callerIdentity(creds);
    const forged = await pods.callerIdentity({ ...creds, sessionToken: "forged" });
    await pods.advanceClock(3600);
    const expired = await pods.callerIdentity(creds);
    // Assess
    expect(fresh).toEqual({
      ok: true,
      arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/cart-irsa/use`,
      account: ACCOUNT_ID,
    });
    expect(forged).toMatchObject({ ok: false, code: "InvalidClientTokenId", status: 403 });
    expect(expired).toMatchObject({ ok: false, code: "ExpiredToken", status: 403 });
  });

  it("counts the unsigned call in the sts family, so STS throttling faults apply to it", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    await ctx.account.setFaults({ throttle: { sts: { rate: 0.001, burst: 1 } } });
    // Act
    const first = await pods.irsa(app, roleArn);
    const second = await pods.irsa(app, roleArn);
    const calls = await ctx.account.calls();
    // Assess
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, code: "Throttling", status: 400 });
    expect(calls.throttled).toEqual({ AssumeRoleWithWebIdentity: 1 });
  });
});

describe("CloudTrail LookupEvents", () => {
  async function refreshes(roleArn: string, times: number, gapSeconds: number): Promise<Date[]> {
    const at: Date[] = [];
    for (let i = 0; i < times; i++) {
      at.push(await pods.now());
      expect((await pods.irsa(app, roleArn, { sessionName: `s${i}` })).ok).toBe(true);
      await pods.advanceClock(gapSeconds);
    }
    return at;
  }

  it("lists newest first, pages with NextToken and filters by time window", async () => {
    // Prepare
    await pods.setClock({ set: "2026-01-01T00:00:00Z", frozen: true });
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    await refreshes(roleArn, 5, 600);
    // Act
    const all = await pods.lookupEvents({ eventName: "AssumeRoleWithWebIdentity", pageSize: 2 });
    const window = await pods.lookupEvents({
      resourceName: roleArn,
      startTime: new Date("2026-01-01T00:10:00Z"),
      endTime: new Date("2026-01-01T00:30:00Z"),
    });
    // Assess
    expect(all.map((e) => JSON.parse(e.CloudTrailEvent!).requestParameters.roleSessionName)).toEqual([
      "s4",
      "s3",
      "s2",
      "s1",
      "s0",
    ]);
    expect(all[0]).toMatchObject({
      EventName: "AssumeRoleWithWebIdentity",
      EventSource: "sts.amazonaws.com",
      ReadOnly: "true",
      Username: "system:serviceaccount:shop:cart",
      EventTime: new Date("2026-01-01T00:40:00Z"),
    });
    expect(window.map((e) => e.EventTime?.toISOString())).toEqual([
      "2026-01-01T00:30:00.000Z",
      "2026-01-01T00:20:00.000Z",
      "2026-01-01T00:10:00.000Z",
    ]);
  });

  it("shows records appended with a past eventTime in time order", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    await pods.irsa(app, roleArn, { sessionName: "live" });
    const now = await pods.now();
    const past = webIdentityRecord(
      {
        time: new Date(now.getTime() - 3 * 3600_000),
        accountId: ACCOUNT_ID,
        region: "us-east-1",
        userAgent: "t",
        sourceIp: "10.0.0.1",
      },
      {
        roleArn,
        roleSessionName: "three-hours-ago",
        providerArn: "arn:aws:iam::123456789012:oidc-provider/example",
        sub: "system:serviceaccount:shop:cart",
        aud: "sts.amazonaws.com",
        error: { code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity" },
      },
    );
    // Act
    await pods.appendEvents([past]);
    const events = await pods.records({ resourceName: roleArn });
    const older = await pods.records({ resourceName: roleArn, endTime: new Date(now.getTime() - 3600_000) });
    // Assess
    expect(events.map((r) => r.requestParameters.roleSessionName)).toEqual(["live", "three-hours-ago"]);
    expect(older.map((r) => r.requestParameters.roleSessionName)).toEqual(["three-hours-ago"]);
  });

  it("hides events younger than the delivery delay", async () => {
    // Prepare
    const roleArn = await createRole(clients.iam, "cart-irsa", {
      trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
    });
    await pods.setDeliveryDelay(900);
    await pods.irsa(app, roleArn);
    // Act
    const young = await pods.lookupEvents({ resourceName: roleArn });
    await pods.advanceClock(900);
    const delivered = await pods.lookupEvents({ resourceName: roleArn });
    // Assess
    expect(young).toEqual([]);
    expect(delivered).toHaveLength(1);
  });

  it("answers CloudTrail's errors for bad lookups", async () => {
    // Prepare
    const body = async (payload: unknown) => {
      const res = await fetch(ctx.account.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
          authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT_ID}/20240101/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify(payload),
      });
      return { status: res.status, type: ((await res.json()) as { __type: string }).__type };
    };
    // Act
    const results = await Promise.all([
      body({
        LookupAttributes: [
          { AttributeKey: "EventName", AttributeValue: "A" },
          { AttributeKey: "ResourceName", AttributeValue: "B" },
        ],
      }),
      body({ LookupAttributes: [{ AttributeKey: "Color", AttributeValue: "A" }] }),
      body({ MaxResults: 51 }),
      body({ StartTime: 200, EndTime: 100 }),
      body({ NextToken: "bogus" }),
    ]);
    // Assess
    expect(results).toEqual([
      { status: 400, type: "InvalidLookupAttributesException" },
      { status: 400, type: "InvalidLookupAttributesException" },
      { status: 400, type: "InvalidMaxResultsException" },
      { status: 400, type: "InvalidTimeRangeException" },
      { status: 400, type: "InvalidNextTokenException" },
    ]);
  });
});
