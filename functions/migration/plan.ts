import type { Discovery, MigrationItem } from "../core/migration/discover.js";
import type { PreflightResult } from "../core/migration/preflight.js";

/** What discovery stored for a run. */
export interface StoredDiscovery extends Discovery {
  clusterName: string;
  clusterArn: string;
  accountId: string;
}

/** The plan a run executes, stored once preflight is done. */
export interface MigrationPlan extends PreflightResult {
  clusterName: string;
  clusterArn: string;
  accountId: string;
  providerArn: string;
  wildcards: Discovery["wildcards"];
  notFound: string[];
}

/** Keys of the items a run stores. */
export const KEYS = {
  discovery: "discovery",
  plan: "plan",
  approval: "approval",
  role: (name: string) => `role#${name}`,
  association: (item: Pick<MigrationItem, "namespace" | "serviceAccount">) =>
    `assoc#${item.namespace}/${item.serviceAccount}`,
  addon: (name: string) => `addon#${name}`,
  irsaRemoved: (name: string) => `irsa#${name}`,
  agent: "agent",
} as const;

/** Tags on associations a migration creates: not managed-by, so the reconciler leaves them alone. */
export function migrationTags(migrationId: string): Record<string, string> {
  return {
    "pod-identity/migrated-by": "pod-identity-autopilot",
    "pod-identity/migration": migrationId.slice(0, 256),
  };
}
