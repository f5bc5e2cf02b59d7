import {
  CreateAddonCommand,
  DescribeAddonCommand,
  DescribeAddonConfigurationCommand,
  DescribeAddonVersionsCommand,
  DescribeUpdateCommand,
  InvalidParameterException,
  ListAddonsCommand,
  ListPodIdentityAssociationsCommand,
  ResourceInUseException,
  UpdateAddonCommand,
} from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const EBS = "aws-ebs-csi-driver";
const EBS_SA = "ebs-csi-controller-sa";
const EBS_WITH_POD_IDENTITY = "v1.44.0-eksbuild.1";
// below v1.26.0-eksbuild.1, the first EBS CSI version with Pod Identity (EKS User Guide add-ons-iam table)
const EBS_WITHOUT_POD_IDENTITY = "v1.25.0-eksbuild.1";

describe("EKS add-on versions and configuration", () => {
  it("lists versions with compatibilities and requiresIamPermissions (DescribeAddonVersions)", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);

    // Act
    const out = await c.eks.send(
      new DescribeAddonVersionsCommand({ addonName: EBS, kubernetesVersion: "1.31" }),
    );

    // Assess
    expect(out.addons).toHaveLength(1);
    const [info] = out.addons!;
    expect(info).toMatchObject({ addonName: EBS, type: "storage", owner: "aws", publisher: "eks" });
    expect(info!.addonVersions!.map((v) => v.addonVersion)).toEqual([
      EBS_WITH_POD_IDENTITY,
      EBS_WITHOUT_POD_IDENTITY,
    ]);
    expect(info!.addonVersions![0]).toMatchObject({
      requiresIamPermissions: true,
      compatibilities: [{ clusterVersion: "1.31", platformVersions: ["*"], defaultVersion: true }],
    });
  });

  it("returns podIdentityConfiguration only for versions that support Pod Identity", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);

    // Act
    const supported = await c.eks.send(
      new DescribeAddonConfigurationCommand({ addonName: EBS, addonVersion: EBS_WITH_POD_IDENTITY }),
    );
    const unsupported = await c.eks.send(
      new DescribeAddonConfigurationCommand({ addonName: EBS, addonVersion: EBS_WITHOUT_POD_IDENTITY }),
    );
    const unknown = await c.eks
      .send(new DescribeAddonConfigurationCommand({ addonName: EBS, addonVersion: "v0.0.1-eksbuild.1" }))
      .catch((e: unknown) => e);

    // Assess: the sample output of the EKS User Guide (add-ons-iam, retreive-iam-info)
    expect(supported).toMatchObject({
      addonName: EBS,
      addonVersion: EBS_WITH_POD_IDENTITY,
      podIdentityConfiguration: [
        {
          serviceAccount: EBS_SA,
          recommendedManagedPolicies: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
        },
      ],
    });
    expect(typeof supported.configurationSchema).toBe("string");
    expect(unsupported.podIdentityConfiguration).toBeUndefined();
    expect(unknown).toBeInstanceOf(InvalidParameterException);
    expect((unknown as Error).message).toBe("Addon version specified is not supported");
  });

  it("refuses Pod Identity associations for a version without Pod Identity support, as EKS does", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "ebs");
    const pods = [{ serviceAccount: EBS_SA, roleArn: roleArn("ebs") }];

    // Act
    const create = await c.eks
      .send(
        new CreateAddonCommand({
          clusterName: "alpha",
          addonName: EBS,
          addonVersion: EBS_WITHOUT_POD_IDENTITY,
          podIdentityAssociations: pods,
        }),
      )
      .catch((e: unknown) => e);
    const plain = await c.eks.send(
      new CreateAddonCommand({
        clusterName: "alpha",
        addonName: EBS,
        addonVersion: EBS_WITHOUT_POD_IDENTITY,
      }),
    );
    const update = await c.eks
      .send(new UpdateAddonCommand({ clusterName: "alpha", addonName: EBS, podIdentityAssociations: pods }))
      .catch((e: unknown) => e);
    const upgrade = await c.eks.send(
      new UpdateAddonCommand({
        clusterName: "alpha",
        addonName: EBS,
        addonVersion: EBS_WITH_POD_IDENTITY,
        podIdentityAssociations: pods,
      }),
    );
    const associations = await c.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: "alpha" }));

    // Assess: message and type as in terraform-aws-eks#3520 / containers-roadmap#2712
    for (const refused of [create, update]) {
      expect(refused).toBeInstanceOf(InvalidParameterException);
      expect((refused as Error).message).toBe(
        `Pod Identity feature is not supported for addon version: ${EBS_WITHOUT_POD_IDENTITY}`,
      );
    }
    expect(plain.addon?.addonVersion).toBe(EBS_WITHOUT_POD_IDENTITY);
    expect(upgrade.update?.params).toEqual(
      expect.arrayContaining([{ type: "AddonVersion", value: EBS_WITH_POD_IDENTITY }]),
    );
    expect(associations.associations?.map((a) => a.serviceAccount)).toEqual([EBS_SA]);
  });

  it("refuses an unknown version and a service account the version does not configure", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "cw");

    // Act
    const version = await c.eks
      .send(
        new CreateAddonCommand({ clusterName: "alpha", addonName: EBS, addonVersion: "v9.9.9-eksbuild.9" }),
      )
      .catch((e: unknown) => e);
    const account = await c.eks
      .send(
        new CreateAddonCommand({
          clusterName: "alpha",
          addonName: "amazon-cloudwatch-observability",
          podIdentityAssociations: [{ serviceAccount: "amazon-cloudwatch", roleArn: roleArn("cw") }],
        }),
      )
      .catch((e: unknown) => e);
    const listed = await c.eks.send(new ListAddonsCommand({ clusterName: "alpha" }));

    // Assess
    expect(version).toBeInstanceOf(InvalidParameterException);
    expect((version as Error).message).toBe("Addon version specified is not supported");
    expect(account).toBeInstanceOf(InvalidParameterException);
    expect((account as Error).message).toBe(
      "Service account amazon-cloudwatch in pod identity configuration is not supported for addon amazon-cloudwatch-observability",
    );
    expect(listed.addons).toEqual([]);
  });

  it("is CREATING, then UPDATING, until the configured time passes on the front's clock", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "ebs");
    await ctx.account.setFaults({ addonTransitionMs: 60_000 });
    const describe = async () =>
      (await c.eks.send(new DescribeAddonCommand({ clusterName: "alpha", addonName: EBS }))).addon?.status;

    // Act
    const created = await c.eks.send(new CreateAddonCommand({ clusterName: "alpha", addonName: EBS }));
    const whileCreating = await describe();
    const refused = await c.eks
      .send(new UpdateAddonCommand({ clusterName: "alpha", addonName: EBS, resolveConflicts: "PRESERVE" }))
      .catch((e: unknown) => e);
    await ctx.account.advanceClock(60_000);
    const afterCreate = await describe();
    const updated = await c.eks.send(
      new UpdateAddonCommand({
        clusterName: "alpha",
        addonName: EBS,
        podIdentityAssociations: [{ serviceAccount: EBS_SA, roleArn: roleArn("ebs") }],
      }),
    );
    const whileUpdating = await describe();
    const progress = await c.eks.send(
      new DescribeUpdateCommand({ name: "alpha", addonName: EBS, updateId: updated.update!.id! }),
    );
    await ctx.account.advanceClock(60_000);
    const afterUpdate = await describe();
    const done = await c.eks.send(
      new DescribeUpdateCommand({ name: "alpha", addonName: EBS, updateId: updated.update!.id! }),
    );

    // Assess
    expect(created.addon?.status).toBe("CREATING");
    expect(whileCreating).toBe("CREATING");
    expect(refused).toBeInstanceOf(ResourceInUseException);
    expect(afterCreate).toBe("ACTIVE");
    expect(updated.update?.status).toBe("InProgress");
    expect(whileUpdating).toBe("UPDATING");
    expect(progress.update?.status).toBe("InProgress");
    expect(afterUpdate).toBe("ACTIVE");
    expect(done.update?.status).toBe("Successful");
  });
});
