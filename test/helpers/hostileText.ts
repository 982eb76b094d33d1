// Hostile strings for the terminal-injection tests: what counts as a control character, and a
// way to make every string of a value hostile.

/** Any character a terminal acts on, line feed aside. */
export const TERMINAL_CONTROL =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** A deep copy with `suffix` added to every string (object keys left alone). */
export function withSuffixOnEveryString<T>(value: T, suffix: string): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return `${x}${suffix}`;
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === 'object') {
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
    }
    return x;
  };
  return walk(value) as T;
}
