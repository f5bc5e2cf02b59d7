import {
  BadRequestException,
  CreateAddonCommand,
  CreatePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  ListTagsForResourceCommand,
  NotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();

describe("EKS TagResource / UntagResource / ListTagsForResource", () => {
  it("tags a pod identity association by its ARN; Describe shows the tags", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    const roleArn = await createRole(c.iam, "app");
    const { association } = await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "ns",
        serviceAccount: "sa",
        roleArn,
        tags: { keep: "1", drop: "2" },
      }),
    );
    const resourceArn = association!.associationArn!;

    // Act
    await c.eks.send(new TagResourceCommand({ resourceArn, tags: { "pod-identity/source": "app" } }));
    await c.eks.send(new UntagResourceCommand({ resourceArn, tagKeys: ["drop"] }));
    const listed = await c.eks.send(new ListTagsForResourceCommand({ resourceArn }));
    const described = await c.eks.send(
      new DescribePodIdentityAssociationCommand({
        clusterName: "alpha",
        associationId: association!.associationId,
      }),
    );

    // Assess
    expect(listed.tags).toEqual({ keep: "1", "pod-identity/source": "app" });
    expect(described.association?.tags).toEqual({ keep: "1", "pod-identity/source": "app" });
  });

  it("answers the modelled errors: NotFoundException for an unknown association, BadRequestException for aws: keys", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    const roleArn = await createRole(c.iam, "app");
    const { association } = await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "ns",
        serviceAccount: "sa",
        roleArn,
      }),
    );
    const missing = `arn:aws:eks:us-east-1:${ACCOUNT_ID}:podidentityassociation/alpha/a-00000000000000000`;

    // Act
    const unknown = await c.eks
      .send(new TagResourceCommand({ resourceArn: missing, tags: { a: "b" } }))
      .catch((e: unknown) => e);
    const unknownList = await c.eks
      .send(new ListTagsForResourceCommand({ resourceArn: missing }))
      .catch((e: unknown) => e);
    const reserved = await c.eks
      .send(new TagResourceCommand({ resourceArn: association!.associationArn!, tags: { "aws:x": "y" } }))
      .catch((e: unknown) => e);
    const unknownCluster = await c.eks
      .send(
        new ListTagsForResourceCommand({ resourceArn: `arn:aws:eks:us-east-1:${ACCOUNT_ID}:cluster/nope` }),
      )
      .catch((e: unknown) => e);

    // Assess
    expect(unknown).toBeInstanceOf(NotFoundException);
    expect(unknownList).toBeInstanceOf(NotFoundException);
    expect(reserved).toBeInstanceOf(BadRequestException);
    expect(unknownCluster).toBeInstanceOf(NotFoundException);
  });

  it("keeps tagging clusters and tags add-ons by their ARNs", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    const clusterArn = await createCluster(c, "alpha", { tags: { team: "a" } });
    const { addon } = await c.eks.send(
      new CreateAddonCommand({ clusterName: "alpha", addonName: "vpc-cni" }),
    );

    // Act
    await c.eks.send(
      new TagResourceCommand({ resourceArn: clusterArn, tags: { "pod-identity/opt-out": "true" } }),
    );
    await c.eks.send(new TagResourceCommand({ resourceArn: addon!.addonArn!, tags: { owner: "net" } }));
    const clusterTags = await c.eks.send(new ListTagsForResourceCommand({ resourceArn: clusterArn }));
    const addonTags = await c.eks.send(new ListTagsForResourceCommand({ resourceArn: addon!.addonArn! }));

    // Assess
    expect(clusterTags.tags).toEqual({ team: "a", "pod-identity/opt-out": "true" });
    expect(addonTags.tags).toEqual({ owner: "net" });
  });
});
