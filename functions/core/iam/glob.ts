/**
 * Wildcard matching as IAM does it (`*` any run of characters, `?` exactly one), without regular
 * expressions: the pattern is split at `*` into segments; the first must match at the start, the
 * last at the end, and each middle one is taken at its leftmost place (greedy leftmost placement
 * is optimal for `*`-separated segments, so there is no backtracking). Cost is
 * O(|value| · |segment|) in the worst case for segments containing `?`, O(|value| + |pattern|) for
 * the rest: no input can make it blow up, unlike a backtracking regex.
 */

/** One character of a compiled pattern: a literal character, or `ANY_ONE` for `?`. */
export const ANY_ONE = null;
type PatternChar = string | typeof ANY_ONE;

/** A compiled pattern: the segments between `*`s (at least one; `*` alone is two empty ones). */
export interface Glob {
  segments: PatternChar[][];
}

/** A pattern token: a literal character, a `*` wildcard, or a `?` wildcard. */
export type Token = { literal: string } | "*" | "?";

/** Tokens of a plain pattern (no policy variables): `*` and `?` are wildcards. */
export function tokensOf(pattern: string): Token[] {
  return [...pattern].map((ch) => (ch === "*" ? "*" : ch === "?" ? "?" : { literal: ch }));
}

/** Compiles tokens (optionally lowercasing literals, for case-insensitive matching). */
export function compileGlob(tokens: readonly Token[], ignoreCase = false): Glob {
  const segments: PatternChar[][] = [[]];
  for (const t of tokens) {
    if (t === "*") segments.push([]);
    else
      segments[segments.length - 1]!.push(
        t === "?" ? ANY_ONE : ignoreCase ? t.literal.toLowerCase() : t.literal,
      );
  }
  return { segments };
}

function matchesAt(segment: PatternChar[], value: string[], at: number): boolean {
  if (at + segment.length > value.length) return false;
  for (let i = 0; i < segment.length; i++) {
    const p = segment[i];
    if (p !== ANY_ONE && p !== value[at + i]) return false;
  }
  return true;
}

function findFrom(segment: PatternChar[], value: string[], from: number, until: number): number {
  for (let at = from; at + segment.length <= until; at++) {
    if (matchesAt(segment, value, at)) return at;
  }
  return -1;
}

/** Whether a compiled pattern matches a value (characters are code points). */
export function globTest(glob: Glob, input: string, ignoreCase = false): boolean {
  const value = [...(ignoreCase ? input.toLowerCase() : input)];
  const { segments } = glob;
  if (segments.length === 1) {
    const only = segments[0]!;
    return only.length === value.length && matchesAt(only, value, 0);
  }
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  if (first.length + last.length > value.length) return false;
  if (!matchesAt(first, value, 0)) return false;
  const end = value.length - last.length;
  if (!matchesAt(last, value, end)) return false;
  let pos = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    const at = findFrom(seg, value, pos, end);
    if (at < 0) return false;
    pos = at + seg.length;
  }
  return true;
}

/** Convenience: whether a plain pattern (`*`, `?` wildcards) matches a value. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  return globTest(compileGlob(tokensOf(pattern), ignoreCase), value, ignoreCase);
}

/** Splits tokens at literal `:` into at most `parts` pieces (the last keeps later colons). */
export function splitTokens(tokens: readonly Token[], parts: number): Token[][] {
  const out: Token[][] = [[]];
  for (const t of tokens) {
    if (t !== "*" && t !== "?" && t.literal === ":" && out.length < parts) out.push([]);
    else out[out.length - 1]!.push(t);
  }
  return out;
}

/** Splits an ARN into its six components (partition…resource; the resource keeps its colons). */
export function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(":");
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

/**
 * ARN matching as IAM's `Resource` element and `Arn*` operators do it: each of the six
 * colon-separated components is matched separately, wildcards do not cross components. A
 * pattern of fewer than six components (such as `*`) is matched against the whole value.
 */
export function arnTokensMatch(tokens: readonly Token[], arn: string): boolean {
  const patternParts = splitTokens(tokens, 6);
  if (patternParts.length < 6) return globTest(compileGlob(tokens), arn);
  const valueParts = splitArn(arn);
  if (!valueParts) return false;
  return patternParts.every((p, i) => globTest(compileGlob(p), valueParts[i]!));
}
