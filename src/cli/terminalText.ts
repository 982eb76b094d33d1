// Text from files (clip names, labels, checkpoint names, every string of a shared result or a
// model's metadata) made safe to print: a terminal acts on control characters, so an ESC or CSI
// in a label could retitle the window, recolour it or rewrite what was printed. Every control
// character is shown as a visible escape instead (`\x1b`, `\x9b`, `\u202e`).

/**
 * C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), and the bidirectional overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069), which reorder what a reader sees.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same without the line feed, for text that is several lines by design. */
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One field from a file, safe to print on one line (line breaks escaped too). */
export function terminalText(text: string): string {
  return text.replace(CONTROL, visible);
}

/** Lines of text (a message, a summary), safe to print: controls escaped, line feeds kept. */
export function terminalLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, visible);
}
