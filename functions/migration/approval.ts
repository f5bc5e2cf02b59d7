import { z } from "zod";

/**
 * What the approver fields are worth. The caller ARN is what the approving client (podid, from
 * STS GetCallerIdentity with its own credentials) states; nothing checks it. The authoritative
 * record of who approved is CloudTrail's SendTaskSuccess (or SendTaskFailure) event for the run's
 * task token: its `userIdentity`.
 */
export const APPROVAL_AUTHORITY =
  "as stated by the approving client; the authoritative record is CloudTrail's SendTaskSuccess/SendTaskFailure event (userIdentity)";

/**
 * An approval decision as the approving client records it (table item `approval#decision`) and
 * passes it in the SendTaskSuccess output / SendTaskFailure cause. Validated wherever it is read;
 * it is recorded and shown, never used to decide anything but approved or rejected.
 */
export const approvalDecisionSchema = z.object({
  decision: z.enum(["approved", "rejected"]),
  /** the approving caller's ARN as its client states it (or the local runner's own name) */
  by: z.string().min(1).max(2048),
  /** when the client decided (its clock) */
  at: z.iso.datetime({ offset: true }),
  reason: z.string().max(1024).optional(),
});

/** A recorded approval decision. */
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/** The SendTaskSuccess output of an approval: recorded in the execution history, never read for authority. */
export function approvalOutput(decision: ApprovalDecision): Record<string, unknown> {
  return { approved: true, approvedBy: decision.by, approvedAt: decision.at };
}

/** The SendTaskFailure cause of a rejection (shown in the run's report as the error's cause). */
export function rejectionCause(decision: ApprovalDecision): string {
  return `rejected by ${decision.by} at ${decision.at}${decision.reason ? `: ${decision.reason}` : ""}`;
}

/** The approval as a run's report records it. */
export interface RecordedApproval extends Partial<ApprovalDecision> {
  /** what the fields are worth: see APPROVAL_AUTHORITY */
  authority: string;
  /** the stored decision is not a valid record: none of its fields are shown */
  invalid?: string;
}

/** The report's view of a stored decision item; undefined when there is none. */
export function recordedApproval(raw: unknown): RecordedApproval | undefined {
  if (raw === undefined || raw === null) return undefined;
  const parsed = approvalDecisionSchema.safeParse(raw);
  if (!parsed.success)
    return {
      authority: APPROVAL_AUTHORITY,
      invalid: parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join(".") || "record"}: ${i.message}`)
        .join("; "),
    };
  return { ...parsed.data, authority: APPROVAL_AUTHORITY };
}
