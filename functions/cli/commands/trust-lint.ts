import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import {
  EKS_CLUSTER_ARN,
  hasBlockingFinding,
  lintTrustPolicy,
  SEVERITIES,
  type TrustFinding,
} from "../../core/trust/index.js";
import { terminalSafe } from "../terminal.js";

const SEVERITY_TITLE = { critical: "CRITICAL", error: "ERROR", warning: "WARNING", info: "INFO" } as const;

function accountId(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError("an account id is 12 digits");
  return value;
}

function clusterArn(value: string, previous: string[] = []): string[] {
  if (!EKS_CLUSTER_ARN.test(value)) {
    throw new InvalidArgumentError("expected arn:aws:eks:<region>:<account>:cluster/<name>");
  }
  return [...previous, value];
}

function sizeLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
    throw new InvalidArgumentError("a positive whole number");
  return n;
}

/** Human-readable findings, grouped by severity, each with its fix. */
export function formatFindings(findings: TrustFinding[]): string {
  if (findings.length === 0) return "No findings: the trust policy is clean.\n";
  const lines: string[] = [];
  for (const severity of SEVERITIES) {
    const group = findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push(`${SEVERITY_TITLE[severity]} (${group.length})`);
    for (const f of group) {
      const where = f.statement === null ? "policy" : `statement ${f.statement}`;
      lines.push(`  ${f.code} [${where}] ${f.message}`, `    fix: ${f.fix}`);
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

function readInput(file: string): string | undefined {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch {
    return undefined;
  }
}

/** `podid trust lint FILE|- [--account ID] [--cluster-arn ARN]… [--size-limit N] [--session-tags-disabled] [--json]` */
export function registerTrustLint(program: Command, setExit: (code: number) => void): void {
  const trust = program.command("trust").description("trust policy tools");
  trust
    .command("lint")
    .description("lint a trust policy (raw or URL-encoded JSON) for Pod Identity and IRSA mistakes")
    .argument("<file>", "policy file, or - for standard input")
    .option("--account <id>", "account the role lives in (checks aws:SourceAccount)", accountId)
    .option("--cluster-arn <arn>", "a cluster whose pods must assume the role (repeatable)", clusterArn)
    .option("--size-limit <n>", "trust policy size quota in characters", sizeLimit, 2048)
    .option("--session-tags-disabled", "associations use disableSessionTags, so sts:TagSession is optional")
    .option("--json", "machine-readable output")
    .action(
      (
        file: string,
        opts: {
          account?: string;
          clusterArn?: string[];
          sizeLimit: number;
          sessionTagsDisabled?: boolean;
          json?: boolean;
        },
      ) => {
        const text = readInput(file);
        if (text === undefined) {
          process.stderr.write(`podid: cannot read ${file === "-" ? "standard input" : file}\n`);
          setExit(2);
          return;
        }
        const findings = lintTrustPolicy(text, {
          sizeLimit: opts.sizeLimit,
          ...(opts.account ? { accountId: opts.account } : {}),
          ...(opts.clusterArn ? { clusterArns: opts.clusterArn } : {}),
          ...(opts.sessionTagsDisabled ? { sessionTagsDisabled: true } : {}),
        });
        process.stdout.write(
          opts.json ? `${JSON.stringify({ findings })}\n` : terminalSafe(formatFindings(findings)),
        );
        setExit(hasBlockingFinding(findings) ? 1 : 0);
      },
    );
}
