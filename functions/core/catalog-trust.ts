/**
 * Trust policies of catalog roles: Pod Identity from this account only, and only for the
 * clusters that requested the entry and the namespaces/service accounts they bind (one
 * statement per namespace/service account, listing the clusters by `eks-cluster-arn`). STS
 * evaluates these `aws:RequestTag/*` conditions against the session tags Pod Identity sends
 * when a pod asks for credentials.
 *
 * As with per-cluster grants, each regional stack owns the bindings of its own clusters (the
 * ARN names the region): a run replaces the bindings of the clusters it covers and keeps the rest.
 */
import type { PolicyDocument } from "./catalog.js";

/** One (cluster, namespace, service account) a catalog role serves. */
export interface TrustBinding {
  clusterArn: string;
  namespace: string;
  serviceAccount: string;
}

const NS = "aws:RequestTag/kubernetes-namespace";
const SA = "aws:RequestTag/kubernetes-service-account";
const CLUSTER = "aws:RequestTag/eks-cluster-arn";
const POD_IDENTITY = "pods.eks.amazonaws.com";

/** The trust policy for a set of bindings (sorted, so equal sets give equal documents). */
export function catalogTrustPolicy(accountId: string, bindings: readonly TrustBinding[]): PolicyDocument {
  const bySubject = new Map<string, { namespace: string; serviceAccount: string; arns: Set<string> }>();
  for (const b of bindings) {
    const key = `${b.namespace}/${b.serviceAccount}`;
    const entry = bySubject.get(key) ?? {
      namespace: b.namespace,
      serviceAccount: b.serviceAccount,
      arns: new Set(),
    };
    entry.arns.add(b.clusterArn);
    bySubject.set(key, entry);
  }
  const statements: Record<string, unknown>[] = [...bySubject.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, s], i) => ({
      Sid: `PodIdentity${i}`,
      Effect: "Allow",
      Principal: { Service: POD_IDENTITY },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        StringEquals: {
          "aws:SourceAccount": accountId,
          [NS]: s.namespace,
          [SA]: s.serviceAccount,
          [CLUSTER]: [...s.arns].sort(),
        },
      },
    }));
  if (statements.length === 0) {
    // no cluster requests the role: Pod Identity always sends eks-cluster-arn, so this never matches,
    // while EKS still sees a trust for pods.eks.amazonaws.com
    statements.push({
      Sid: "NoClusterRequestsThisRole",
      Effect: "Allow",
      Principal: { Service: POD_IDENTITY },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: { StringEquals: { "aws:SourceAccount": accountId }, Null: { [CLUSTER]: "true" } },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

function values(v: unknown): string[] {
  return ([] as unknown[]).concat(v ?? []).filter((x): x is string => typeof x === "string");
}

/** Reads the bindings back from a catalog trust policy (statements of another shape are ignored). */
export function readTrustBindings(document: unknown): TrustBinding[] {
  const statements = (document as { Statement?: unknown })?.Statement;
  if (!Array.isArray(statements)) return [];
  const out: TrustBinding[] = [];
  for (const s of statements as Record<string, unknown>[]) {
    if (s.Effect !== "Allow") continue;
    const eq = (s.Condition as Record<string, Record<string, unknown>> | undefined)?.StringEquals ?? {};
    const [ns] = values(eq[NS]);
    const [sa] = values(eq[SA]);
    if (ns === undefined || sa === undefined) continue;
    for (const clusterArn of values(eq[CLUSTER])) out.push({ clusterArn, namespace: ns, serviceAccount: sa });
  }
  return out;
}

/** Bindings of clusters in `covered` come from `wanted`; the others stay as read. */
export function mergeTrustBindings(
  current: readonly TrustBinding[],
  wanted: readonly TrustBinding[],
  covered: ReadonlySet<string>,
): TrustBinding[] {
  const seen = new Set<string>();
  const out: TrustBinding[] = [];
  for (const b of [...current.filter((c) => !covered.has(c.clusterArn)), ...wanted]) {
    const key = `${b.clusterArn} ${b.namespace}/${b.serviceAccount}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(b);
  }
  return out;
}

/** IAM counts trust policy size without whitespace; the default quota is 2,048 characters. */
export function trustPolicySize(document: unknown): number {
  return JSON.stringify(document).replace(/\s/g, "").length;
}
