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

/** Input of a migration run, validated strictly: anything unknown is an error, not ignored. */
export const migrationInputSchema = z
  .object({
    clusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, "not an EKS cluster name"),
    serviceAccounts: z.array(serviceAccountRef).min(1).max(1000).optional(),
    removeIrsaTrust: z.boolean().default(false),
    dryRun: z.boolean().default(false),
    approval: z.enum(["none", "task-token"]).default("none"),
    soakSeconds: z.number().int().min(0).max(86_400).default(300),
    maxConcurrency: z.number().int().min(1).max(20).default(4),
  })
  .strict();
export type MigrationInput = z.input<typeof migrationInputSchema>;
export type MigrationRequest = z.output<typeof migrationInputSchema>;

/** Parses migration input; a readable error for anything else. */
export function parseMigrationInput(
  input: unknown,
): { ok: true; request: MigrationRequest } | { ok: false; error: string } {
  const parsed = migrationInputSchema.safeParse(input);
  if (parsed.success) return { ok: true, request: parsed.data };
  return { ok: false, error: z.prettifyError(parsed.error) };
}
