import {
  CreateAddonCommand,
  DeleteAddonCommand,
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  InvalidParameterException,
  ListAddonsCommand,
  ListPodIdentityAssociationsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateAddonCommand,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;

describe("EKS add-ons", () => {
  it("installs eks-pod-identity-agent and lists and describes it", async () => {
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");

    const created = await c.eks.send(
      new CreateAddonCommand({ clusterName: "alpha", addonName: "eks-pod-identity-agent" }),
    );
    const listed = await c.eks.send(new ListAddonsCommand({ clusterName: "alpha" }));
    const described = await c.eks.send(
      new DescribeAddonCommand({ clusterName: "alpha", addonName: "eks-pod-identity-agent" }),
    );

    expect(created.addon).toMatchObject({
      addonName: "eks-pod-identity-agent",
      clusterName: "alpha",
      status: "CREATING",
    });
    expect(described.addon?.status).toBe("ACTIVE");
    expect(created.addon?.addonArn).toMatch(
      new RegExp(`^arn:aws:eks:us-east-1:${ACCOUNT_ID}:addon/alpha/eks-pod-identity-agent/[0-9a-f-]{36}$`),
    );
    expect(listed.addons).toEqual(["eks-pod-identity-agent"]);
    expect(described.addon?.addonVersion).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
  });

  it("refuses unknown add-ons, duplicates, and unknown clusters", async () => {
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await c.eks.send(new CreateAddonCommand({ clusterName: "alpha", addonName: "vpc-cni" }));

    await expect(
      c.eks.send(new CreateAddonCommand({ clusterName: "alpha", addonName: "not-an-addon" })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      c.eks.send(new CreateAddonCommand({ clusterName: "alpha", addonName: "vpc-cni" })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
    await expect(c.eks.send(new ListAddonsCommand({ clusterName: "nope" }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      c.eks.send(new DescribeAddonCommand({ clusterName: "alpha", addonName: "coredns" })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("creates add-on-owned associations (ownerArn) that the add-on and direct calls may change", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "ebs");
    await createRole(c.iam, "ebs-v2");

    // Act
    const created = await c.eks.send(
      new CreateAddonCommand({
        clusterName: "alpha",
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [{ serviceAccount: "ebs-csi-controller-sa", roleArn: roleArn("ebs") }],
      }),
    );
    const [summary] = (await c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha" })))
      .associations!;
    const direct = await c.eks
      .send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: "alpha",
          associationId: summary!.associationId,
          roleArn: roleArn("ebs-v2"),
        }),
      )
      .catch((e: unknown) => e);
    const update = await c.eks.send(
      new UpdateAddonCommand({
        clusterName: "alpha",
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [{ serviceAccount: "ebs-csi-controller-sa", roleArn: roleArn("ebs-v2") }],
      }),
    );
    const afterUpdate = await c.eks.send(
      new DescribePodIdentityAssociationCommand({
        clusterName: "alpha",
        associationId: summary!.associationId,
      }),
    );

    const directDelete = await c.eks
      .send(
        new DeletePodIdentityAssociationCommand({
          clusterName: "alpha",
          associationId: summary!.associationId,
        }),
      )
      .catch((e: unknown) => e);
    const afterDelete = await c.eks.send(
      new DescribeAddonCommand({ clusterName: "alpha", addonName: "aws-ebs-csi-driver" }),
    );

    // Assess
    expect(created.addon?.podIdentityAssociations).toEqual([summary!.associationArn]);
    expect(summary).toMatchObject({
      namespace: "kube-system",
      serviceAccount: "ebs-csi-controller-sa",
      ownerArn: created.addon?.addonArn,
    });
    // EKS User Guide add-ons-iam: "You also can directly update or delete the pod identity association"
    expect(direct).toMatchObject({
      association: { roleArn: roleArn("ebs-v2"), ownerArn: created.addon?.addonArn },
    });
    expect(directDelete).toMatchObject({ association: { associationId: summary!.associationId } });
    expect(update.update).toMatchObject({ type: "AddonUpdate", status: "InProgress" });
    expect(afterUpdate.association).toMatchObject({
      roleArn: roleArn("ebs-v2"),
      ownerArn: created.addon?.addonArn,
    });
    expect(afterDelete.addon?.podIdentityAssociations).toEqual([]);
  });

  it("removes owned associations when UpdateAddon drops them or the add-on is deleted", async () => {
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "cw");
    await createRole(c.iam, "ebs");
    await c.eks.send(
      new CreateAddonCommand({
        clusterName: "alpha",
        addonName: "amazon-cloudwatch-observability",
        podIdentityAssociations: [{ serviceAccount: "cloudwatch-agent", roleArn: roleArn("cw") }],
      }),
    );
    await c.eks.send(
      new CreateAddonCommand({
        clusterName: "alpha",
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [{ serviceAccount: "ebs-csi-controller-sa", roleArn: roleArn("ebs") }],
      }),
    );

    await c.eks.send(
      new UpdateAddonCommand({
        clusterName: "alpha",
        addonName: "amazon-cloudwatch-observability",
        podIdentityAssociations: [],
      }),
    );
    await c.eks.send(new DeleteAddonCommand({ clusterName: "alpha", addonName: "aws-ebs-csi-driver" }));
    const listed = await c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha" }));

    expect(listed.associations).toEqual([]);
  });

  it("keeps the owned associations when DeleteAddon is called with preserve", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "ebs");
    const created = await c.eks.send(
      new CreateAddonCommand({
        clusterName: "alpha",
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [{ serviceAccount: "ebs-csi-controller-sa", roleArn: roleArn("ebs") }],
      }),
    );

    // Act
    const deleted = await c.eks.send(
      new DeleteAddonCommand({ clusterName: "alpha", addonName: "aws-ebs-csi-driver", preserve: true }),
    );
    const listed = await c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha" }));

    // Assess: "You can prevent this cascading delete by using the preserve option" (UG add-ons-iam)
    expect(deleted.addon?.status).toBe("DELETING");
    expect(listed.associations).toEqual([
      expect.objectContaining({ serviceAccount: "ebs-csi-controller-sa", ownerArn: created.addon?.addonArn }),
    ]);
  });

  it("refuses a pod identity association for a service account the add-on does not use", async () => {
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "ebs");

    const attempt = c.eks.send(
      new CreateAddonCommand({
        clusterName: "alpha",
        addonName: "aws-ebs-csi-driver",
        podIdentityAssociations: [{ serviceAccount: "someone-else", roleArn: roleArn("ebs") }],
      }),
    );

    await expect(attempt).rejects.toBeInstanceOf(InvalidParameterException);
    expect((await c.eks.send(new ListAddonsCommand({ clusterName: "alpha" }))).addons).toEqual([]);
  });
});
