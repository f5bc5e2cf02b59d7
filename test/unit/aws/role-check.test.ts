import { GetRoleCommand, IAMClient, NoSuchEntityException } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { iamRoleCheck, roleArnProblem } from "../../../functions/aws/role-check.js";
import { irsaStatement, podsStatement, policy } from "../../support/policies.js";

const iam = mockClient(IAMClient);
const ACCOUNT = "123456789012";
const ARN = `arn:aws:iam::${ACCOUNT}:role/team/api`;
const role = (arn: string, trust: string) => ({
  Role: {
    Arn: arn,
    RoleName: "api",
    Path: "/team/",
    RoleId: "AROAEXAMPLE",
    CreateDate: new Date(),
    AssumeRolePolicyDocument: encodeURIComponent(trust),
  },
});

beforeEach(() => {
  iam.reset();
});

describe("iamRoleCheck: IAM propagation or a permanent refusal, decided from IAM, not from EKS's message", () => {
  it("propagating: the role exists at exactly that ARN and its trust is what EKS checks at create", async () => {
    iam.on(GetRoleCommand).resolves(role(ARN, policy(podsStatement())));

    expect(await iamRoleCheck(new IAMClient({}), ACCOUNT)(ARN, { disableSessionTags: false })).toEqual({
      kind: "propagating",
    });
  });

  it.each([
    ["an IRSA-only trust", policy(irsaStatement()), false, /refused by EKS/],
    [
      "no sts:TagSession with session tags on",
      policy(podsStatement({ Action: "sts:AssumeRole" })),
      false,
      /TagSession/,
    ],
  ])("permanent: %s", async (_label, trust, disableSessionTags, reason) => {
    iam.on(GetRoleCommand).resolves(role(ARN, trust));

    const verdict = await iamRoleCheck(new IAMClient({}), ACCOUNT)(ARN, { disableSessionTags });

    expect(verdict).toMatchObject({ kind: "permanent", reason: expect.stringMatching(reason) });
  });

  it("permanent: no such role, or the role lives at another path than the ARN says", async () => {
    iam
      .on(GetRoleCommand, { RoleName: "gone" })
      .rejects(new NoSuchEntityException({ $metadata: {}, message: "x" }));
    iam
      .on(GetRoleCommand, { RoleName: "api" })
      .resolves(role(`arn:aws:iam::${ACCOUNT}:role/api`, policy(podsStatement())));
    const check = iamRoleCheck(new IAMClient({}), ACCOUNT);

    expect(await check(`arn:aws:iam::${ACCOUNT}:role/gone`, { disableSessionTags: false })).toMatchObject({
      kind: "permanent",
      reason: expect.stringMatching(/does not exist/),
    });
    expect(await check(ARN, { disableSessionTags: false })).toMatchObject({
      kind: "permanent",
      reason: expect.stringMatching(/no role has the ARN/),
    });
  });

  it("permanent without an IAM call: an invalid ARN, or a role in another account (cross-account pass role)", async () => {
    const check = iamRoleCheck(new IAMClient({}), ACCOUNT);

    expect(await check("arn:aws:iam::12:role/x", { disableSessionTags: false })).toMatchObject({
      kind: "permanent",
    });
    expect(await check("arn:aws:iam::999999999999:role/x", { disableSessionTags: false })).toMatchObject({
      kind: "permanent",
      reason: expect.stringMatching(/account 999999999999/),
    });
    expect(iam).not.toHaveReceivedCommand(GetRoleCommand);
    expect(roleArnProblem(`arn:aws-us-gov:iam::${ACCOUNT}:role/a/b/c`)).toBeUndefined();
    expect(roleArnProblem(`arn:aws:iam::${ACCOUNT}:user/c`)).toMatch(/not an IAM role ARN/);
  });
});
