import { describe, expect, it } from "vitest";
import { rolesForUnits, unitsOf } from "../../functions/sweeper/index.js";
import { role, template } from "../support/fleet.js";

describe("splitting a sweep into units", () => {
  it("makes units of at most N clusters sharing the breaker's floor", () => {
    const names = Array.from({ length: 25 }, (_, i) => `c-${i}`);
    const units = unitsOf(names, 10, 5);
    expect(units.map((u) => u.clusters.length)).toEqual([10, 10, 5]);
    expect(units.map((u) => u.breakerFloor)).toEqual([2, 2, 2]);
    expect(unitsOf(["a"], 10, 5)).toEqual([{ clusters: ["a"], breakerFloor: 5 }]);
  });

  it("passes only templates and catalog roles to the units, or nothing when they would not fit", () => {
    const roles = [
      template("app", "web/api"),
      role("unrelated"),
      { ...role("pod-identity-external-dns"), path: "/pod-identity/" },
    ];
    expect(rolesForUnits(roles)?.map((r) => r.name)).toEqual(["app", "pod-identity-external-dns"]);
    expect(rolesForUnits(roles, 10)).toBeNull();
  });
});
