import { describe, expect, it } from "vitest";
import { LocalClock } from "../../../local/clock.js";
import { CloudTrailLog } from "../../../local/cloudtrail.js";
import { type CallContext, webIdentityRecord } from "../../../local/cloudtrail-records.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const ROLE = "arn:aws:iam::123456789012:role/app";

function setup(realStart = 0) {
  let real = realStart;
  const clock = new LocalClock(() => T0 + real);
  const log = new CloudTrailLog(clock, () => real);
  const record = (offsetSeconds: number, session: string, role = ROLE) => {
    const ctx: CallContext = {
      time: new Date(T0 + offsetSeconds * 1000),
      accountId: "123456789012",
      region: "us-east-1",
      userAgent: "test",
      sourceIp: "10.0.0.1",
    };
    log.append(
      webIdentityRecord(ctx, {
        roleArn: role,
        roleSessionName: session,
        providerArn: "arn:aws:iam::123456789012:oidc-provider/example",
        sub: "system:serviceaccount:a:b",
        aud: "sts.amazonaws.com",
        session: {
          accessKeyId: `ASIA${session.toUpperCase().padEnd(16, "X")}`,
          expiration: new Date(T0 + 3600_000),
          assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/app/${session}`,
          assumedRoleId: `AROAEXAMPLE:${session}`,
          sessionName: session,
        },
      }),
    );
  };
  const lookup = (body: Record<string, unknown>) => {
    const res = log.lookup("123456789012", "us-east-1", JSON.stringify(body));
    return { status: res.status, body: JSON.parse(res.body) };
  };
  return { clock, log, record, lookup, tick: (ms: number) => (real += ms) };
}

const sessions = (body: { Events: { CloudTrailEvent: string }[] }) =>
  body.Events.map((e) => JSON.parse(e.CloudTrailEvent).requestParameters.roleSessionName);

describe("CloudTrailLog.lookup", () => {
  it("keeps its place across pages when newer events arrive in between", () => {
    // Prepare
    const { record, lookup } = setup();
    record(-30, "a");
    record(-20, "b");
    record(-10, "c");
    // Act
    const first = lookup({ MaxResults: 2 });
    record(-5, "late");
    const second = lookup({ MaxResults: 2, NextToken: first.body.NextToken });
    // Assess
    expect(sessions(first.body)).toEqual(["c", "b"]);
    expect(sessions(second.body)).toEqual(["a"]);
    expect(second.body.NextToken).toBeUndefined();
  });

  it("binds NextToken to the filters it was issued for", () => {
    // Prepare
    const { record, lookup } = setup();
    record(-20, "a");
    record(-10, "b");
    const first = lookup({ MaxResults: 1 });
    // Act
    const reused = lookup({
      MaxResults: 1,
      NextToken: first.body.NextToken,
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "AssumeRoleWithWebIdentity" }],
    });
    // Assess
    expect(reused).toMatchObject({ status: 400, body: { __type: "InvalidNextTokenException" } });
  });

  it("filters by resource name, other accounts never show, and time bounds are inclusive", () => {
    // Prepare
    const { record, lookup, log } = setup();
    record(-20, "a");
    record(-10, "other", "arn:aws:iam::123456789012:role/other");
    // Act
    const byRole = lookup({ LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: ROLE }] });
    const bySession = lookup({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "other" }],
    });
    const exact = lookup({ StartTime: (T0 - 20_000) / 1000, EndTime: (T0 - 20_000) / 1000 });
    const otherAccount = JSON.parse(log.lookup("210987654321", "us-east-1", "{}").body);
    // Assess
    expect(sessions(byRole.body)).toEqual(["a"]);
    expect(sessions(bySession.body)).toEqual(["other"]);
    expect(sessions(exact.body)).toEqual(["a"]);
    expect(otherAccount.Events).toEqual([]);
  });

  it("shows an event only once the delivery delay has passed on the clock", () => {
    // Prepare
    const { record, lookup, log, clock } = setup();
    log.control("PUT", "/_local/cloudtrail", { deliveryDelaySeconds: 900 });
    record(-899, "young");
    record(-901, "delivered");
    // Act
    const now = sessions(lookup({}).body);
    clock.apply({ advanceSeconds: 2 });
    const later = sessions(lookup({}).body);
    // Assess
    expect(now).toEqual(["delivered"]);
    expect(later).toEqual(["young", "delivered"]);
  });

  it("throttles lookups beyond the configured rate and counts them", () => {
    // Prepare
    const { lookup, log, tick } = setup(1000);
    log.control("PUT", "/_local/cloudtrail", { lookupRatePerSecond: 2 });
    // Act
    const burst = [lookup({}), lookup({}), lookup({})].map((r) => r.status);
    tick(500);
    const afterHalfSecond = lookup({}).status;
    const counters = JSON.parse(log.control("GET", "/_local/cloudtrail", undefined)!.body);
    // Assess
    expect(burst).toEqual([200, 200, 400]);
    expect(afterHalfSecond).toBe(200);
    expect(counters).toMatchObject({ lookups: 4, throttled: 1, lookupRatePerSecond: 2 });
  });
});

describe("LocalClock", () => {
  it("sets, advances, freezes and unfreezes", () => {
    // Prepare
    let real = 0;
    const clock = new LocalClock(() => T0 + real);
    // Act
    clock.apply({ set: "2030-01-01T00:00:00Z", frozen: true });
    real += 60_000;
    const frozen = clock.now().toISOString();
    clock.apply({ advanceSeconds: 30, frozen: false });
    real += 1000;
    const running = clock.now().toISOString();
    // Assess
    expect(frozen).toBe("2030-01-01T00:00:00.000Z");
    expect(running).toBe("2030-01-01T00:00:31.000Z");
  });
});
