/**
 * The request context a policy is evaluated against: condition keys (case-insensitive) with a
 * single value or a set of values (multivalued keys such as `aws:TagKeys`).
 */

/** A context value as a caller writes it. Arrays make the key multivalued. */
export type ContextValue = string | number | boolean | readonly (string | number | boolean)[];

/** A normalised request context: keys lowercased, values as strings. */
export interface RequestContext {
  /** lowercased key → values; `multi` marks keys given as arrays */
  readonly values: ReadonlyMap<string, { values: string[]; multi: boolean }>;
}

/** Builds a context from plain keys (e.g. `{"aws:PrincipalTag/eks-cluster-name": "a"}`). */
export function requestContext(
  keys: Readonly<Record<string, ContextValue | undefined>> = {},
): RequestContext {
  const values = new Map<string, { values: string[]; multi: boolean }>();
  for (const [key, value] of Object.entries(keys)) {
    if (value === undefined) continue;
    const multi = Array.isArray(value);
    const list = (multi ? (value as readonly unknown[]) : [value]).map((v) => String(v));
    values.set(key.toLowerCase(), { values: list, multi });
  }
  return { values };
}

/** The values of a key, or undefined when the request does not carry it (empty sets count as absent). */
export function contextValues(
  context: RequestContext,
  key: string,
): { values: string[]; multi: boolean } | undefined {
  const entry = context.values.get(key.toLowerCase());
  if (!entry || entry.values.length === 0) return undefined;
  return entry;
}
