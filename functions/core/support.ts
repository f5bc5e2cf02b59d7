/**
 * Kubernetes and platform versions that support EKS Pod Identity: 1.24 from eks.13, 1.25 eks.10,
 * 1.26 eks.9, 1.27 eks.8, 1.28 eks.4, 1.29 eks.1, 1.30 eks.2, 1.31 eks.4, every later version.
 */
const MINIMUM_PLATFORM: Record<string, number> = {
  "1.24": 13,
  "1.25": 10,
  "1.26": 9,
  "1.27": 8,
  "1.28": 4,
  "1.29": 1,
  "1.30": 2,
  "1.31": 4,
};

/** Whether a cluster's versions support Pod Identity, and why not. */
export function podIdentitySupport(
  version: string,
  platformVersion: string,
): { supported: boolean; reason?: string } {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) return { supported: false, reason: `unknown Kubernetes version "${version}"` };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < 1 || (major === 1 && minor < 24)) {
    return {
      supported: false,
      reason: `Kubernetes ${version} is below 1.24, the first version with Pod Identity`,
    };
  }
  const minimum = MINIMUM_PLATFORM[version];
  if (minimum === undefined) return { supported: true };
  const platform = /^eks\.(\d+)$/.exec(platformVersion);
  if (!platform) return { supported: false, reason: `unknown platform version "${platformVersion}"` };
  if (Number(platform[1]) < minimum) {
    return {
      supported: false,
      reason: `Kubernetes ${version} needs platform version eks.${minimum} or later for Pod Identity (cluster is ${platformVersion})`,
    };
  }
  return { supported: true };
}
