// Text from files (clip names, labels, checkpoint names, every string of a shared result or a
// model's metadata) made safe to print: a terminal acts on control characters, so an ESC or CSI
// in a label could retitle the window, recolour it or rewrite what was printed. Every control
// character is shown as a visible escape instead (`\x1b`, `\x9b`, `\u202e`).

/**
 * C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), and the bidirectional overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069), which reorder what a reader sees.
 */
function isControl(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function escaped(text: string, keepNewline: boolean): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code) || (keepNewline && code === 0x0a)) continue;
    const hex = code.toString(16);
    out += text.slice(from, i) + (code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex}`);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** One field from a file, safe to print on one line (line breaks escaped too). */
export function terminalText(text: string): string {
  return escaped(text, false);
}

/** Lines of text (a message, a summary), safe to print: controls escaped, line feeds kept. */
export function terminalLines(text: string): string {
  return escaped(text, true);
}
