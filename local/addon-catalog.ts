import { EksApiError } from "./http.js";

/**
 * The add-on versions the local account offers, and which of them support Pod Identity.
 *
 * Shapes: `DescribeAddonVersionsResponse` / `DescribeAddonConfigurationResponse` of botocore's EKS
 * model (eks/2017-11-01/service-2.json). Values: the EKS User Guide, "Attach an IAM Role to an
 * Amazon EKS add-on using Pod Identity" (add-ons-iam; sample `describe-addon-versions` and
 * `describe-addon-configuration` output, service account `ebs-csi-controller-sa` with
 * `AmazonEBSCSIDriverPolicy`) and its "Pod Identity Support Reference" table (EBS CSI from
 * v1.26.0-eksbuild.1, VPC CNI from v1.15.5-eksbuild.1, EFS CSI from v2.0.5-eksbuild.1; CloudWatch
 * Observability and Mountpoint for S3 "No" as of 2024-10). The versions listed here are a small fixed
 * sample, not EKS's live catalogue: each add-on has one older version without Pod Identity support
 * and a newer default one with it. For CloudWatch Observability and Mountpoint for S3 the first
 * supporting version is not documented offline; the newer versions here are assumed to support it.
 */
export interface AddonVersion {
  addonVersion: string;
  /** present when the version supports Pod Identity (DescribeAddonConfiguration.podIdentityConfiguration) */
  podIdentity?: { serviceAccount: string; recommendedManagedPolicies: string[] }[];
  requiresIamPermissions: boolean;
}

/** One add-on of the catalogue. */
export interface AddonDefinition {
  type: string;
  /** the namespace its service accounts live in (AddonInfo.defaultNamespace) */
  namespace: string;
  /** newest first; the first one is the default version */
  versions: AddonVersion[];
}

const pi = (serviceAccount: string, ...recommendedManagedPolicies: string[]) => [
  { serviceAccount, recommendedManagedPolicies },
];

/** Kubernetes versions every catalogue version is compatible with. */
export const ADDON_CLUSTER_VERSIONS = ["1.28", "1.29", "1.30", "1.31", "1.32", "1.33"];

/** The add-ons the local account knows. */
export const ADDON_CATALOG: Record<string, AddonDefinition> = {
  "eks-pod-identity-agent": {
    type: "security",
    namespace: "kube-system",
    versions: [
      { addonVersion: "v1.3.8-eksbuild.2", requiresIamPermissions: false },
      { addonVersion: "v1.3.4-eksbuild.1", requiresIamPermissions: false },
    ],
  },
  "vpc-cni": {
    type: "networking",
    namespace: "kube-system",
    versions: [
      {
        addonVersion: "v1.19.5-eksbuild.1",
        requiresIamPermissions: true,
        podIdentity: pi("aws-node", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"),
      },
      { addonVersion: "v1.15.1-eksbuild.1", requiresIamPermissions: true },
    ],
  },
  coredns: {
    type: "networking",
    namespace: "kube-system",
    versions: [{ addonVersion: "v1.11.4-eksbuild.14", requiresIamPermissions: false }],
  },
  "kube-proxy": {
    type: "networking",
    namespace: "kube-system",
    versions: [{ addonVersion: "v1.32.3-eksbuild.7", requiresIamPermissions: false }],
  },
  "aws-ebs-csi-driver": {
    type: "storage",
    namespace: "kube-system",
    versions: [
      {
        addonVersion: "v1.44.0-eksbuild.1",
        requiresIamPermissions: true,
        podIdentity: pi(
          "ebs-csi-controller-sa",
          "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        ),
      },
      { addonVersion: "v1.25.0-eksbuild.1", requiresIamPermissions: true },
    ],
  },
  "aws-efs-csi-driver": {
    type: "storage",
    namespace: "kube-system",
    versions: [
      {
        addonVersion: "v2.1.8-eksbuild.1",
        requiresIamPermissions: true,
        podIdentity: pi(
          "efs-csi-controller-sa",
          "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
        ),
      },
      { addonVersion: "v2.0.4-eksbuild.1", requiresIamPermissions: true },
    ],
  },
  "amazon-cloudwatch-observability": {
    type: "observability",
    namespace: "amazon-cloudwatch",
    versions: [
      {
        addonVersion: "v4.1.0-eksbuild.1",
        requiresIamPermissions: true,
        podIdentity: pi("cloudwatch-agent", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"),
      },
      { addonVersion: "v1.10.0-eksbuild.1", requiresIamPermissions: true },
    ],
  },
  "aws-mountpoint-s3-csi-driver": {
    type: "storage",
    namespace: "kube-system",
    versions: [
      {
        addonVersion: "v1.15.0-eksbuild.1",
        requiresIamPermissions: true,
        podIdentity: pi("s3-csi-driver-sa"),
      },
      { addonVersion: "v1.9.0-eksbuild.1", requiresIamPermissions: true },
    ],
  },
};

/** The add-on's definition, or EKS's error for an add-on name it does not offer. */
export function addonDefinition(name: unknown): AddonDefinition {
  const found = typeof name === "string" ? ADDON_CATALOG[name] : undefined;
  // real message: "Addon specified is not supported" (aws/containers-roadmap#1429)
  if (!found) throw new EksApiError("InvalidParameterException", "Addon specified is not supported");
  return found;
}

/** A version of the add-on, or EKS's error for a version it does not offer. */
export function addonVersion(name: string, version: unknown): AddonVersion {
  const definition = addonDefinition(name);
  if (version === undefined || version === null) return definition.versions[0]!;
  const found = definition.versions.find((v) => v.addonVersion === version);
  // real message and fields: terraform-provider-aws#20559 / #33385 (InvalidParameterException, 400)
  if (!found) {
    throw new EksApiError("InvalidParameterException", "Addon version specified is not supported", {
      addonName: name,
    });
  }
  return found;
}

/**
 * Checks the service accounts of `podIdentityAssociations` against the version's Pod Identity
 * configuration, with the messages EKS answers (terraform-aws-eks#3520, containers-roadmap#2712).
 */
export function checkPodIdentitySupport(
  name: string,
  version: AddonVersion,
  serviceAccounts: string[],
): void {
  if (serviceAccounts.length === 0) return;
  if (!version.podIdentity) {
    throw new EksApiError(
      "InvalidParameterException",
      `Pod Identity feature is not supported for addon version: ${version.addonVersion}`,
      { addonName: name },
    );
  }
  for (const sa of serviceAccounts) {
    if (!version.podIdentity.some((p) => p.serviceAccount === sa)) {
      throw new EksApiError(
        "InvalidParameterException",
        `Service account ${sa} in pod identity configuration is not supported for addon ${name}`,
        { addonName: name },
      );
    }
  }
}

function page<T>(items: T[], query: URLSearchParams, key: (t: T) => string): { items: T[]; next?: string } {
  const max = query.get("maxResults") === null ? 100 : Number(query.get("maxResults"));
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw new EksApiError("InvalidParameterException", "maxResults must be between 1 and 100");
  }
  const token = query.get("nextToken");
  const start = token ? items.findIndex((i) => key(i) === Buffer.from(token, "base64url").toString()) + 1 : 0;
  if (token && start === 0) throw new EksApiError("InvalidParameterException", "The nextToken is not valid");
  const out = items.slice(start, start + max);
  return {
    items: out,
    ...(start + max < items.length ? { next: Buffer.from(key(out.at(-1)!)).toString("base64url") } : {}),
  };
}

/** DescribeAddonVersions (GET /addons/supported-versions). */
export function describeAddonVersions(query: URLSearchParams): Record<string, unknown> {
  const name = query.get("addonName");
  const kubernetesVersion = query.get("kubernetesVersion");
  const types = query.getAll("types");
  const publishers = query.getAll("publishers");
  const owners = query.getAll("owners");
  const names = Object.keys(ADDON_CATALOG)
    .sort()
    .filter((n) => name === null || n === name)
    .filter((n) => types.length === 0 || types.includes(ADDON_CATALOG[n]!.type))
    // every add-on of the catalogue is published by "eks" and owned by "aws"
    .filter(
      () =>
        (publishers.length === 0 || publishers.includes("eks")) &&
        (owners.length === 0 || owners.includes("aws")),
    );
  const clusterVersions =
    kubernetesVersion === null
      ? ADDON_CLUSTER_VERSIONS
      : ADDON_CLUSTER_VERSIONS.filter((v) => v === kubernetesVersion);
  const { items, next } = page(names, query, (n) => n);
  return {
    addons: items
      .map((n) => {
        const d = ADDON_CATALOG[n]!;
        return {
          addonName: n,
          type: d.type,
          addonVersions:
            clusterVersions.length === 0
              ? []
              : d.versions.map((v, i) => ({
                  addonVersion: v.addonVersion,
                  architecture: ["amd64", "arm64"],
                  computeTypes: ["ec2"],
                  compatibilities: clusterVersions.map((clusterVersion) => ({
                    clusterVersion,
                    platformVersions: ["*"],
                    defaultVersion: i === 0,
                  })),
                  requiresConfiguration: false,
                  requiresIamPermissions: v.requiresIamPermissions,
                })),
          publisher: "eks",
          owner: "aws",
          defaultNamespace: d.namespace,
        };
      })
      .filter((a) => a.addonVersions.length > 0),
    ...(next ? { nextToken: next } : {}),
  };
}

/** DescribeAddonConfiguration (GET /addons/configuration-schemas). */
export function describeAddonConfiguration(query: URLSearchParams): Record<string, unknown> {
  const name = query.get("addonName");
  const version = query.get("addonVersion");
  if (name === null || version === null) {
    throw new EksApiError("InvalidParameterException", "addonName and addonVersion are required");
  }
  const found = addonVersion(name, version);
  return {
    addonName: name,
    addonVersion: found.addonVersion,
    // the real schemas are add-on specific JSON schemas; the local account accepts any object
    configurationSchema: JSON.stringify({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      additionalProperties: true,
    }),
    ...(found.podIdentity
      ? {
          podIdentityConfiguration: found.podIdentity.map((p) => ({
            serviceAccount: p.serviceAccount,
            recommendedManagedPolicies: [...p.recommendedManagedPolicies],
          })),
        }
      : {}),
  };
}
