import { z } from "zod";
import { PACED_FAMILIES, parseRates } from "../functions/aws/pacing.js";
import { partitionOfRegion } from "../functions/core/partition.js";

/** Deployment settings, from typed stack props or CDK context (`-c key=value`). */
export const autopilotConfigSchema = z.object({
  /** plan and report, never change associations */
  dryRun: z.coerce.boolean().default(false),
  /** EventBridge schedule expression of the sweep */
  sweepSchedule: z.string().default("rate(30 minutes)"),
  /** account-wide deletion budget: at most max(floor, fraction × managed) deletions per hour */
  deletionLimitFloor: z.coerce.number().int().min(0).default(5),
  deletionLimitFraction: z.coerce.number().min(0).max(1).default(0.1),
  /** share of each API family's rate the automation uses on its own (0 < share ≤ 1) */
  pacingShare: z.coerce.number().gt(0).max(1).default(0.5),
  /**
   * the account's rate of each API family in requests per second, `family=rate` comma-separated
   * (families not named keep their defaults: EKS reads 20, writes 5, IAM 20 each, LookupEvents 2)
   */
  pacingRates: z
    .string()
    .default("")
    .superRefine((text, ctx) => {
      try {
        parseRates(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
  /** install eks-pod-identity-agent where a cluster gets its first association */
  installAgent: z.coerce.boolean().default(true),
  /** take over unmanaged associations that templates claim */
  adoptUnmanaged: z.coerce.boolean().default(false),
  /** regions that run EKS; the us-east-1 forwarder sends IAM events to each */
  regions: z
    .array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/))
    .min(1)
    .refine((rs) => new Set(rs.map(partitionOfRegion)).size === 1, "all regions must be in one partition")
    .default(["us-east-1"]),
  /** e-mail subscribed to the alarm topic */
  alarmEmail: z.string().email().optional(),
  /** the account's role trust policy size quota (2,048 unless raised): migration preflight refuses above it */
  trustPolicySizeLimit: z.coerce.number().int().min(1).default(2048),
  /** role names the migration must never edit (explicit IAM Deny on UpdateAssumeRolePolicy) */
  protectedRoles: z.array(z.string().regex(/^[\w+=,.@/-]{1,512}$/)).default([]),
  /**
   * template authority (issue 13): a role is a template only under this IAM path (iam:PassRole
   * of the reconcilers covers exactly this path plus the catalog path)
   */
  templatePath: z
    .string()
    .regex(/^\/([\x21-\x7e]*\/)?$/)
    .refine((p) => p !== "/", "the root path would admit every role")
    .default("/pod-identity-templates/"),
  /** optionally also a permissions boundary every template role must carry */
  templateBoundaryArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/)
    .optional(),
  /** tag: selectors match only cluster tag keys under this prefix (protect it with an SCP) */
  clusterTagPrefix: z.string().min(1).default("pod-identity-scope/"),
  /** catalog entries cluster tags may request (default: every built-in entry) */
  catalogEntries: z.array(z.string()).optional(),
  /** per catalog entry, the namespace/serviceaccount overrides cluster tags may request */
  catalogOverrides: z.record(z.string(), z.array(z.string())).default({}),
  /** days of log retention */
  logRetentionDays: z.coerce.number().int().default(30),
});
export type AutopilotConfig = z.infer<typeof autopilotConfigSchema>;

/** Name of the product's event bus in every region (forwarded IAM events and product events). */
export const AUTOPILOT_BUS_NAME = "pod-identity-autopilot";

/** Reads the configuration from CDK context values, failing with a readable message. */
export function configFromContext(get: (key: string) => unknown): AutopilotConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(autopilotConfigSchema.shape)) {
    const value = get(key);
    if (value === undefined) continue;
    raw[key] =
      (key === "regions" || key === "protectedRoles") && typeof value === "string"
        ? value.split(",").map((r) => r.trim())
        : value;
    if (typeof value === "string" && ["dryRun", "installAgent", "adoptUnmanaged"].includes(key))
      raw[key] = value === "true";
    if (typeof value === "string" && key === "catalogEntries")
      raw[key] = value.split(/[\s,]+/).filter(Boolean);
    if (typeof value === "string" && key === "catalogOverrides") raw[key] = JSON.parse(value);
  }
  const parsed = autopilotConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`invalid pod-identity-autopilot configuration: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * The API rates each regional stack paces itself on: the configured rates, with IAM's divided
 * among the regions. IAM is global (one rate per account) while each region's stack keeps its own
 * schedule, so each region gets its part and all regions together stay within the share.
 */
export function regionalPacingRates(config: Pick<AutopilotConfig, "pacingRates" | "regions">): string {
  const rates = parseRates(config.pacingRates);
  return PACED_FAMILIES.map((family) => {
    const rate = family.startsWith("iam-") ? rates[family] / config.regions.length : rates[family];
    return `${family}=${rate}`;
  }).join(",");
}
