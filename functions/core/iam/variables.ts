/**
 * Policy variables (`${aws:PrincipalTag/eks-cluster-name}`, `${aws:username}`,
 * `${aws:PrincipalTag/team, 'default'}`) and the escapes `${*}`, `${?}`, `${$}`.
 *
 * IAM substitutes them only in `Resource`/`NotResource` and in the values of condition operators
 * that document support for them (String*, Arn*, Bool); never in condition keys, `Action`, or
 * Numeric/Date/Binary/IpAddress values, where `${...}` is literal text (see `checkPolicy`).
 * A variable whose key the request lacks (and that has no default), or whose key is multivalued,
 * cannot be resolved: the element that uses it matches nothing.
 */
import type { RequestContext } from "./context.js";
import { contextValues } from "./context.js";
import type { Token } from "./glob.js";

const VARIABLE = /\$\{([^}]*)\}/g;

/** The variable names a string references, escapes excluded (`${*}`, `${?}`, `${$}`). */
export function variablesIn(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(VARIABLE)) {
    const body = m[1]!.trim();
    if (body === "*" || body === "?" || body === "$") continue;
    names.push(body.split(",")[0]!.trim());
  }
  return names;
}

/** Whether a string contains `${`… at all (variable or escape). */
export function hasVariableSyntax(text: string): boolean {
  return /\$\{[^}]*\}/.test(text);
}

function literalTokens(text: string): Token[] {
  return [...text].map((ch) => ({ literal: ch }));
}

function resolve(body: string, context: RequestContext): string | undefined {
  const comma = body.indexOf(",");
  const key = (comma < 0 ? body : body.slice(0, comma)).trim();
  const entry = contextValues(context, key);
  if (entry && !entry.multi && entry.values.length === 1) return entry.values[0];
  if (entry?.multi) return undefined;
  if (comma < 0) return undefined;
  const fallback = body.slice(comma + 1).trim();
  const quoted = /^'(.*)'$/s.exec(fallback);
  return quoted ? quoted[1] : undefined;
}

/**
 * Tokens of a pattern with variables substituted: wildcards written in the policy stay
 * wildcards, substituted text and escapes are literal. Undefined when a variable cannot be
 * resolved.
 */
export function substitute(text: string, context: RequestContext): Token[] | undefined {
  const tokens: Token[] = [];
  let last = 0;
  for (const m of text.matchAll(VARIABLE)) {
    for (const ch of text.slice(last, m.index))
      tokens.push(ch === "*" ? "*" : ch === "?" ? "?" : { literal: ch });
    last = m.index + m[0].length;
    const body = m[1]!.trim();
    if (body === "*" || body === "?" || body === "$") {
      tokens.push({ literal: body });
      continue;
    }
    const value = resolve(body, context);
    if (value === undefined) return undefined;
    tokens.push(...literalTokens(value));
  }
  for (const ch of text.slice(last)) tokens.push(ch === "*" ? "*" : ch === "?" ? "?" : { literal: ch });
  return tokens;
}

/** The text of tokens (wildcards as `*`/`?`), for operators that compare literally. */
export function tokensText(tokens: readonly Token[]): string {
  return tokens.map((t) => (t === "*" || t === "?" ? t : t.literal)).join("");
}
