export * from "./context.js";
export * from "./edit.js";
export * from "./findings.js";
export * from "./lint.js";
export { SERVICE_ACCOUNT_SUBJECT } from "./lint-irsa.js";
export { oidcProviders, POD_IDENTITY_SERVICE, providerHost } from "./match.js";
export { decodePolicyText, parseTrustPolicy, policySize } from "./parse.js";
export { POD_IDENTITY_SESSION_TAGS, type PodRequest, type PodVerdict, podRequestVerdict } from "./verdict.js";
