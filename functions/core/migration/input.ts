import { z } from "zod";
import { isNamespace, isServiceAccountName } from "../tags.js";

const serviceAccountRef = z.string().refine(
  (v) => {
    const [ns, sa, ...rest] = v.split("/");
    return (
      rest.length === 0 && ns !== undefined && sa !== undefined && isNamespace(ns) && isServiceAccountName(sa)
    );
  },
  { message: 'a service account is "namespace/name" with a DNS-1123 namespace and name' },
);
const clusterName = z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, "not an EKS cluster name");

/** Longest soak a run may ask for (the state machine's timeout covers approval plus this). */
export const MAX_SOAK_SECONDS = 86_400;

/**
 * Input of a migration run, validated strictly: anything unknown is an error, not ignored. There
 * is no approval switch (a run that changes anything always waits for approval) and no IRSA
 * removal (that is finalize, its own execution).
 */
export const migrationInputSchema = z
  .object({
    clusterName,
    serviceAccounts: z.array(serviceAccountRef).min(1).max(5000).optional(),
    dryRun: z.boolean().default(false),
    soakSeconds: z.number().int().min(0).max(MAX_SOAK_SECONDS).default(300),
    maxConcurrency: z.number().int().min(1).max(20).default(4),
  })
  .strict();
export type MigrationInput = z.input<typeof migrationInputSchema>;
export type MigrationRequest = z.output<typeof migrationInputSchema>;

/** Input of a finalize execution. */
export const finalizeInputSchema = z
  .object({
    clusterName,
    serviceAccounts: z.array(serviceAccountRef).min(1).max(5000).optional(),
    /** quiet window; default: each role's MaxSessionDuration */
    quietSeconds: z
      .number()
      .int()
      .min(0)
      .max(366 * 86_400)
      .optional(),
    /** CloudTrail delivery delay: absence inside it is not evidence */
    evidenceLagSeconds: z.number().int().min(0).max(86_400).default(900),
  })
  .strict();
export type FinalizeRequest = z.output<typeof finalizeInputSchema>;

/** Input of a rollback execution: which finished run of which cluster. */
export const rollbackInputSchema = z
  .object({ clusterName, runId: z.string().regex(/^[0-9A-Za-z_-]{1,80}$/, "not an execution name") })
  .strict();
export type RollbackRequest = z.output<typeof rollbackInputSchema>;

/** Parses migration input; a readable error for anything else. */
export function parseMigrationInput(
  input: unknown,
): { ok: true; request: MigrationRequest } | { ok: false; error: string } {
  const parsed = migrationInputSchema.safeParse(input);
  if (parsed.success) return { ok: true, request: parsed.data };
  return { ok: false, error: z.prettifyError(parsed.error) };
}
