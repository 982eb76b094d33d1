// The words every report of an evaluated choice uses (`eval --choice`: the CLI's summary,
// scores.csv, the Evaluate panel and its HTML report): where the setting was chosen, by which
// rule, and the warning when it was chosen on the manifest it is reported on.
import type { ChosenBy } from '../protocol/evaluationSummary';

/** "chosen on <manifest> (300 clips) by rule ar-defaults". */
export function chosenByText(chosenBy: ChosenBy): string {
  return `chosen on ${chosenBy.manifest} (${chosenBy.clips} clips) by rule ${chosenBy.rule}`;
}

/** The warning for a setting chosen on the very manifest it is evaluated on. */
export const SELECTION_ON_TEST_WARNING =
  'selection on test: this setting was chosen on this very manifest, so its scores here are ' +
  'optimistic; choose on a validation split and evaluate on another';

/** chosenByText, followed by the warning when the setting was chosen on this manifest. */
export function chosenByLine(chosenBy: ChosenBy & { sameManifest: boolean }): string {
  const text = chosenByText(chosenBy);
  return chosenBy.sameManifest ? `${text}. WARNING, ${SELECTION_ON_TEST_WARNING}` : text;
}
