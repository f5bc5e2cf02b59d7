/** EventBridge source of every event the product publishes. */
export const EVENT_SOURCE = "pod-identity-autopilot";

/** Detail-types published, used by emitters, rule patterns and switches alike. */
export const DETAIL_TYPES = {
  associationCreated: "Pod Identity Association Created",
  associationUpdated: "Pod Identity Association Updated",
  associationDeleted: "Pod Identity Association Deleted",
  finding: "Pod Identity Finding",
  reconcileCompleted: "Pod Identity Reconcile Completed",
  deletionHeld: "Pod Identity Deletion Held",
  migrationCompleted: "Pod Identity Migration Completed",
} as const;
export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/** CloudTrail event names the reconciler reacts to, by source. */
export const EKS_EVENT_NAMES = ["CreateCluster", "TagResource", "UntagResource", "DeleteCluster"] as const;
export const IAM_EVENT_NAMES = [
  "CreateRole",
  "DeleteRole",
  "UpdateAssumeRolePolicy",
  "TagRole",
  "UntagRole",
] as const;
export type EksEventName = (typeof EKS_EVENT_NAMES)[number];
export type IamEventName = (typeof IAM_EVENT_NAMES)[number];
