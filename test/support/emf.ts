import { vi } from "vitest";

/** An EMF document as Powertools Metrics prints it (one JSON line with `_aws`). */
export type EmfDocument = Record<string, any>;

/**
 * Runs `act` and returns the EMF documents printed meanwhile (stdout or console.log, as Lambda
 * ships either to CloudWatch); other output goes through.
 */
export async function captureEmf(act: () => unknown): Promise<EmfDocument[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const keep = (text: string): boolean => {
    if (!text.includes('"_aws"')) return false;
    lines.push(text);
    return true;
  };
  const out = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk: string | Uint8Array, ...rest: any[]) => {
      if (!keep(String(chunk))) write(chunk, ...rest);
      return true;
    });
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void keep(args.join(" ")));
  try {
    await act();
  } finally {
    out.mockRestore();
    log.mockRestore();
  }
  return lines
    .flatMap((l) => l.split("\n"))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as EmfDocument);
}

/** One metric of an EMF document: namespace, name, its dimension set as sorted `name=value`, values. */
export interface EmfMetric {
  namespace: string;
  name: string;
  dims: string;
  values: number[];
}

/** Every metric the documents carry, one entry per (document, directive, metric). */
export function emfMetrics(docs: readonly EmfDocument[]): EmfMetric[] {
  return docs.flatMap((doc) =>
    (doc._aws.CloudWatchMetrics as any[]).flatMap((directive) =>
      (directive.Metrics as { Name: string }[]).map((m) => ({
        namespace: directive.Namespace as string,
        name: m.Name,
        dims: dimensionSet((directive.Dimensions as string[][]).flat().map((k) => [k, String(doc[k])])),
        values: [doc[m.Name]].flat().map(Number),
      })),
    ),
  );
}

/** A CloudWatch alarm's `Dimensions` as the same sorted `name=value` set. */
export function alarmDimensions(dimensions: readonly { Name: string; Value: string }[]): string {
  return dimensionSet(dimensions.map((d) => [d.Name, d.Value]));
}

function dimensionSet(pairs: readonly (readonly [string, string])[]): string {
  return pairs
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(",");
}
