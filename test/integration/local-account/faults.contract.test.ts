import {
  CreatePodIdentityAssociationCommand,
  DescribeClusterCommand,
  ListClustersCommand,
} from "@aws-sdk/client-eks";
import { ListRolesCommand } from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();

describe("fault injection", () => {
  it("throttles EKS with TooManyRequestsException (429) once the token bucket is empty", async () => {
    // Prepare: no retries so the raw error is visible
    const c = clientsFor(ctx.account.endpoint, 1);
    await createCluster(c, "alpha");
    await ctx.account.setFaults({ throttle: { "eks-read": { rate: 0.001, burst: 3 } } });

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => c.eks.send(new DescribeClusterCommand({ name: "alpha" }))),
    );

    // Assess
    const rejected = results
      .filter((r) => r.status === "rejected")
      .map((r) => (r as PromiseRejectedResult).reason);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(rejected).toHaveLength(2);
    expect(rejected[0]).toMatchObject({
      name: "TooManyRequestsException",
      $metadata: { httpStatusCode: 429 },
    });
    expect((await ctx.account.calls()).throttled).toEqual({ DescribeCluster: 2 });
  });

  it("throttles IAM with the Throttling error code", async () => {
    const c = clientsFor(ctx.account.endpoint, 1);
    await ctx.account.setFaults({ throttle: { "iam-read": { rate: 0.001, burst: 1 } } });

    await c.iam.send(new ListRolesCommand({}));
    const second = c.iam.send(new ListRolesCommand({}));

    await expect(second).rejects.toMatchObject({ name: "Throttling" });
  });

  it("lets the SDK retry strategy absorb throttling", async () => {
    const c = clientsFor(ctx.account.endpoint, 10);
    await createCluster(c, "alpha");
    await ctx.account.setFaults({ throttle: { "eks-read": { rate: 50, burst: 2 } } });

    const results = await Promise.all(
      Array.from({ length: 8 }, () => c.eks.send(new DescribeClusterCommand({ name: "alpha" }))),
    );

    expect(results.every((r) => r.cluster?.name === "alpha")).toBe(true);
    expect((await ctx.account.calls()).throttled.DescribeCluster).toBeGreaterThan(0);
  });

  it("answers with ServerException (500) at the configured error rate, reproducibly from a seed", async () => {
    const c = clientsFor(ctx.account.endpoint, 1);
    await createCluster(c, "alpha");
    const run = async () => {
      await ctx.account.setFaults({ errorRate: 0.5, seed: 42, errorOperations: ["ListClusters"] });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        outcomes.push(
          await c.eks.send(new ListClustersCommand({})).then(
            () => "ok",
            (e: { name: string; $metadata: { httpStatusCode: number } }) =>
              `${e.name}:${e.$metadata.httpStatusCode}`,
          ),
        );
      }
      return outcomes;
    };

    const first = await run();
    const second = await run();

    expect(first).toEqual(second);
    expect(first).toContain("ServerException:500");
    expect(first).toContain("ok");
  });

  it("fails the next N calls of an operation on request", async () => {
    const c = clientsFor(ctx.account.endpoint, 1);
    await createCluster(c, "alpha");
    await ctx.account.setFaults({ failNext: { DescribeCluster: 1 } });

    const first = await c.eks.send(new DescribeClusterCommand({ name: "alpha" })).catch((e: Error) => e.name);
    const second = await c.eks.send(new DescribeClusterCommand({ name: "alpha" }));

    expect(first).toBe("ServerException");
    expect(second.cluster?.name).toBe("alpha");
  });

  it("adds latency per call", async () => {
    const c = clientsFor(ctx.account.endpoint, 1);
    await createCluster(c, "alpha");
    await ctx.account.setFaults({ latencyMs: 150 });

    const started = performance.now();
    await c.eks.send(new DescribeClusterCommand({ name: "alpha" }));
    const elapsed = performance.now() - started;

    expect(elapsed).toBeGreaterThanOrEqual(140);
  });

  it("keeps a new role invisible to EKS for the configured delay (IAM eventual consistency)", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint, 1);
    await createCluster(c, "alpha");
    await ctx.account.setFaults({ iamConsistencyDelayMs: 60_000 });
    await createRole(c.iam, "fresh");
    const create = () =>
      c.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: "alpha",
          namespace: "ns",
          serviceAccount: "sa",
          roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/fresh`,
        }),
      );

    // Act
    const whileInvisible = await create().catch((e: Error) => e.name);
    await ctx.account.setFaults({ iamConsistencyDelayMs: 0 });
    const afterwards = await create();

    // Assess
    expect(whileInvisible).toBe("InvalidParameterException");
    expect(afterwards.association?.serviceAccount).toBe("sa");
  });

  it("counts calls per operation and resets everything without a restart", async () => {
    const c = clientsFor(ctx.account.endpoint, 1);
    await createCluster(c, "alpha");
    await c.eks.send(new ListClustersCommand({}));
    await c.eks.send(new ListClustersCommand({}));
    await ctx.account.setFaults({ latencyMs: 10 });

    const before = await ctx.account.calls();
    await ctx.account.reset();
    const after = await ctx.account.calls();
    const clusters = await c.eks.send(new ListClustersCommand({}));

    expect(before.calls).toMatchObject({ CreateCluster: 1, ListClusters: 2, CreateRole: 1 });
    expect(after.calls).toEqual({});
    expect(clusters.clusters).toEqual([]);
  });

  it("refuses an invalid fault configuration", async () => {
    await expect(ctx.account.setFaults({ errorRate: 2 } as never)).rejects.toThrow(/400/);
  });
});
