import { describe, expect, it } from "vitest";
import { buildRequest, loadServiceModel, validateResponse, validateShape } from "../support/service-model.js";

const { model } = loadServiceModel("eks");
const association = {
  clusterName: "c",
  namespace: "ns",
  serviceAccount: "sa",
  roleArn: "arn:aws:iam::123456789012:role/r",
  associationArn: "arn:aws:eks:us-east-1:123456789012:podidentityassociation/c/a-00000000000000000",
  associationId: "a-00000000000000000",
  tags: {},
  createdAt: 1700000000.5,
  modifiedAt: 1700000000.5,
};
const ok = (body: unknown) => ({ status: 200, headers: new Headers(), body: JSON.stringify(body) });
const failure = (status: number, code: string, body: unknown) => ({
  status,
  headers: new Headers({ "x-amzn-errortype": code }),
  body: JSON.stringify(body),
});

describe("the botocore shape validator of the contract test", () => {
  it("accepts a response shaped as the model says (empty tags only when TagMap's min is waived)", () => {
    // Act
    const strict = validateResponse(model, "DescribePodIdentityAssociation", ok({ association }));
    const waived = validateResponse(model, "DescribePodIdentityAssociation", ok({ association }), {
      ignoreMinOf: ["TagMap"],
    });

    // Assess
    expect(strict.errors).toEqual([expect.stringMatching(/TagMap.*entries 0 < min 1/)]);
    expect(waived).toEqual({ errors: [] });
  });

  it("reports unknown members, wrong types, nulls, enums and patterns", () => {
    // Act
    const errors = [
      ...validateShape(model, "PodIdentityAssociation", { ...association, tags: { a: "b" }, extra: 1 }),
      ...validateShape(model, "PodIdentityAssociation", {
        ...association,
        tags: { a: "b" },
        createdAt: "2024",
      }),
      ...validateShape(model, "PodIdentityAssociation", { ...association, tags: { a: "b" }, ownerArn: null }),
      ...validateShape(model, "Addon", { status: "READY" }),
      ...validateShape(model, "ClusterName", "-bad"),
      ...validateShape(model, "CreatePodIdentityAssociationRequest", { clusterName: "c" }),
    ];

    // Assess
    expect(errors).toEqual([
      expect.stringMatching(/member extra is not in the model/),
      expect.stringMatching(/createdAt.*expected epoch seconds/),
      expect.stringMatching(/ownerArn.*null/),
      expect.stringMatching(/"READY" is not one of CREATING\|ACTIVE/),
      expect.stringMatching(/does not match/),
      expect.stringMatching(/required member namespace is missing/),
      expect.stringMatching(/required member serviceAccount is missing/),
      expect.stringMatching(/required member roleArn is missing/),
    ]);
  });

  it("checks an error's code against the operation's modelled errors, its status and its members", () => {
    // Act
    const unmodelled = validateResponse(
      model,
      "TagResource",
      failure(404, "ResourceNotFoundException", { message: "x" }),
    );
    const wrongStatus = validateResponse(
      model,
      "TagResource",
      failure(400, "NotFoundException", { message: "x" }),
    );
    const nullMember = validateResponse(
      model,
      "DescribeCluster",
      failure(404, "ResourceNotFoundException", { message: "x", clusterName: null }),
    );
    const good = validateResponse(model, "TagResource", failure(404, "NotFoundException", { message: "x" }));

    // Assess
    expect(unmodelled.errors).toEqual([
      expect.stringMatching(/not one of BadRequestException\|NotFoundException/),
    ]);
    expect(wrongStatus.errors).toEqual([expect.stringMatching(/HTTP 400, the model says 404/)]);
    expect(nullMember.errors).toEqual([expect.stringMatching(/clusterName.*null/)]);
    expect(good).toEqual({ code: "NotFoundException", errors: [] });
  });

  it("serialises uri, querystring and body members and refuses inputs the model refuses", () => {
    // Act
    const req = buildRequest(model, "UntagResource", {
      resourceArn: "arn:aws:eks:us-east-1:123456789012:podidentityassociation/c/a-1",
      tagKeys: ["a", "b"],
    });
    const create = buildRequest(model, "CreatePodIdentityAssociation", {
      clusterName: "c",
      namespace: "ns",
      serviceAccount: "sa",
      roleArn: "arn:aws:iam::123456789012:role/r",
    });

    // Assess
    expect(req).toEqual({
      method: "DELETE",
      path: "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A123456789012%3Apodidentityassociation%2Fc%2Fa-1?tagKeys=a&tagKeys=b",
      headers: {},
    });
    expect(create.path).toBe("/clusters/c/pod-identity-associations");
    expect(JSON.parse(create.body!)).toMatchObject({
      namespace: "ns",
      clientRequestToken: expect.any(String),
    });
    expect(() =>
      buildRequest(model, "ListPodIdentityAssociations", { clusterName: "c", maxResults: 0 }),
    ).toThrow(/maxResults/);
  });
});
