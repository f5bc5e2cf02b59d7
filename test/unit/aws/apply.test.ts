import {
  CreateAddonCommand,
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  InvalidParameterException,
  ListAddonsCommand,
  ListPodIdentityAssociationsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { type ApplyOptions, applyChanges, ensureAgent } from "../../../functions/aws/apply.js";
import type { DesiredAssociation } from "../../../functions/core/model.js";
import { association } from "../../support/fleet.js";

const eks = mockClient(EKSClient);
const desired: DesiredAssociation = {
  clusterName: "prod",
  namespace: "orders",
  serviceAccount: "api",
  roleArn: "arn:aws:iam::123456789012:role/api",
  source: "api",
  disableSessionTags: false,
};
const meta = { $metadata: {}, message: "x" };

function options(sleeps: number[] = []): ApplyOptions {
  return {
    concurrency: 2,
    roleVisibilityAttempts: 4,
    backoffBaseMs: 500,
    sleep: async (ms) => void sleeps.push(ms),
  };
}

beforeEach(() => {
  eks.reset();
});

describe("applyChanges", () => {
  it("creates with the ownership tags", async () => {
    eks.on(CreatePodIdentityAssociationCommand).resolves({ association: { associationId: "a-1" } });

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options());

    expect(outcome).toMatchObject({ status: "done", associationId: "a-1" });
    expect(eks).toHaveReceivedCommandWith(CreatePodIdentityAssociationCommand, {
      clusterName: "prod",
      tags: { "pod-identity/managed-by": "pod-identity-autopilot", "pod-identity/source": "api" },
    });
  });

  it("retries a role EKS cannot see yet with exponential back-off, then gives up with a classified error", async () => {
    const sleeps: number[] = [];
    eks
      .on(CreatePodIdentityAssociationCommand)
      .rejects(new InvalidParameterException({ ...meta, message: "Role does not exist" }));

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options(sleeps));

    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(eks).toHaveReceivedCommandTimes(CreatePodIdentityAssociationCommand, 4);
    expect(outcome).toMatchObject({ status: "failed", error: expect.stringMatching(/^TransientError/) });
  });

  it("does not retry an InvalidParameterException that is not about the role", async () => {
    eks
      .on(CreatePodIdentityAssociationCommand)
      .rejects(new InvalidParameterException({ ...meta, message: "Invalid namespace" }));

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options());

    expect(eks).toHaveReceivedCommandTimes(CreatePodIdentityAssociationCommand, 1);
    expect(outcome?.status).toBe("failed");
  });

  it("converges on 409: an identical managed association is fine, a different one is updated", async () => {
    const existing = association("prod", "orders", "api", "old", { source: "api" });
    eks.on(CreatePodIdentityAssociationCommand).rejects(new ResourceInUseException(meta));
    eks
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [{ associationId: existing.associationId }] });
    eks.on(DescribePodIdentityAssociationCommand).resolves({ association: existing });
    eks.on(UpdatePodIdentityAssociationCommand).resolves({});

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options());

    expect(outcome).toMatchObject({ status: "converged", associationId: existing.associationId });
    expect(eks).toHaveReceivedCommandWith(UpdatePodIdentityAssociationCommand, {
      roleArn: desired.roleArn,
      targetRoleArn: "",
    });
  });

  it("refuses to take over an unmanaged association found on 409", async () => {
    const existing = association("prod", "orders", "api", "manual", { managed: false });
    eks.on(CreatePodIdentityAssociationCommand).rejects(new ResourceInUseException(meta));
    eks
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [{ associationId: existing.associationId }] });
    eks.on(DescribePodIdentityAssociationCommand).resolves({ association: existing });

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options());

    expect(outcome).toMatchObject({ status: "failed", error: expect.stringMatching(/not managed/) });
    expect(eks).not.toHaveReceivedCommand(UpdatePodIdentityAssociationCommand);
  });

  it("treats 404 on delete as done", async () => {
    eks.on(DeletePodIdentityAssociationCommand).rejects(new ResourceNotFoundException(meta));
    const actual = association("prod", "orders", "api", "api");

    const [outcome] = await applyChanges(
      new EKSClient({}),
      [{ kind: "delete", actual, reason: "gone" }],
      options(),
    );

    expect(outcome?.status).toBe("converged");
  });

  it("recreates an association deleted between plan and update, and re-tags on source change", async () => {
    const actual = association("prod", "orders", "api", "old", { source: "old" });
    eks.on(UpdatePodIdentityAssociationCommand).rejectsOnce(new ResourceNotFoundException(meta)).resolves({});
    eks.on(CreatePodIdentityAssociationCommand).resolves({ association: { associationId: "a-new" } });

    const [outcome] = await applyChanges(
      new EKSClient({}),
      [{ kind: "update", desired, actual, changes: ["roleArn"], adopt: false }],
      options(),
    );

    expect(outcome).toMatchObject({ status: "done", associationId: "a-new" });
  });

  it("tags an adopted association after updating it", async () => {
    const actual = association("prod", "orders", "api", "api", { managed: false });
    eks.on(UpdatePodIdentityAssociationCommand).resolves({});
    eks.on(TagResourceCommand).resolves({});

    await applyChanges(
      new EKSClient({}),
      [{ kind: "update", desired, actual, changes: ["adopt"], adopt: true }],
      options(),
    );

    expect(eks).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: actual.associationArn,
      tags: { "pod-identity/managed-by": "pod-identity-autopilot", "pod-identity/source": "api" },
    });
  });

  it("keeps going when one change fails", async () => {
    eks.on(DeletePodIdentityAssociationCommand).rejects(new Error("boom"));
    eks.on(CreatePodIdentityAssociationCommand).resolves({ association: { associationId: "a-2" } });

    const outcomes = await applyChanges(
      new EKSClient({}),
      [
        { kind: "delete", actual: association("prod", "x", "y", "z"), reason: "gone" },
        { kind: "create", desired },
      ],
      options(),
    );

    expect(outcomes.map((o) => o.status)).toEqual(["failed", "done"]);
  });
});

describe("ensureAgent", () => {
  it("installs eks-pod-identity-agent only where it is missing", async () => {
    eks
      .on(ListAddonsCommand, { clusterName: "with" })
      .resolves({ addons: ["vpc-cni", "eks-pod-identity-agent"] });
    eks.on(ListAddonsCommand, { clusterName: "without" }).resolves({ addons: ["vpc-cni"] });
    eks.on(CreateAddonCommand).resolves({});

    expect(await ensureAgent(new EKSClient({}), "with")).toBe(false);
    expect(await ensureAgent(new EKSClient({}), "without")).toBe(true);
    expect(eks).toHaveReceivedCommandTimes(CreateAddonCommand, 1);
  });
});
