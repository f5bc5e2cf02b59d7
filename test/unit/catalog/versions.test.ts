/**
 * Guards the catalog's versioning: a change to what an entry writes (service accounts, managed
 * policies, inline statements, per-cluster grants) must come with a new version, and the old
 * version's document must move to `functions/core/catalog-data/history/` (registered in
 * catalog-history.ts) so that upgrades can say what they remove and `podid catalog diff` works.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../../../functions/core/catalog.js";
import { catalogVersion, knownVersions } from "../../../functions/core/catalog-history.js";
import recorded from "./versions.json" with { type: "json" };

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  return value;
}

const fingerprint = (e: (typeof CATALOG)[number]) =>
  createHash("sha256")
    .update(
      JSON.stringify(
        stable({
          serviceAccounts: e.serviceAccounts,
          managedPolicyArns: e.managedPolicyArns,
          policy: e.policy ?? null,
          perCluster: e.perCluster,
        }),
      ),
    )
    .digest("hex")
    .slice(0, 16);

describe("catalog versions", () => {
  it("change whenever what an entry writes changes (update versions.json with the new version)", () => {
    for (const entry of CATALOG) {
      const was = (recorded as Record<string, { version: string; sha256: string }>)[entry.name];
      if (was && was.sha256 !== fingerprint(entry)) {
        expect(
          entry.version,
          `${entry.name} changed: bump its version and keep ${was.version} in history/`,
        ).not.toBe(was.version);
      }
    }
  });

  it("keep every earlier version readable, and the current one is not in the history twice", () => {
    for (const entry of CATALOG) {
      const versions = knownVersions(entry);
      expect(versions.at(-1)).toBe(entry.version);
      expect(new Set(versions).size, entry.name).toBe(versions.length);
      for (const v of versions) expect(catalogVersion(entry, v)?.version).toBe(v);
      const was = (recorded as Record<string, { version: string }>)[entry.name];
      if (was && was.version !== entry.version)
        expect(versions, `${entry.name}: add ${was.version} to history/`).toContain(was.version);
    }
  });
});
