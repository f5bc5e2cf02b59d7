/** Plain data the reconciler works on; the AWS adapters fill it, the core never calls AWS. */

/** A cluster as the reconciler sees it. */
export interface ClusterInfo {
  name: string;
  arn: string;
  status: string;
  version: string;
  platformVersion: string;
  tags: Record<string, string>;
  oidcIssuer?: string;
}

/** A role with its tags and decoded trust policy (text; the trust engine parses it). */
export interface RoleInfo {
  name: string;
  arn: string;
  path: string;
  tags: Record<string, string>;
  trustPolicy: string;
  /** ARN of the role's permissions boundary, when it has one (template admission reads it) */
  permissionsBoundaryArn?: string;
  /**
   * set when the role's tags (or other data) could not be read: why. A template that cannot be
   * read freezes the associations it sources.
   */
  unreadable?: string;
}

/** A described association (ListPodIdentityAssociations summaries lack roleArn and tags). */
export interface AssociationInfo {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  associationId: string;
  associationArn: string;
  roleArn: string;
  tags: Record<string, string>;
  ownerArn?: string;
  disableSessionTags: boolean;
  targetRoleArn?: string;
  policy?: string;
}

/** An association the tags ask for. */
export interface DesiredAssociation {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  /** name of the role (template or catalog role) it comes from: the pod-identity/source tag */
  source: string;
  disableSessionTags: boolean;
  targetRoleArn?: string;
  /** catalog entry name, for catalog associations */
  catalog?: string;
}

/** Identity of an association slot: one per (cluster, namespace, service account). */
export function slotKey(a: { clusterName: string; namespace: string; serviceAccount: string }): string {
  return `${a.clusterName}/${a.namespace}/${a.serviceAccount}`;
}
