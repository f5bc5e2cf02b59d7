import Table from "cli-table3";

/** Renders rows as a boxed table for terminals. */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head, style: { head: [], border: [] }, wordWrap: true });
  for (const row of rows) table.push(row.map((c) => String(c)));
  return table.toString();
}
