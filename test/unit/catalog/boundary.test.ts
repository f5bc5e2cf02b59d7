import { describe, expect, it } from "vitest";
import { CATALOG } from "../../../functions/core/catalog.js";
import { catalogBoundaryPolicy } from "../../../functions/core/catalog-boundary.js";
import { catalogActions } from "../../../functions/core/catalog-policy.js";
import { isAllowed } from "../../../functions/core/iam/index.js";

const adminPolicy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
const boundary = [catalogBoundaryPolicy()];
const can = (action: string, resource = "*") => isAllowed([adminPolicy], { action, resource }, { boundary });

describe("the catalog permissions boundary", () => {
  it("caps even an administrator policy: no IAM writes, no role assumption, no keys, no association writes", () => {
    for (const action of [
      "iam:CreateRole",
      "iam:AttachRolePolicy",
      "iam:PutRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:CreateAccessKey",
      "sts:AssumeRole",
      "kms:Decrypt",
      "eks:CreatePodIdentityAssociation",
      "organizations:LeaveOrganization",
      "lambda:UpdateFunctionCode",
    ])
      expect(can(action), action).toBe(false);
    expect(can("iam:PassRole", "arn:aws:iam::111122223333:role/Admin")).toBe(false);
    expect(can("iam:PassRole", "arn:aws:iam::111122223333:role/KarpenterNodeRole-alpha")).toBe(true);
  });

  it("lets through every action the catalog's inline policies name", () => {
    for (const entry of CATALOG)
      for (const action of catalogActions(entry)) {
        const resource =
          action === "iam:PassRole" ? "arn:aws:iam::111122223333:role/KarpenterNodeRole-a" : "*";
        expect(can(action, resource), `${entry.name}: ${action}`).toBe(true);
      }
  });
});
