/**
 * Earlier catalog versions, kept as data so that an upgrade can say what changed
 * (`podid catalog diff`) and whether a controller of the older version loses an action.
 * A role records the version it was written at (tag `pod-identity/catalog-version`) and the one
 * before (`pod-identity/catalog-previous-version`); the documents of both come from here.
 */

import type { CatalogEntry, PolicyDocument } from "./catalog.js";
import cloudwatch2024 from "./catalog-data/history/amazon-cloudwatch-observability@2024.1.json" with {
  type: "json",
};
import ebs2024 from "./catalog-data/history/aws-ebs-csi-driver@2024.1.json" with { type: "json" };
import efs2024 from "./catalog-data/history/aws-efs-csi-driver@2024.1.json" with { type: "json" };
import albc271 from "./catalog-data/history/aws-load-balancer-controller@2.7.1.json" with { type: "json" };
import cert2024 from "./catalog-data/history/cert-manager@2024.1.json" with { type: "json" };
import ca2024 from "./catalog-data/history/cluster-autoscaler@2024.1.json" with { type: "json" };
import dns2024 from "./catalog-data/history/external-dns@2024.1.json" with { type: "json" };
import eso2024 from "./catalog-data/history/external-secrets@2024.1.json" with { type: "json" };
import karpenter2026111 from "./catalog-data/history/karpenter@2026.11.1.json" with { type: "json" };
import { catalogActions } from "./catalog-policy.js";

/** A catalog version of an entry as it was written. */
export interface CatalogVersion {
  name: string;
  version: string;
  serviceAccounts: { namespace: string; serviceAccount: string }[];
  managedPolicyArns: string[];
  policy?: PolicyDocument;
  perCluster?: CatalogEntry["perCluster"];
}

const HISTORY: readonly CatalogVersion[] = [
  albc271,
  cloudwatch2024,
  ebs2024,
  efs2024,
  cert2024,
  ca2024,
  dns2024,
  eso2024,
  karpenter2026111,
].map((d) => {
  const { policy, ...rest } = d as Omit<CatalogVersion, "policy"> & { policy: PolicyDocument | null };
  return { ...rest, ...(policy ? { policy } : {}) };
});

/** An entry's version: the current one from the catalog, earlier ones from the history. */
export function catalogVersion(entry: CatalogEntry, version: string): CatalogVersion | undefined {
  if (version === entry.version) return entry;
  return HISTORY.find((h) => h.name === entry.name && h.version === version);
}

/** Every version known for an entry, oldest first (the current one last). */
export function knownVersions(entry: CatalogEntry): string[] {
  return [...HISTORY.filter((h) => h.name === entry.name).map((h) => h.version), entry.version];
}

/** What changed between two versions of an entry. */
export interface CatalogDiff {
  name: string;
  from: string;
  to: string;
  addedActions: string[];
  removedActions: string[];
  addedManagedPolicies: string[];
  removedManagedPolicies: string[];
  addedServiceAccounts: string[];
  removedServiceAccounts: string[];
  /** statements (by Sid or position) whose text changed, were added or removed */
  changedStatements: { sid: string; change: "added" | "removed" | "changed" }[];
}

function actionsOf(v: CatalogVersion): Set<string> {
  return new Set(
    catalogActions({
      ...(v.policy ? { policy: v.policy } : {}),
      perCluster: v.perCluster ?? [],
    } as CatalogEntry),
  );
}

function statementsBySid(v: CatalogVersion): Map<string, string> {
  const out = new Map<string, string>();
  const statements = v.policy?.Statement ?? [];
  for (const [i, s] of statements.entries())
    out.set(typeof s.Sid === "string" ? s.Sid : `#${i}`, JSON.stringify(s));

  for (const g of v.perCluster ?? []) out.set(`${g.sid}*`, JSON.stringify(g));
  return out;
}

const minus = <T>(a: Iterable<T>, b: Set<T>) => [...a].filter((x) => !b.has(x)).sort();

/** Compares two versions of an entry. */
export function diffCatalogVersions(from: CatalogVersion, to: CatalogVersion): CatalogDiff {
  const fa = actionsOf(from);
  const ta = actionsOf(to);
  const fm = new Set(from.managedPolicyArns);
  const tm = new Set(to.managedPolicyArns);
  const sa = (v: CatalogVersion) =>
    new Set(v.serviceAccounts.map((s) => `${s.namespace}/${s.serviceAccount}`));
  const fs = statementsBySid(from);
  const ts = statementsBySid(to);
  const changedStatements: CatalogDiff["changedStatements"] = [];
  for (const [sid, text] of ts) {
    if (!fs.has(sid)) changedStatements.push({ sid, change: "added" });
    else if (fs.get(sid) !== text) changedStatements.push({ sid, change: "changed" });
  }
  for (const sid of fs.keys()) if (!ts.has(sid)) changedStatements.push({ sid, change: "removed" });
  return {
    name: to.name,
    from: from.version,
    to: to.version,
    addedActions: minus(ta, fa),
    removedActions: minus(fa, ta),
    addedManagedPolicies: minus(tm, fm),
    removedManagedPolicies: minus(fm, tm),
    addedServiceAccounts: minus(sa(to), sa(from)),
    removedServiceAccounts: minus(sa(from), sa(to)),
    changedStatements,
  };
}
