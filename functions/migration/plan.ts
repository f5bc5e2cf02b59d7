import { createHash } from "node:crypto";
import type { Discovery, MigrationItem } from "../core/migration/discover.js";
import type { PreflightResult } from "../core/migration/preflight.js";

/** What discovery stored for a run. */
export interface StoredDiscovery extends Discovery {
  clusterName: string;
  clusterArn: string;
  accountId: string;
  autoMode: boolean;
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

/** What a run recorded before (written: false) and after (true) adding trust to one role. */
export interface TrustEditRecord {
  roleName: string;
  roleArn: string;
  statements: Record<string, unknown>[];
  written: boolean;
  undone?: boolean;
  /** the run key of the rollback execution that undid it */
  undoneBy?: string;
}

/** What a run changed in one add-on's podIdentityAssociations. */
export interface AddonRecord {
  before: { serviceAccount: string; roleArn: string }[];
  added: { serviceAccount: string; roleArn: string }[];
}

/**
 * What a run recorded about the Pod Identity agent add-on: written before CreateAddon (requested)
 * and after it (installed), so a crash in between still leaves something to undo. The add-on is
 * tagged with the run (`migrationTags`), so a rollback can tell it from one someone else created.
 */
export interface AgentRecord {
  /** the run was about to send CreateAddon */
  requested: boolean;
  /** the add-on on the cluster is the one this run created */
  installed: boolean;
  /** a rollback deleted it */
  removed?: boolean;
  /** the live cluster is in EKS Auto Mode (agent built in): nothing was installed */
  autoMode?: boolean;
}

/** Keys of the items an execution stores under its run key. */
export const KEYS = {
  discovery: "discovery",
  plan: "plan",
  planHash: "plan-hash",
  approval: "approval",
  decision: "approval#decision",
  edit: (roleName: string) => `edit#${roleName}`,
  association: (item: Pick<MigrationItem, "namespace" | "serviceAccount">) =>
    `assoc#${item.namespace}/${item.serviceAccount}`,
  addon: (name: string) => `addon#${name}`,
  agent: "agent",
  rollback: "rollback",
  finalize: "finalize",
  report: "report",
  /** where a chunked step stands (see chunks.ts) */
  progress: (
    step:
      | "associate"
      | "verify"
      | "rollback-roles"
      | "rollback-associations"
      | "finalize-evidence"
      | "finalize-remove",
  ) => `progress#${step}`,
  /** finalize: what its first chunk found (candidates, the time it judges at) */
  finalizeSetup: "finalize-setup",
  /** finalize: the decisions, once all evidence is read */
  finalizeDecisions: "finalize-decisions",
  /** finalize: the CloudTrail evidence read for one role */
  finalizeUses: (roleArn: string) => `finalize-uses#${roleArn}`,
  /** what a rollback did to one thing it undoes (role, add-on, association) */
  undo: (what: "role" | "addon" | "assoc" | "agent", name: string) => `undo#${what}#${name}`,
} as const;

/** Tags on associations a migration creates: not managed-by, so the reconciler leaves them alone. */
export function migrationTags(migrationId: string): Record<string, string> {
  return {
    "pod-identity/migrated-by": "pod-identity-autopilot",
    "pod-identity/migration": migrationId.slice(0, 256),
  };
}

/** A stable digest of a plan: what an approval approves. */
export function planHash(plan: MigrationPlan): string {
  return createHash("sha256").update(JSON.stringify(plan)).digest("hex").slice(0, 16);
}

/** The Sid tag of a run's statements: short, alphanumeric, unique per execution. */
export function runTagOf(runKey: string): string {
  return createHash("sha256").update(runKey).digest("hex").slice(0, 10);
}
