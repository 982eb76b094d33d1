// JSON text where it enters from a file (a saved result, a comparison, a model's metadata): a
// leading UTF-8 byte order mark is dropped, and the text's length, nesting depth and number range
// are checked in one pass before `JSON.parse`, so a hostile file (100,000 nested `[`, `1e999`)
// gets a clear error instead of exhausting the stack of whatever walks the value next, or an
// Infinity no writer produces (JSON.stringify writes null for it).
/** JSON text that is not valid, too long or nested too deep; the message names what was read. */
export class JsonTextError extends Error {
  override name = 'JsonTextError';
  /** What is wrong, worded to follow "the file is …" ("not valid JSON (…)"). */
  readonly problem: string;
  constructor(what: string, problem: string) {
    super(`${what}: ${problem}`);
    this.problem = problem;
  }
}

/** The deepest nesting any MoSEAR file needs is under 12 (a comparison's tensors); 64 is ample. */
export const MAX_JSON_DEPTH = 64;

/** Limits for `parseJsonBounded`; `what` names the source in errors ("result.json"). */
export interface JsonBounds {
  /** Most nested arrays and objects (default `MAX_JSON_DEPTH`). */
  maxDepth?: number;
  /** Most UTF-16 characters of text (default: no limit beyond the engine's). */
  maxChars?: number;
  what: string;
}

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

const E_LOWER = 0x65;

/** The end of the number literal starting at `i`, negated when it has an exponent. */
function numberEnd(text: string, i: number): number {
  let exponent = false;
  let end = i + 1;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if ((c | 0x20) === E_LOWER) exponent = true;
    else if (!((c >= DIGIT_0 && c <= DIGIT_9) || c === 0x2e || c === 0x2b || c === MINUS)) break;
  }
  return exponent ? -end : end;
}

/**
 * What is wrong with the text's structure (nesting deeper than `maxDepth`, or a number literal
 * that overflows to ±Infinity, like 1e999), or null. One pass; strings are skipped.
 */
function structureProblem(text: string, maxDepth: number): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) {
        return `nested too deeply (more than ${maxDepth} levels of arrays or objects, at character ${i})`;
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      const signedEnd = numberEnd(text, i);
      const end = Math.abs(signedEnd);
      // Only a literal with an exponent or 300 digits can overflow; most are short decimals.
      if (signedEnd < 0 || end - i > 300) {
        const literal = text.slice(i, end);
        if (Math.abs(Number(literal)) === Infinity) {
          const shown = literal.length > 24 ? `${literal.slice(0, 21)}...` : literal;
          return `invalid: the number ${shown} at character ${i} is out of range (numbers must be finite)`;
        }
      }
      i = end - 1;
    }
  }
  return null;
}

/** Drops a leading byte order mark (U+FEFF), which editors on Windows add to UTF-8 files. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses JSON text from a file after checking its size, nesting depth and that every number is
 * finite (one pass, strings skipped); a leading BOM is accepted. Throws JsonTextError naming
 * `what` and the offset.
 */
export function parseJsonBounded(text: string, bounds: JsonBounds): unknown {
  const { maxDepth = MAX_JSON_DEPTH, maxChars = Infinity, what } = bounds;
  if (text.length > maxChars) {
    throw new JsonTextError(
      what,
      `too large (${text.length} characters; at most ${maxChars} are read)`,
    );
  }
  const body = withoutBom(text);
  const problem = structureProblem(body, maxDepth);
  if (problem !== null) throw new JsonTextError(what, problem);
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new JsonTextError(what, `not valid JSON (${(error as Error).message})`);
  }
}
