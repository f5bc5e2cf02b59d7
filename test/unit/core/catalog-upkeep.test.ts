import { describe, expect, it } from "vitest";
import { CATALOG_BY_NAME, CATALOG_ROLE_PATH } from "../../../functions/core/catalog.js";
import type { CatalogRequest } from "../../../functions/core/catalog-requests.js";
import { catalogTrustPolicy, type TrustBinding } from "../../../functions/core/catalog-trust.js";
import { catalogUpkeep } from "../../../functions/core/catalog-upkeep.js";
import type { RoleInfo } from "../../../functions/core/model.js";

const ACCOUNT = "123456789012";
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const DEV = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev`;
const EFS = CATALOG_BY_NAME.get("aws-efs-csi-driver")!;
const efsBindings = (cluster: string): TrustBinding[] =>
  EFS.serviceAccounts.map((s) => ({ clusterArn: cluster, ...s }));

function efsRole(bindings: TrustBinding[], version = EFS.version): RoleInfo {
  return {
    name: "pod-identity-aws-efs-csi-driver",
    arn: `arn:aws:iam::${ACCOUNT}:role/pod-identity/pod-identity-aws-efs-csi-driver`,
    path: CATALOG_ROLE_PATH,
    tags: { "pod-identity/catalog-version": version },
    trustPolicy: JSON.stringify(catalogTrustPolicy(ACCOUNT, bindings)),
  };
}
const asks = (cluster: string): Map<string, CatalogRequest> =>
  new Map([["aws-efs-csi-driver", { clusters: [], bindings: efsBindings(cluster) }]]);

describe("catalog upkeep judged from the template index", () => {
  it("needs nothing when the role is at the catalog version and trusts the cluster as asked", () => {
    const roles = [efsRole([...efsBindings(PROD), ...efsBindings(DEV)])];

    expect(catalogUpkeep(roles, asks(PROD), PROD)).toEqual({ stale: [], naming: [] });
  });

  it("brings up a role that is missing, of another version, or trusts the cluster differently", () => {
    const otherVersion = [efsRole(efsBindings(PROD), "2024.1")];
    const partial = [efsRole(efsBindings(PROD).slice(0, 1))];

    expect(catalogUpkeep([], asks(PROD), PROD).stale).toEqual(["aws-efs-csi-driver"]);
    expect(catalogUpkeep(otherVersion, asks(PROD), PROD).stale).toEqual(["aws-efs-csi-driver"]);
    expect(catalogUpkeep(partial, asks(PROD), PROD).stale).toEqual(["aws-efs-csi-driver"]);
    expect(catalogUpkeep([efsRole(efsBindings(DEV))], asks(PROD), PROD).stale).toEqual([
      "aws-efs-csi-driver",
    ]);
  });

  it("names roles whose trust still names a cluster that no longer asks (opted out, gone)", () => {
    const roles = [efsRole([...efsBindings(PROD), ...efsBindings(DEV)])];

    expect(catalogUpkeep(roles, new Map(), DEV)).toEqual({ stale: [], naming: ["aws-efs-csi-driver"] });
    expect(catalogUpkeep(roles, new Map(), `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/dev`).naming).toEqual(
      [],
    );
  });

  it("treats an unparsable trust as not trusting the cluster", () => {
    const broken = { ...efsRole(efsBindings(PROD)), trustPolicy: "{not json" };

    expect(catalogUpkeep([broken], asks(PROD), PROD).stale).toEqual(["aws-efs-csi-driver"]);
    expect(catalogUpkeep([broken], new Map(), PROD).naming).toEqual([]);
  });
});
