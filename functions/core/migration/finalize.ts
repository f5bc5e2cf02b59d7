/**
 * Finalize: which migrated service accounts may lose this cluster's IRSA trust, from CloudTrail
 * evidence. Pure: the adapters read CloudTrail (LookupEvents) and hand the events in.
 */

/** One credential request seen in CloudTrail, as the adapter read it from the record. */
export type CredentialUse =
  | {
      kind: "irsa";
      time: Date;
      roleArn: string;
      /** userIdentity.identityProvider: the OIDC provider ARN */
      providerArn: string;
      /** userIdentity.userName: `system:serviceaccount:ns:sa` */
      subject: string;
    }
  | {
      kind: "pod-identity";
      time: Date;
      roleArn: string;
      clusterName: string;
      namespace: string;
      serviceAccount: string;
    }
  | {
      /** an event about the role whose fields we could not read: never taken as absence */
      kind: "unreadable";
      time: Date;
      roleArn: string;
      eventName: string;
      reason: string;
    };

/** A migrated service account finalize considers. */
export interface FinalizeCandidate {
  namespace: string;
  serviceAccount: string;
  roleName: string;
  roleArn: string;
  /** the role's MaxSessionDuration in seconds (the default quiet window) */
  maxSessionSeconds: number;
}

/** What finalize decided for one service account. */
export interface FinalizeDecision extends FinalizeCandidate {
  verdict: "remove" | "keep";
  reason: string;
  quietSeconds: number;
  /** evidence window: [from, to] (`to` = now minus the evidence lag) */
  window: { from: string; to: string };
  lastIrsaUse?: string;
  lastPodIdentityUse?: string;
}

const sameArn = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The evidence window a candidate needs: CloudTrail must be read from `from` to now. */
export function evidenceWindow(
  now: Date,
  candidate: Pick<FinalizeCandidate, "maxSessionSeconds">,
  options: { quietSeconds?: number; lagSeconds: number },
): { from: Date; to: Date; quietSeconds: number } {
  const quietSeconds = options.quietSeconds ?? candidate.maxSessionSeconds;
  const to = new Date(now.getTime() - options.lagSeconds * 1000);
  return { from: new Date(to.getTime() - quietSeconds * 1000), to, quietSeconds };
}

/**
 * A service account's IRSA trust may go only when no `AssumeRoleWithWebIdentity` on its role
 * through this cluster's provider for its `sub` appears from the start of the quiet window to now
 * (a use inside the evidence lag still counts as use; its absence there is no evidence), and no
 * unreadable event about the role falls in that time. `AssumeRoleForPodIdentity` for the same
 * role, cluster, namespace and service account is reported as positive evidence.
 */
export function decideFinalize(input: {
  now: Date;
  providerArn: string;
  clusterName: string;
  candidates: FinalizeCandidate[];
  uses: CredentialUse[];
  quietSeconds?: number;
  lagSeconds: number;
}): FinalizeDecision[] {
  return input.candidates.map((c) => {
    const w = evidenceWindow(input.now, c, input);
    const subject = `system:serviceaccount:${c.namespace}:${c.serviceAccount}`;
    const relevant = input.uses.filter((u) => sameArn(u.roleArn, c.roleArn) && u.time >= w.from);
    const irsa = relevant
      .filter((u) => u.kind === "irsa" && sameArn(u.providerArn, input.providerArn) && u.subject === subject)
      .sort((a, b) => b.time.getTime() - a.time.getTime());
    const pods = relevant
      .filter(
        (u) =>
          u.kind === "pod-identity" &&
          u.clusterName === input.clusterName &&
          u.namespace === c.namespace &&
          u.serviceAccount === c.serviceAccount,
      )
      .sort((a, b) => b.time.getTime() - a.time.getTime());
    const unreadable = relevant.filter((u) => u.kind === "unreadable");
    const base = {
      ...c,
      quietSeconds: w.quietSeconds,
      window: { from: w.from.toISOString(), to: w.to.toISOString() },
      ...(irsa[0] ? { lastIrsaUse: irsa[0].time.toISOString() } : {}),
      ...(pods[0] ? { lastPodIdentityUse: pods[0].time.toISOString() } : {}),
    };
    if (irsa[0])
      return {
        ...base,
        verdict: "keep" as const,
        reason: `still on IRSA: last AssumeRoleWithWebIdentity at ${irsa[0].time.toISOString()}`,
      };
    if (unreadable[0])
      return {
        ...base,
        verdict: "keep" as const,
        reason: `undecided: a ${unreadable[0].eventName} event on the role could not be read (${unreadable[0].reason})`,
      };
    return {
      ...base,
      verdict: "remove" as const,
      reason: `no IRSA use since ${w.from.toISOString()}${pods[0] ? `; on Pod Identity (last ${pods[0].time.toISOString()})` : ""}`,
    };
  });
}
