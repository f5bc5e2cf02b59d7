import Table from "cli-table3";
import { terminalSafe } from "./terminal.js";

/** Renders rows as a boxed table for terminals. */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head: head.map(terminalSafe), style: { head: [], border: [] }, wordWrap: true });
  for (const row of rows) table.push(row.map((c) => terminalSafe(String(c))));
  return table.toString();
}
