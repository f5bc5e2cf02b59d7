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
import type { RoleCheck } from "../../../functions/aws/role-check.js";
import type { DesiredAssociation } from "../../../functions/core/model.js";
import { association, roleArnOf } from "../../support/fleet.js";

const eks = mockClient(EKSClient);
const desired: DesiredAssociation = {
  clusterName: "prod",
  namespace: "orders",
  serviceAccount: "api",
  roleArn: roleArnOf("api"),
  source: "api",
  disableSessionTags: false,
};
const meta = { $metadata: {}, message: "x" };

const propagating: RoleCheck = async () => ({ kind: "propagating" });

function options(sleeps: number[] = [], roleCheck: RoleCheck = propagating): ApplyOptions {
  return {
    concurrency: 2,
    roleVisibilityAttempts: 4,
    backoffBaseMs: 500,
    sleep: async (ms) => void sleeps.push(ms),
    roleCheck,
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

  it("retries a role EKS cannot see yet (IAM has it) with exponential back-off, then gives up with a classified error", async () => {
    const sleeps: number[] = [];
    eks
      .on(CreatePodIdentityAssociationCommand)
      .rejects(
        new InvalidParameterException({ ...meta, message: "Role provided in the request does not exist." }),
      );

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options(sleeps));

    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(eks).toHaveReceivedCommandTimes(CreatePodIdentityAssociationCommand, 4);
    expect(outcome).toMatchObject({ status: "failed", error: expect.stringMatching(/^TransientError/) });
  });

  it.each([
    "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.",
    "Cross-account pass role is not allowed",
    "Role provided in the request does not exist.",
  ])(
    "fails at once, with IAM's reason, when EKS refuses a role that IAM confirms is unusable: %s",
    async (message) => {
      // Prepare: the role check (IAM re-read) says the refusal is permanent
      const sleeps: number[] = [];
      eks
        .on(CreatePodIdentityAssociationCommand)
        .rejects(new InvalidParameterException({ ...meta, message }));
      const permanent: RoleCheck = async () => ({
        kind: "permanent",
        reason: "the trust policy lacks pods.eks",
      });

      // Act
      const [outcome] = await applyChanges(
        new EKSClient({}),
        [{ kind: "create", desired }],
        options(sleeps, permanent),
      );

      // Assess
      expect(eks).toHaveReceivedCommandTimes(CreatePodIdentityAssociationCommand, 1);
      expect(sleeps).toEqual([]);
      expect(outcome).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/^RefusedError: .*the trust policy lacks pods.eks/),
      });
    },
  );

  it("does not retry without a role check, and passes other errors through", async () => {
    eks
      .on(CreatePodIdentityAssociationCommand)
      .rejectsOnce(new InvalidParameterException({ ...meta, message: "Role does not exist" }))
      .rejects(new ResourceNotFoundException({ ...meta, message: "No cluster found" }));
    const { roleCheck: _, ...withoutCheck } = options();

    const [first] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], withoutCheck);
    const [second] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options());

    expect(eks).toHaveReceivedCommandTimes(CreatePodIdentityAssociationCommand, 2);
    expect(first).toMatchObject({ status: "failed", error: expect.stringMatching(/^RefusedError/) });
    expect(second).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/^ResourceNotFoundException/),
    });
  });

  it("repairs only a missing source tag with TagResource, never a no-op Update (the model: an update must change something)", async () => {
    // Prepare: the association already has the desired role; only pod-identity/source is stale
    const actual = association("prod", "orders", "api", "api", { source: "old" });
    eks.on(UpdatePodIdentityAssociationCommand).resolves({});
    eks.on(TagResourceCommand).resolves({});

    // Act
    const [outcome] = await applyChanges(
      new EKSClient({}),
      [{ kind: "update", desired, actual, changes: ["source"], adopt: false }],
      options(),
    );

    // Assess
    expect(outcome).toMatchObject({ status: "done" });
    expect(eks).not.toHaveReceivedCommand(UpdatePodIdentityAssociationCommand);
    expect(eks).toHaveReceivedCommandWith(TagResourceCommand, {
      resourceArn: actual.associationArn,
      tags: { "pod-identity/managed-by": "pod-identity-autopilot", "pod-identity/source": "api" },
    });
  });

  it("converges on 409 with an identical association whose source tag is missing: TagResource only", async () => {
    const existing = association("prod", "orders", "api", "api", { source: "api" });
    delete existing.tags!["pod-identity/source"];
    eks.on(CreatePodIdentityAssociationCommand).rejects(new ResourceInUseException(meta));
    eks
      .on(ListPodIdentityAssociationsCommand)
      .resolves({ associations: [{ associationId: existing.associationId }] });
    eks.on(DescribePodIdentityAssociationCommand).resolves({ association: existing });
    eks.on(TagResourceCommand).resolves({});

    const [outcome] = await applyChanges(new EKSClient({}), [{ kind: "create", desired }], options());

    expect(outcome).toMatchObject({ status: "converged" });
    expect(eks).not.toHaveReceivedCommand(UpdatePodIdentityAssociationCommand);
    expect(eks).toHaveReceivedCommandTimes(TagResourceCommand, 1);
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

  it("adopts an identical unmanaged association by tagging it, without an Update", async () => {
    const actual = association("prod", "orders", "api", "api", { managed: false });
    eks.on(UpdatePodIdentityAssociationCommand).resolves({});
    eks.on(TagResourceCommand).resolves({});

    await applyChanges(
      new EKSClient({}),
      [{ kind: "update", desired, actual, changes: ["adopt"], adopt: true }],
      options(),
    );

    expect(eks).not.toHaveReceivedCommand(UpdatePodIdentityAssociationCommand);
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
