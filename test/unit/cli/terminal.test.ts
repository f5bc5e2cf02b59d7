import { describe, expect, it } from "vitest";
import { formatSummary } from "../../../functions/cli/commands/reconcile.js";
import { renderTable } from "../../../functions/cli/tables.js";
import { terminalSafe } from "../../../functions/cli/terminal.js";

/** Whether text holds a raw ESC, BEL, CR, 8-bit CSI, bidi override or DEL. */
const hasRawControl = (text: string): boolean =>
  [...text].some((c) => "\u001b\u0007\r\u009b\u202e\u007f".includes(c));

const HOSTILE = "a\u001b[2J\u001b]0;pwned\u0007b\rc\u009b31md\u202eevil\u007f";

describe("terminal control characters in CLI text output (security review finding 13)", () => {
  it("shows every control character but newline and tab as a visible escape", () => {
    expect(terminalSafe(HOSTILE)).toBe(
      "a\\u001b[2J\\u001b]0;pwned\\u0007b\\u000dc\\u009b31md\\u202eevil\\u007f",
    );
    expect(terminalSafe("line 1\n\tline 2 ✓ ümlaut 日本")).toBe("line 1\n\tline 2 ✓ ümlaut 日本");
  });

  it("escapes table cells and headings", () => {
    const table = renderTable([`h${HOSTILE}`], [[`v${HOSTILE}`]]);

    expect(table).not.toSatisfy(hasRawControl);
    expect(table).toContain("\\u001b");
  });

  it("leaves nothing raw in a text summary built from hostile findings", () => {
    const text = terminalSafe(
      formatSummary(
        {
          dryRun: true,
          clusters: 1,
          created: 0,
          updated: 0,
          deleted: 0,
          held: 0,
          stale: 0,
          unchanged: 0,
          failed: 0,
          conflicts: 0,
          findingsBySeverity: { critical: 0, error: 1, warning: 0, info: 0 },
          agentInstalled: [],
          catalogRoles: { created: [], updated: [] },
          changes: [],
          findings: [{ code: "TEMPLATE_INVALID", severity: "error", message: `tag ${HOSTILE}` }],
        },
        "Plan",
      ),
    );

    expect(text).not.toSatisfy(hasRawControl);
  });
});
