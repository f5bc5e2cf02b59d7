import { evaluateConditionEntry } from "../iam/conditions.js";
import { requestContext } from "../iam/context.js";
import { sortFindings, type TrustFinding } from "./findings.js";
import { lintIrsaStatement } from "./lint-irsa.js";
import {
  evaluateCondition,
  hasWildcard,
  isNegated,
  isPodIdentityStatement,
  oidcProviders,
  principalIds,
  statementCovers,
} from "./match.js";
import { type ConditionTest, parseTrustPolicy, policySize, type TrustStatement } from "./parse.js";
import { podRequestVerdict } from "./verdict.js";

/** Default IAM limit for a role trust policy, in characters without whitespace. */
export const DEFAULT_TRUST_POLICY_SIZE_LIMIT = 2048;

/** What the linter knows about where the policy is used. */
export interface LintOptions {
  /** the account the role lives in (aws:SourceAccount must equal it) */
  accountId?: string;
  /** clusters whose pods must be able to assume the role */
  clusterArns?: string[];
  sizeLimit?: number;
  /** associations use disableSessionTags=true, so sts:TagSession is not needed */
  sessionTagsDisabled?: boolean;
}

export const EKS_CLUSTER_ARN =
  /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** An association ARN: `arn:aws:eks:<region>:<account>:podidentityassociation/<cluster>/<id>`. */
export const EKS_ASSOCIATION_ARN =
  /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:podidentityassociation\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}\/[a-z0-9-]+$/;

/**
 * The fix for aws:SourceArn that cannot lock pods out: AWS does not document whether Pod Identity
 * passes the cluster ARN or an association ARN, so both are listed.
 */
function SOURCE_ARN_FIX(region: string, account: string, cluster: string, partition = "aws"): string {
  return `Use "ArnLike": {"aws:SourceArn": ["arn:${partition}:eks:${region}:${account}:cluster/${cluster}", "arn:${partition}:eks:${region}:${account}:podidentityassociation/${cluster}/*"]}: AWS does not document which of the two ARNs Pod Identity passes, so list both`;
}

/** Keys whose value the engine knows for every association (see trust/verdict.ts). */
const KNOWABLE_KEYS = new Set([
  "aws:sourceaccount",
  "aws:sourcearn",
  "aws:tagkeys",
  "aws:requesttag/eks-cluster-arn",
  "aws:requesttag/eks-cluster-name",
  "aws:requesttag/kubernetes-namespace",
  "aws:requesttag/kubernetes-service-account",
]);

const NARROWING_KEYS = new Set([
  "aws:sourceaccount",
  "aws:principalaccount",
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:sourceorgid",
  "aws:sourceorgpaths",
  "aws:principalarn",
  "aws:sourcearn",
  "aws:sourceowner",
]);

function finding(
  code: TrustFinding["code"],
  severity: TrustFinding["severity"],
  statement: number | null,
  message: string,
  fix: string,
): TrustFinding {
  return { code, severity, statement, message, fix };
}

function narrows(test: ConditionTest): boolean {
  return (
    NARROWING_KEYS.has(test.keyLower) &&
    !isNegated(test.base) &&
    !test.ifExists &&
    test.set !== "ForAllValues" &&
    test.values.length > 0 &&
    test.values.every((v) => v.replace(/[*?]/g, "") !== "")
  );
}

function isWildcardPrincipal(s: TrustStatement): boolean {
  if (!s.principal) return false;
  return s.principal.wildcard || principalIds(s.principal, "AWS").includes("*");
}

/** Could this pattern, under a wildcard-matching operator, match some EKS cluster ARN? */
function couldMatchClusterArn(pattern: string): boolean {
  const parts = pattern.split(":");
  if (parts.length < 6) return pattern.replace(/[*?]/g, "") === "";
  const compatible = (part: string, literal: string) => {
    const prefix = part.split(/[*?]/)[0] ?? "";
    return hasWildcard(part) ? literal.startsWith(prefix) || prefix.startsWith(literal) : part === literal;
  };
  const resource = parts.slice(5).join(":");
  const resourcePrefix = resource.split(/[*?]/)[0] ?? "";
  return (
    compatible(parts[0]!, "arn") &&
    compatible(parts[2]!, "eks") &&
    ["cluster/", "podidentityassociation/"].some(
      (kind) => resourcePrefix.startsWith(kind) || kind.startsWith(resourcePrefix),
    )
  );
}

function lintSourceArn(s: TrustStatement, out: TrustFinding[]): void {
  for (const test of s.conditions) {
    if (test.keyLower !== "aws:sourcearn" || isNegated(test.base)) continue;
    for (const value of test.values) {
      const wildcard = hasWildcard(value);
      if (wildcard && /^String(Equals|EqualsIgnoreCase)$/.test(test.base)) {
        out.push(
          finding(
            "SOURCE_ARN_INVALID",
            "error",
            s.index,
            `aws:SourceArn "${value}" has a wildcard under ${test.operator}, which compares literally and never matches it`,
            "Use ArnLike (or StringLike) for patterns, or give the exact cluster ARN",
          ),
        );
      } else if (wildcard && test.base === "ArnEquals") {
        out.push(
          finding(
            "SOURCE_ARN_INVALID",
            "warning",
            s.index,
            `aws:SourceArn "${value}" uses a wildcard under ArnEquals; IAM matches it, but readers expect ArnEquals to be exact`,
            "Use ArnLike for patterns and ArnEquals for exact cluster ARNs",
          ),
        );
      } else if (
        wildcard
          ? !couldMatchClusterArn(value)
          : !EKS_CLUSTER_ARN.test(value) && !EKS_ASSOCIATION_ARN.test(value)
      ) {
        out.push(
          finding(
            "SOURCE_ARN_INVALID",
            "error",
            s.index,
            `aws:SourceArn "${value}" is neither an EKS cluster ARN nor an association ARN of a cluster, so no pod's request matches it`,
            SOURCE_ARN_FIX("<region>", "<account>", "<cluster>"),
          ),
        );
      }
    }
  }
}

function lintPodIdentity(statements: TrustStatement[], options: LintOptions, out: TrustFinding[]): void {
  const pods = statements.filter(isPodIdentityStatement);
  const assume = pods.filter((s) => statementCovers(s, "sts:AssumeRole"));
  const hasIrsa = statements.some((s) => oidcProviders(s).length > 0);
  if (assume.length === 0) {
    out.push(
      finding(
        "NO_POD_IDENTITY_TRUST",
        hasIrsa ? "warning" : "error",
        pods[0]?.index ?? null,
        hasIrsa
          ? "The role trusts an OIDC provider (IRSA) but not EKS Pod Identity yet"
          : "No Allow statement lets pods.eks.amazonaws.com call sts:AssumeRole",
        'Add {"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}',
      ),
    );
  } else if (!options.sessionTagsDisabled && !assume.some((s) => statementCovers(s, "sts:TagSession"))) {
    out.push(
      finding(
        "MISSING_TAG_SESSION",
        "error",
        assume[0]!.index,
        "pods.eks.amazonaws.com may call sts:AssumeRole but not sts:TagSession; EKS refuses the association",
        'Add "sts:TagSession" to the statement\'s Action, or create the association with disableSessionTags=true',
      ),
    );
  }
  for (const s of pods) lintSourceArn(s, out);
  if (assume.length > 0) lintVerdicts(statements, pods, options, out);
}

/** STS's verdict per cluster ARN, keys the engine can never know, and unscoped statements. */
function lintVerdicts(
  statements: TrustStatement[],
  pods: TrustStatement[],
  options: LintOptions,
  out: TrustFinding[],
): void {
  const first = pods[0]!.index;
  for (const clusterArn of options.clusterArns ?? []) {
    const [, partition = "aws", , region = "", account = ""] = clusterArn.split(":");
    const name = clusterArn.split("/").slice(1).join("/");
    const v = podRequestVerdict(statements, {
      accountId: account,
      cluster: { name, arn: clusterArn },
      ...(options.sessionTagsDisabled ? { sessionTagsDisabled: true } : {}),
    });
    if (v.verdict === "refused" && !(v.code === "SOURCE_ACCOUNT_MISMATCH" && options.accountId)) {
      out.push(
        finding(
          v.code,
          "error",
          first,
          `Pods of cluster ${clusterArn} cannot assume the role: ${v.reason}`,
          v.code === "SOURCE_ARN_EXCLUDES_CLUSTER"
            ? SOURCE_ARN_FIX(region, account, name, partition)
            : "Widen the condition so it holds for the values Pod Identity sends (cluster, namespace, service account)",
        ),
      );
    } else if (v.verdict === "undecided") {
      out.push(
        finding(
          "TRUST_UNDECIDED",
          "warning",
          first,
          `Whether STS accepts pods of ${clusterArn} is undecided: ${v.reason}`,
          "Condition only on keys Pod Identity always sends (aws:SourceAccount, aws:SourceArn, aws:RequestTag/eks-cluster-arn, eks-cluster-name, kubernetes-namespace, kubernetes-service-account)",
        ),
      );
    }
  }
  for (const s of pods) {
    if (s.conditions.length === 0) {
      out.push(
        finding(
          "POD_TRUST_UNSCOPED",
          "warning",
          s.index,
          "pods.eks.amazonaws.com is trusted without any condition: every association in the account, in any cluster and namespace, can use this role",
          `Add "StringEquals": {"aws:SourceAccount": "<account>"} and scope it to clusters (aws:SourceArn) or to service accounts (aws:RequestTag/kubernetes-namespace, kubernetes-service-account)`,
        ),
      );
    }
    if (!options.clusterArns?.length) {
      for (const t of s.conditions) {
        if (KNOWABLE_KEYS.has(t.keyLower)) continue;
        out.push(
          finding(
            "TRUST_UNDECIDED",
            "warning",
            s.index,
            `STS evaluates ${t.key}, whose value the engine cannot know before a pod asks (undocumented for Pod Identity, or set per pod): whether pods are accepted is undecided`,
            "Condition only on keys Pod Identity always sends (aws:SourceAccount, aws:SourceArn, aws:RequestTag/eks-cluster-arn, eks-cluster-name, kubernetes-namespace, kubernetes-service-account)",
          ),
        );
      }
    }
    if (options.sessionTagsDisabled) {
      for (const t of s.conditions) {
        if (!t.keyLower.startsWith("aws:requesttag/")) continue;
        let holds: unknown = true;
        try {
          holds = evaluateConditionEntry(
            { operator: t.operator, key: t.key, values: t.values },
            requestContext(),
          );
        } catch {
          holds = "unknown";
        }
        if (holds === false) {
          out.push(
            finding(
              "REQUEST_TAG_EXCLUDES",
              "error",
              s.index,
              `${t.key} is required but the associations disable session tags, so STS receives no request tags and refuses every pod`,
              "Enable session tags (pod-identity/session-tags=enabled) or remove the aws:RequestTag condition",
            ),
          );
        }
      }
    }
  }
}

function lintSourceAccount(s: TrustStatement, accountId: string, out: TrustFinding[]): void {
  for (const test of s.conditions) {
    if (test.keyLower !== "aws:sourceaccount") continue;
    if (evaluateCondition(test, { "aws:sourceaccount": accountId }) === "no-match") {
      out.push(
        finding(
          "SOURCE_ACCOUNT_MISMATCH",
          "error",
          s.index,
          `aws:SourceAccount ${test.operator} ${JSON.stringify(test.values)} does not allow account ${accountId}`,
          `Set aws:SourceAccount to "${accountId}"`,
        ),
      );
    }
  }
}

function statementSignature(s: TrustStatement): string {
  const principal = (p: TrustStatement["principal"]) =>
    !p
      ? null
      : p.wildcard
        ? "*"
        : Object.entries(p.byType)
            .map(([k, v]) => [k, [...v].sort()])
            .sort();
  const conditions = s.conditions
    .map((c) => [c.base.toLowerCase(), c.ifExists, c.set ?? "", c.keyLower, [...c.values].sort()])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return JSON.stringify([
    s.effect,
    principal(s.principal),
    principal(s.notPrincipal),
    s.actions.map((a) => a.toLowerCase()).sort(),
    s.notActions.map((a) => a.toLowerCase()).sort(),
    conditions,
  ]);
}

/** Lints a trust policy given as text (raw or URL-encoded JSON). Never throws. */
export function lintTrustPolicy(text: unknown, options: LintOptions = {}): TrustFinding[] {
  const parsed = parseTrustPolicy(text);
  if (!parsed.ok) {
    return [
      finding(
        "POLICY_MALFORMED",
        "error",
        null,
        `The trust policy cannot be read: ${parsed.reason}`,
        "Provide a JSON policy document with a Statement",
      ),
    ];
  }
  const out: TrustFinding[] = parsed.problems.map((p) =>
    finding(
      "POLICY_MALFORMED",
      "error",
      p.index,
      `Statement ${p.index} cannot be read: ${p.reason}`,
      "Fix the statement's structure",
    ),
  );
  const { statements } = parsed;
  lintPodIdentity(statements, options, out);
  const seen = new Map<string, number>();
  for (const s of statements) {
    if (s.effect === "Allow" && isWildcardPrincipal(s) && !s.conditions.some(narrows)) {
      out.push(
        finding(
          "WILDCARD_PRINCIPAL",
          "critical",
          s.index,
          'Any AWS principal can assume this role: the principal is "*" and no condition narrows it',
          "Name the principal, or add aws:PrincipalAccount / aws:PrincipalOrgID / aws:SourceAccount conditions",
        ),
      );
    }
    if (s.effect === "Allow" && s.notPrincipal) {
      out.push(
        finding(
          "NOT_PRINCIPAL",
          "critical",
          s.index,
          "NotPrincipal with Allow trusts every principal except the ones listed",
          "Replace NotPrincipal with an explicit Principal",
        ),
      );
    }
    if (options.accountId) lintSourceAccount(s, options.accountId, out);
    lintIrsaStatement(s, out);
    const signature = statementSignature(s);
    const first = seen.get(signature);
    if (first !== undefined) {
      out.push(
        finding(
          "DUPLICATE_STATEMENT",
          "warning",
          s.index,
          `Statement ${s.index} grants exactly what statement ${first} grants`,
          `Remove statement ${s.index}; it only adds to the policy size`,
        ),
      );
    } else {
      seen.set(signature, s.index);
    }
  }
  const limit = options.sizeLimit ?? DEFAULT_TRUST_POLICY_SIZE_LIMIT;
  const size = policySize(parsed.document);
  if (size > limit) {
    out.push(
      finding(
        "TRUST_POLICY_SIZE",
        "error",
        null,
        `The policy is ${size} characters, above the limit of ${limit}`,
        "Merge statements, drop unused trust, or request a higher trust policy size quota",
      ),
    );
  } else if (size >= limit * 0.9) {
    out.push(
      finding(
        "TRUST_POLICY_SIZE",
        "warning",
        null,
        `The policy is ${size} characters, ${Math.round((size / limit) * 100)}% of the limit of ${limit}`,
        "Leave room for migrations: merge statements or move workloads to Pod Identity",
      ),
    );
  }
  return sortFindings(out);
}
