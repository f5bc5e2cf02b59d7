import type { ApiFamily } from "./faults.js";

/** Which AWS service, account, region and operation a request to the local account is. */
export interface RequestIdentity {
  service: string;
  accountId: string;
  region: string;
  operation: string;
  family: ApiFamily;
  protocol: "rest-json" | "query" | "json";
}

/** moto's default account, used when the access key id is not a 12-digit account id. */
export const DEFAULT_ACCOUNT_ID = "123456789012";

const EKS_ROUTES: [string, RegExp, string][] = [
  ["GET", /^\/clusters$/, "ListClusters"],
  ["POST", /^\/clusters$/, "CreateCluster"],
  ["GET", /^\/clusters\/[^/]+$/, "DescribeCluster"],
  ["DELETE", /^\/clusters\/[^/]+$/, "DeleteCluster"],
  ["POST", /^\/clusters\/[^/]+\/update-config$/, "UpdateClusterConfig"],
  ["POST", /^\/clusters\/[^/]+\/updates$/, "UpdateClusterVersion"],
  ["GET", /^\/clusters\/[^/]+\/node-groups$/, "ListNodegroups"],
  ["POST", /^\/clusters\/[^/]+\/node-groups$/, "CreateNodegroup"],
  ["GET", /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, "DescribeNodegroup"],
  ["DELETE", /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, "DeleteNodegroup"],
  ["GET", /^\/clusters\/[^/]+\/fargate-profiles$/, "ListFargateProfiles"],
  ["POST", /^\/clusters\/[^/]+\/fargate-profiles$/, "CreateFargateProfile"],
  ["GET", /^\/clusters\/[^/]+\/fargate-profiles\/[^/]+$/, "DescribeFargateProfile"],
  ["DELETE", /^\/clusters\/[^/]+\/fargate-profiles\/[^/]+$/, "DeleteFargateProfile"],
  ["GET", /^\/clusters\/[^/]+\/pod-identity-associations$/, "ListPodIdentityAssociations"],
  ["POST", /^\/clusters\/[^/]+\/pod-identity-associations$/, "CreatePodIdentityAssociation"],
  ["GET", /^\/clusters\/[^/]+\/pod-identity-associations\/[^/]+$/, "DescribePodIdentityAssociation"],
  ["POST", /^\/clusters\/[^/]+\/pod-identity-associations\/[^/]+$/, "UpdatePodIdentityAssociation"],
  ["DELETE", /^\/clusters\/[^/]+\/pod-identity-associations\/[^/]+$/, "DeletePodIdentityAssociation"],
  ["GET", /^\/clusters\/[^/]+\/addons$/, "ListAddons"],
  ["POST", /^\/clusters\/[^/]+\/addons$/, "CreateAddon"],
  ["GET", /^\/clusters\/[^/]+\/addons\/[^/]+$/, "DescribeAddon"],
  ["POST", /^\/clusters\/[^/]+\/addons\/[^/]+\/update$/, "UpdateAddon"],
  ["DELETE", /^\/clusters\/[^/]+\/addons\/[^/]+$/, "DeleteAddon"],
  ["GET", /^\/addons\/supported-versions$/, "DescribeAddonVersions"],
  ["GET", /^\/addons\/configuration-schemas$/, "DescribeAddonConfiguration"],
  ["GET", /^\/clusters\/[^/]+\/updates\/[^/]+$/, "DescribeUpdate"],
  ["GET", /^\/tags\/.+$/, "ListTagsForResource"],
  ["POST", /^\/tags\/.+$/, "TagResource"],
  ["DELETE", /^\/tags\/.+$/, "UntagResource"],
];

function eksOperation(method: string, path: string): string {
  for (const [m, re, op] of EKS_ROUTES) if (m === method && re.test(path)) return op;
  return `${method} ${path.split("/").slice(0, 2).join("/")}`;
}

/** Identifies a request from its SigV4 credential scope, path and body. */
export function identify(
  method: string,
  url: URL,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): RequestIdentity {
  const auth = String(headers.authorization ?? "");
  const scope = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  const accessKey = scope?.[1] ?? "";
  const region = scope?.[2] ?? "us-east-1";
  const service = scope?.[3] ?? "unknown";
  const accountId = /^\d{12}$/.test(accessKey) ? accessKey : DEFAULT_ACCOUNT_ID;
  const target = headers["x-amz-target"];
  if (typeof target === "string") {
    return {
      service,
      accountId,
      region,
      operation: target.split(".").pop() ?? target,
      family: "other",
      protocol: "json",
    };
  }
  if (service === "eks-auth") {
    const operation = /\/assume-role-for-pod-identity$/.test(url.pathname)
      ? "AssumeRoleForPodIdentity"
      : `${method} ${url.pathname}`;
    return { service, accountId, region, operation, family: "other", protocol: "rest-json" };
  }
  if (service === "eks") {
    const operation = eksOperation(method, url.pathname);
    const family: ApiFamily = /^(List|Describe)/.test(operation) ? "eks-read" : "eks-write";
    return { service, accountId, region, operation, family, protocol: "rest-json" };
  }
  const action =
    url.searchParams.get("Action") ??
    (body.includes("Action=") ? new URLSearchParams(body).get("Action") : null) ??
    "Unknown";
  // STS's web identity and SAML calls are unsigned (model: auth noAuth): no scope names the service
  const unsignedSts = !scope && (action === "AssumeRoleWithWebIdentity" || action === "AssumeRoleWithSAML");
  const queryService = unsignedSts ? "sts" : service;
  let family: ApiFamily = "other";
  if (queryService === "iam") family = /^(Get|List)/.test(action) ? "iam-read" : "iam-write";
  else if (queryService === "sts") family = "sts";
  return { service: queryService, accountId, region, operation: action, family, protocol: "query" };
}
