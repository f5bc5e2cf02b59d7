import { z } from "zod";
import {
  type AdmissionPolicy,
  DEFAULT_CLUSTER_TAG_PREFIX,
  DEFAULT_TEMPLATE_PATH,
} from "../core/admission.js";

/** Raised for an admission configuration that cannot be read. */
export class AdmissionSettingsError extends Error {
  override name = "AdmissionSettingsError";
}

const overridesSchema = z.record(z.string(), z.array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/)));

/**
 * The stack's template and cluster admission settings, from the function environment (the stack
 * sets them from its configuration; the CLI reads the same variables):
 * `TEMPLATE_PATH` (default `/pod-identity-templates/`; `none` for no path criterion),
 * `TEMPLATE_BOUNDARY_ARN`, `CLUSTER_TAG_PREFIX` (default `pod-identity-scope/`),
 * `CATALOG_ENTRIES` (space-separated; default every built-in entry),
 * `CATALOG_OVERRIDES` (JSON: entry name → `["namespace/serviceaccount", …]`).
 */
export function admissionFromEnv(env: NodeJS.ProcessEnv = process.env): AdmissionPolicy {
  const path = env.TEMPLATE_PATH?.trim() || DEFAULT_TEMPLATE_PATH;
  const boundary = env.TEMPLATE_BOUNDARY_ARN?.trim() || undefined;
  const entries = env.CATALOG_ENTRIES?.trim();
  let overrides: Record<string, string[]> = {};
  if (env.CATALOG_OVERRIDES?.trim()) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.CATALOG_OVERRIDES);
    } catch (cause) {
      throw new AdmissionSettingsError("CATALOG_OVERRIDES is not JSON", { cause });
    }
    const parsed = overridesSchema.safeParse(raw);
    if (!parsed.success)
      throw new AdmissionSettingsError(`CATALOG_OVERRIDES: ${z.prettifyError(parsed.error)}`);
    overrides = parsed.data;
  }
  return {
    ...(path === "none" ? {} : { templatePath: path }),
    ...(boundary ? { templateBoundaryArn: boundary } : {}),
    clusterTagPrefix: env.CLUSTER_TAG_PREFIX?.trim() || DEFAULT_CLUSTER_TAG_PREFIX,
    ...(entries ? { catalogEntries: entries.split(/\s+/) } : {}),
    catalogOverrides: overrides,
  };
}
