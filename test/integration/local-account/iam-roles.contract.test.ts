import { CreatePodIdentityAssociationCommand, InvalidParameterException } from "@aws-sdk/client-eks";
import {
  EntityAlreadyExistsException,
  GetRoleCommand,
  ListRolesCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { irsaTrust, podIdentityTrust } from "../../../local/sample-fleet.js";
import { createCluster, createRole } from "../../support/fixtures.js";
import { ACCOUNT_ID, clientsFor, useLocalAccount } from "../../support/local-account.js";

const ctx = useLocalAccount();
const ROLE_MISSING = "Role provided in the request does not exist.";
const trustOf = async (c: ReturnType<typeof clientsFor>, name: string) =>
  JSON.parse(
    decodeURIComponent(
      (await c.iam.send(new GetRoleCommand({ RoleName: name }))).Role!.AssumeRolePolicyDocument!,
    ),
  ) as unknown;

describe("IAM roles as EKS and IAM resolve them", () => {
  it("checks the role ARN with its path: role/team/x, not role/x", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    const arn = await createRole(c.iam, "App", { path: "/team/" });
    const create = (roleArn: string, serviceAccount: string) =>
      c.eks
        .send(
          new CreatePodIdentityAssociationCommand({
            clusterName: "alpha",
            namespace: "ns",
            serviceAccount,
            roleArn,
          }),
        )
        .catch((e: unknown) => e);

    // Act
    const withoutPath = await create(`arn:aws:iam::${ACCOUNT_ID}:role/App`, "a");
    const otherPath = await create(`arn:aws:iam::${ACCOUNT_ID}:role/other/App`, "b");
    const withPath = await create(arn, "c");

    // Assess
    expect(arn).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/team/App`);
    for (const refused of [withoutPath, otherPath]) {
      expect(refused).toBeInstanceOf(InvalidParameterException);
      expect((refused as Error).message).toBe(ROLE_MISSING);
    }
    expect(withPath).toMatchObject({ association: { roleArn: arn } });
  });

  it("treats role names case-insensitively: no second role `app`, GetRole/TagRole/EKS find `App`", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    await createRole(c.iam, "App");

    // Act
    const duplicate = await createRole(c.iam, "app").catch((e: unknown) => e);
    const got = await c.iam.send(new GetRoleCommand({ RoleName: "APP" }));
    await c.iam.send(new TagRoleCommand({ RoleName: "app", Tags: [{ Key: "k", Value: "v" }] }));
    const tagged = await c.iam.send(new GetRoleCommand({ RoleName: "App" }));
    const associated = await c.eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: "alpha",
        namespace: "ns",
        serviceAccount: "sa",
        roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/app`,
      }),
    );

    // Assess
    expect(duplicate).toBeInstanceOf(EntityAlreadyExistsException);
    expect(got.Role?.RoleName).toBe("App");
    expect(tagged.Role?.Tags).toEqual([{ Key: "k", Value: "v" }]);
    expect(associated.association?.roleArn).toBe(`arn:aws:iam::${ACCOUNT_ID}:role/app`);
  });

  it("returns the previous trust policy from GetRole for the configured time after UpdateAssumeRolePolicy", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createCluster(c, "alpha");
    const irsa = irsaTrust(ACCOUNT_ID, "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", [
      "system:serviceaccount:ns:sa",
    ]);
    await createRole(c.iam, "moving", { trust: irsa });
    await ctx.account.setFaults({ trustPolicyConsistencyDelayMs: 5_000 });

    // Act
    await c.iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: "moving", PolicyDocument: podIdentityTrust() }),
    );
    const stale = await trustOf(c, "moving");
    const staleForEks = await c.eks
      .send(
        new CreatePodIdentityAssociationCommand({
          clusterName: "alpha",
          namespace: "ns",
          serviceAccount: "sa",
          roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/moving`,
        }),
      )
      .catch((e: unknown) => e);
    const listedStale = (await c.iam.send(new ListRolesCommand({}))).Roles?.find(
      (r) => r.RoleName === "moving",
    );
    await ctx.account.advanceClock(5_000);
    const fresh = await trustOf(c, "moving");

    // Assess
    expect(stale).toEqual(JSON.parse(irsa));
    expect(JSON.parse(decodeURIComponent(listedStale!.AssumeRolePolicyDocument!))).toEqual(JSON.parse(irsa));
    expect(staleForEks).toBeInstanceOf(InvalidParameterException);
    expect(fresh).toEqual(JSON.parse(podIdentityTrust()));
  });

  it("returns trust policies URL-encoded from ListRoles, as from GetRole (IAM encodes both)", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createRole(c.iam, "listed", { trust: podIdentityTrust(ACCOUNT_ID) });

    // Act
    const listed = (await c.iam.send(new ListRolesCommand({}))).Roles?.find((r) => r.RoleName === "listed");
    const got = await c.iam.send(new GetRoleCommand({ RoleName: "listed" }));

    // Assess
    expect(listed?.AssumeRolePolicyDocument).toMatch(/^%7B/);
    expect(listed?.AssumeRolePolicyDocument).toBe(got.Role?.AssumeRolePolicyDocument);
    expect(JSON.parse(decodeURIComponent(listed!.AssumeRolePolicyDocument!))).toEqual(
      JSON.parse(podIdentityTrust(ACCOUNT_ID)),
    );
  });

  it("keeps IAM strongly consistent when no delay is configured", async () => {
    // Prepare
    const c = clientsFor(ctx.account.endpoint);
    await createRole(c.iam, "now", { trust: podIdentityTrust(ACCOUNT_ID) });

    // Act
    await c.iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: "now", PolicyDocument: podIdentityTrust() }),
    );

    // Assess
    expect(await trustOf(c, "now")).toEqual(JSON.parse(podIdentityTrust()));
  });
});
