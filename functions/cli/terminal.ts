/**
 * Text the podid command prints comes partly from data others write (trust policies, tags, error
 * messages of AWS). Terminal control characters in it could move the cursor, rewrite what the
 * operator sees or set the window title (security review finding 13), so text output shows them
 * as visible escapes. Kept: line feed and tab, which the tables and reports use themselves.
 * Escaped: the other C0 controls (ESC, BEL, CR, backspace …), DEL, the C1 controls (8-bit CSI,
 * OSC …) and the Unicode bidirectional overrides and isolates, which reorder what is shown.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every terminal control character but \n and \t shown as a \uXXXX escape. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
