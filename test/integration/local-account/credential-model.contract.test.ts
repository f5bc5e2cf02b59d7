import { CreatePodIdentityAssociationCommand } from "@aws-sdk/client-eks";
import { beforeEach, describe, expect, it } from "vitest";
import { irsaTrust, podIdentityTrust } from "../../../local/sample-fleet.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, awsClientsFor, useLocalAccount } from "../../support/local-account.js";
import { LocalPods, type PodRef } from "../../support/pods.js";
import {
  buildRequest,
  loadServiceModel,
  validateResponse,
  validateShape,
} from "../../support/service-model.js";

/*
 * EKS Auth and CloudTrail answers of the local account held to botocore's models (the installed AWS
 * CLI's botocore/data/eks-auth and cloudtrail service-2.json): requests serialised from the input
 * shape, success bodies validated against the output shape, errors against the operation's
 * modelled errors (code, HTTP status, shape).
 */

const eksAuth = loadServiceModel("eks-auth").model;
const cloudtrail = loadServiceModel("cloudtrail").model;
const ctx = useLocalAccount();
let pods: LocalPods;
const app: PodRef = { cluster: "alpha", namespace: "shop", serviceAccount: "cart" };

function scope(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=${ACCOUNT_ID}/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

async function assumeForPod(clusterName: string, token: string) {
  const req = buildRequest(eksAuth, "AssumeRoleForPodIdentity", { clusterName, token });
  const res = await fetch(`${ctx.account.endpoint}${req.path}`, {
    method: req.method,
    headers: { ...req.headers, authorization: scope("eks-auth") },
    ...(req.body === undefined ? {} : { body: req.body }),
  });
  const answer = { status: res.status, headers: res.headers, body: await res.text() };
  return { ...validateResponse(eksAuth, "AssumeRoleForPodIdentity", answer), body: answer.body };
}

async function lookupEvents(input: Record<string, unknown>) {
  const res = await fetch(ctx.account.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `${(cloudtrail.metadata as { targetPrefix?: string }).targetPrefix}.LookupEvents`,
      authorization: scope("cloudtrail"),
    },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.ok)
    return { code: undefined, errors: validateShape(cloudtrail, "LookupEventsResponse", body), body };
  const code = String(body.__type);
  const modelled = cloudtrail.operations.LookupEvents!.errors?.map((e) => e.shape) ?? [];
  return {
    code,
    errors: modelled.includes(code) ? [] : [`${code} is not a modelled LookupEvents error`],
    body,
  };
}

beforeEach(async () => {
  pods = new LocalPods(ctx.account.endpoint);
  const clients = awsClientsFor(ctx.account.endpoint, 1, ACCOUNT_ID);
  await createCluster(clients, "alpha");
  await pods.ensureOidcProvider("alpha");
  const roleArn = await createRole(clients.iam, "cart-pods", { trust: podIdentityTrust(ACCOUNT_ID) });
  await createRole(clients.iam, "denied-pods", {
    trust: podIdentityTrust("210987654321"),
  });
  await createRole(clients.iam, "cart-irsa", {
    trust: irsaTrust(ACCOUNT_ID, await pods.issuer("alpha"), ["system:serviceaccount:shop:cart"]),
  });
  for (const [serviceAccount, role] of [
    ["cart", roleArn],
    ["denied", `arn:aws:iam::${ACCOUNT_ID}:role/denied-pods`],
  ] as const) {
    await clients.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "shop",
        serviceAccount,
        roleArn: role,
      }),
    );
  }
});

describe("EKS Auth answers against botocore's eks-auth model", () => {
  it("a success and each error the front answers follow the model", async () => {
    // Prepare
    const ok = await pods.token(app, { audience: "pods.eks.amazonaws.com" });
    const denied = await pods.token(
      { ...app, serviceAccount: "denied" },
      { audience: "pods.eks.amazonaws.com" },
    );
    const unknown = await pods.token(
      { ...app, serviceAccount: "nobody" },
      { audience: "pods.eks.amazonaws.com" },
    );
    const wrongAudience = await pods.token(app, { audience: "sts.amazonaws.com" });
    const shortLived = await pods.token(app, { audience: "pods.eks.amazonaws.com", lifetimeSeconds: 1 });
    // Act
    const results = [
      await assumeForPod("alpha", ok),
      await assumeForPod("alpha", denied),
      await assumeForPod("alpha", unknown),
      await assumeForPod("gamma", ok),
      await assumeForPod("alpha", wrongAudience),
    ];
    await pods.advanceClock(2);
    results.push(await assumeForPod("alpha", shortLived));
    // Assess
    expect(results.map((r) => r.code)).toEqual([
      undefined,
      "AccessDeniedException",
      "ResourceNotFoundException",
      "ResourceNotFoundException",
      "InvalidTokenException",
      "ExpiredTokenException",
    ]);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
  });
});

describe("CloudTrail LookupEvents answers against botocore's cloudtrail model", () => {
  it("events and each error follow the model", async () => {
    // Prepare
    await pods.irsa(app, `arn:aws:iam::${ACCOUNT_ID}:role/cart-irsa`);
    await pods.podIdentity(app);
    await pods.podIdentity({ ...app, serviceAccount: "denied" });
    // Act
    const all = await lookupEvents({ MaxResults: 3 });
    const next = await lookupEvents({ MaxResults: 3, NextToken: all.body.NextToken });
    const errors = [
      await lookupEvents({ MaxResults: 0 }),
      await lookupEvents({ StartTime: 2, EndTime: 1 }),
      await lookupEvents({ LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "" }] }),
      await lookupEvents({ NextToken: "x" }),
    ];
    // Assess
    expect([...all.errors, ...next.errors]).toEqual([]);
    expect((all.body.Events as unknown[]).length + (next.body.Events as unknown[]).length).toBe(5);
    expect(errors.map((e) => e.code)).toEqual([
      "InvalidMaxResultsException",
      "InvalidTimeRangeException",
      "InvalidLookupAttributesException",
      "InvalidNextTokenException",
    ]);
    expect(errors.flatMap((e) => e.errors)).toEqual([]);
  });
});
