import {
  CreatePodIdentityAssociationCommand,
  DeleteClusterCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListPodIdentityAssociationsCommand,
  ResourceInUseException,
  ResourceLimitExceededException,
  ResourceNotFoundException,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import pLimit from "p-limit";
import { describe, expect, it } from "vitest";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();
const clients = () => clientsFor(ctx.account.endpoint);
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;

describe("Pod Identity associations: shapes and lifecycle", () => {
  it("creates, describes, updates and deletes with every field of the API model", async () => {
    // Prepare
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");
    await createRole(c.iam, "app-v2");

    // Act
    const created = await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "payments",
        serviceAccount: "api",
        roleArn: roleArn("app"),
        tags: { owner: "team-a" },
        targetRoleArn: "arn:aws:iam::210987654321:role/data-access",
      }),
    );
    const a = created.association!;
    const described = await c.eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: "alpha", associationId: a.associationId }),
    );
    const updated = await c.eks.send(
      new UpdatePodIdentityAssociationCommand({
        clusterName: "alpha",
        associationId: a.associationId,
        roleArn: roleArn("app-v2"),
        disableSessionTags: true,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
        }),
        targetRoleArn: "",
      }),
    );
    const deleted = await c.eks.send(
      new DeletePodIdentityAssociationCommand({ clusterName: "alpha", associationId: a.associationId }),
    );

    // Assess
    expect(a.associationId).toMatch(/^a-[a-z0-9]{17}$/);
    expect(a.associationArn).toBe(
      `arn:aws:eks:us-east-1:${ACCOUNT_ID}:podidentityassociation/alpha/${a.associationId}`,
    );
    expect(a).toMatchObject({
      clusterName: "alpha",
      namespace: "payments",
      serviceAccount: "api",
      roleArn: roleArn("app"),
      tags: { owner: "team-a" },
      disableSessionTags: false,
      targetRoleArn: "arn:aws:iam::210987654321:role/data-access",
    });
    // region/account/cluster/namespace/serviceaccount (EKS User Guide pod-id-assign-target-role)
    expect(a.externalId).toBe(`us-east-1/${ACCOUNT_ID}/alpha/payments/api`);
    expect(a.createdAt).toBeInstanceOf(Date);
    expect(a.ownerArn).toBeUndefined();
    expect(described.association).toEqual(a);
    expect(updated.association).toMatchObject({ roleArn: roleArn("app-v2"), disableSessionTags: true });
    expect(updated.association?.targetRoleArn).toBeUndefined();
    expect(updated.association?.externalId).toBeUndefined();
    expect(updated.association?.policy).toContain("s3:GetObject");
    expect(updated.association!.modifiedAt!.getTime()).toBeGreaterThanOrEqual(a.createdAt!.getTime());
    expect(deleted.association?.associationId).toBe(a.associationId);
    await expect(
      c.eks.send(
        new DescribePodIdentityAssociationCommand({ clusterName: "alpha", associationId: a.associationId }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("answers a second association for the same service account with ResourceInUseException (409)", async () => {
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");
    const input = { clusterName: "alpha", namespace: "ns", serviceAccount: "sa", roleArn: roleArn("app") };
    await c.eks.send(new CreatePodIdentityAssociationCommand(input));

    const second = c.eks.send(new CreatePodIdentityAssociationCommand(input));

    await expect(second).rejects.toBeInstanceOf(ResourceInUseException);
    await expect(second).rejects.toMatchObject({ $metadata: { httpStatusCode: 409 } });
  });

  it("answers unknown clusters and associations with ResourceNotFoundException (404)", async () => {
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");

    const unknownCluster = c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "nope" }));
    const unknownAssociation = c.eks.send(
      new DeletePodIdentityAssociationCommand({ clusterName: "alpha", associationId: "a-00000000000000000" }),
    );

    await expect(unknownCluster).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(unknownAssociation).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      $metadata: { httpStatusCode: 404 },
    });
  });

  it.each([
    ["a role that does not exist", { roleArn: roleArn("missing") }],
    ["a role in another account", { roleArn: "arn:aws:iam::111111111111:role/app" }],
    ["a malformed role ARN", { roleArn: "app" }],
    ["a namespace that is not a DNS-1123 label", { namespace: "Bad_NS" }],
    ["a service account that is not a DNS-1123 subdomain", { serviceAccount: "-sa" }],
    ["a session policy without disableSessionTags", { policy: '{"Version":"2012-10-17","Statement":[]}' }],
  ])("refuses %s with InvalidParameterException", async (_label, override) => {
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");

    const attempt = c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "ns",
        serviceAccount: "sa",
        roleArn: roleArn("app"),
        ...override,
      }),
    );

    await expect(attempt).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("checks the trust policy: pods.eks.amazonaws.com with AssumeRole, and TagSession unless disabled", async () => {
    const c = clients();
    await createCluster(c, "alpha");
    const assumeOnly = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    });
    const ec2 = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: ["sts:*"] }],
    });
    await createRole(c.iam, "assume-only", { trust: assumeOnly });
    await createRole(c.iam, "ec2", { trust: ec2 });
    const base = { clusterName: "alpha", namespace: "ns", roleArn: roleArn("assume-only") };

    const withTags = await c.eks
      .send(new CreatePodIdentityAssociationCommand({ ...base, serviceAccount: "a" }))
      .catch((e: unknown) => e);
    const withoutTags = await c.eks.send(
      new CreatePodIdentityAssociationCommand({ ...base, serviceAccount: "b", disableSessionTags: true }),
    );
    const wrongService = await c.eks
      .send(
        new CreatePodIdentityAssociationCommand({ ...base, serviceAccount: "c", roleArn: roleArn("ec2") }),
      )
      .catch((e: unknown) => e);

    expect(withTags).toBeInstanceOf(InvalidParameterException);
    // the real message (terraform-provider-aws#41483)
    expect((withTags as Error).message).toBe(
      "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.",
    );
    expect(withoutTags.association?.disableSessionTags).toBe(true);
    expect(wrongService).toBeInstanceOf(InvalidParameterException);
  });

  it("refuses an Update that changes nothing when rejectNoOpUpdates is on (model: change at least one)", async () => {
    // Prepare
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");
    await createRole(c.iam, "app-v2");
    const { association } = await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "ns",
        serviceAccount: "sa",
        roleArn: roleArn("app"),
      }),
    );
    const update = (input: Record<string, unknown>) =>
      c.eks
        .send(
          new UpdatePodIdentityAssociationCommand({
            clusterName: "alpha",
            associationId: association!.associationId!,
            ...input,
          }),
        )
        .catch((e: unknown) => e);

    // Act
    const lenient = await update({ roleArn: roleArn("app") });
    await ctx.account.setFaults({ rejectNoOpUpdates: true });
    const same = await update({ roleArn: roleArn("app"), disableSessionTags: false, targetRoleArn: "" });
    const empty = await update({});
    const changed = await update({ roleArn: roleArn("app-v2") });

    // Assess
    expect(lenient).toMatchObject({ association: { roleArn: roleArn("app") } });
    expect(same).toBeInstanceOf(InvalidParameterException);
    expect(empty).toBeInstanceOf(InvalidParameterException);
    expect(changed).toMatchObject({ association: { roleArn: roleArn("app-v2") } });
  });

  it("honours clientRequestToken: a retry returns the same association, other parameters are refused", async () => {
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");
    const input = {
      clusterName: "alpha",
      namespace: "ns",
      serviceAccount: "sa",
      roleArn: roleArn("app"),
      clientRequestToken: "token-1",
    };

    const first = await c.eks.send(new CreatePodIdentityAssociationCommand(input));
    const retry = await c.eks.send(new CreatePodIdentityAssociationCommand(input));
    const mismatch = c.eks.send(
      new CreatePodIdentityAssociationCommand({ ...input, serviceAccount: "other" }),
    );

    expect(retry.association?.associationId).toBe(first.association?.associationId);
    await expect(mismatch).rejects.toBeInstanceOf(InvalidRequestException);
  });
});

describe("ListPodIdentityAssociations", () => {
  it("pages with maxResults and nextToken and filters by namespace and service account", async () => {
    // Prepare
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");
    for (let i = 0; i < 7; i++) {
      await c.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: "alpha",
          namespace: i % 2 === 0 ? "even" : "odd",
          serviceAccount: `sa-${i}`,
          roleArn: roleArn("app"),
        }),
      );
    }

    // Act
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await c.eks.send(
        new ListPodIdentityAssociationsCommand({ clusterName: "alpha", maxResults: 3, nextToken }),
      );
      pages.push((page.associations ?? []).map((a) => a.serviceAccount!));
      nextToken = page.nextToken;
    } while (nextToken);
    const even = await c.eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: "alpha", namespace: "even" }),
    );
    const one = await c.eks.send(
      new ListPodIdentityAssociationsCommand({
        clusterName: "alpha",
        namespace: "odd",
        serviceAccount: "sa-3",
      }),
    );

    // Assess
    expect(pages).toEqual([["sa-0", "sa-1", "sa-2"], ["sa-3", "sa-4", "sa-5"], ["sa-6"]]);
    expect(even.associations?.map((a) => a.serviceAccount)).toEqual(["sa-0", "sa-2", "sa-4", "sa-6"]);
    expect(even.nextToken).toBeUndefined();
    expect(one.associations).toHaveLength(1);
    expect(Object.keys(one.associations![0]!).sort()).toEqual(
      ["associationArn", "associationId", "clusterName", "namespace", "serviceAccount"].sort(),
    );
  });

  it.each([0, 101])("refuses maxResults %i", async (maxResults) => {
    const c = clients();
    await createCluster(c, "alpha");
    await expect(
      c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha", maxResults })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("refuses a nextToken it did not issue", async () => {
    const c = clients();
    await createCluster(c, "alpha");
    await expect(
      c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha", nextToken: "garbage" })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe("limits and cluster lifecycle", () => {
  it("refuses the 5,001st association of a cluster with ResourceLimitExceededException", async () => {
    // Prepare: 5,000 associations through the API
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "big");
    await createRole(c.iam, "app");
    const limit = pLimit(16);
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        limit(() =>
          c.eks.send(
            new CreatePodIdentityAssociationCommand({
              clusterName: "big",
              namespace: `ns-${Math.floor(i / 100)}`,
              serviceAccount: `sa-${i % 100}`,
              roleArn: roleArn("app"),
            }),
          ),
        ),
      ),
    );

    // Act
    const extra = c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "big",
        namespace: "one-more",
        serviceAccount: "sa",
        roleArn: roleArn("app"),
      }),
    );

    // Assess
    await expect(extra).rejects.toBeInstanceOf(ResourceLimitExceededException);
  }, 180_000);

  it("deletes a cluster's associations with the cluster", async () => {
    const c = clients();
    await createCluster(c, "alpha");
    await createRole(c.iam, "app");
    await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "ns",
        serviceAccount: "sa",
        roleArn: roleArn("app"),
      }),
    );

    await c.eks.send(new DeleteClusterCommand({ name: "alpha" }));
    await createCluster(c, "alpha");
    const listed = await c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha" }));

    expect(listed.associations).toEqual([]);
  });
});
