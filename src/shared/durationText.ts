// Run times as people read them ("12 s", "3 min 5 s"): the CLI's eval progress lines, the Evaluate
// panel's notification and its progress line. Pure, so the webview bundles it too.

/** Milliseconds rounded to whole seconds, minutes shown from 60 s on. */
export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
