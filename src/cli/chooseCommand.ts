// `mosear-lens choose`: applies a stated rule to a finished evaluation's settings of one
// checkpoint, prints the decision table (every candidate, its score, the tie-breaks, why an
// infeasible one failed) and writes the choice file that `eval --choice` evaluates on another
// manifest.
import { join } from 'node:path';
import {
  CHOICE_RULES,
  chooseSetting,
  parseChoiceRule,
  readChoiceSource,
  type SettingChoice,
} from '../core/evaluation/settingChoice';
import { writeFileAtomic } from '../core/io/atomicWrite';
import { EVAL_USAGE } from './evalCommand';
import { flag, parseCommandLine, single } from './commandLine';
import { OutputError, UsageError } from './exitCodes';
import { terminalLines, terminalText as safe } from './terminalText';
import { textTable } from './textTable';

const num = (x: number | null, decimals: number) => (x === null ? '–' : x.toFixed(decimals));

/** The decision table and the verdict, as printed. */
export function formatChoice(choice: SettingChoice): string {
  const by = choice.chosenBy;
  const header = ['rank', 'setting', 'score', 'mean', 'heads', 'α/γ', 'feasible'];
  const rows = choice.candidates.map((c) => [
    c.rank === null ? '–' : String(c.rank),
    c.title,
    num(c.score, 1),
    num(c.mean, 1),
    num(c.meanFlaggedHeads, 2),
    String(c.strength),
    c.feasible ? 'yes' : `no: ${c.reason}`,
  ]);
  const lines = [
    `${safe(choice.checkpoint.name)} on ${safe(by.manifest)} (${by.clips} clips), run ${safe(by.runFolder)}`,
    `rule ${by.rule}: ${by.ruleText}`,
    '',
    ...(rows.length === 0
      ? ['(no candidates: the rule builds its setting from the run)']
      : [
          textTable(
            [header, ...rows],
            ['right', 'left', 'right', 'right', 'right', 'right', 'left'],
          ),
        ]),
    '',
    `chosen: ${safe(choice.chosen.title)}` +
      (choice.chosen.id === choice.chosen.title ? '' : ` (${safe(choice.chosen.id)})`),
  ];
  return terminalLines(`${lines.join('\n')}\n`);
}

/** `mosear-lens choose`. */
export async function chooseCommand(argv: string[]): Promise<void> {
  const parsed = parseCommandLine(argv, {
    checkpoint: { type: 'string' },
    rule: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    console.log(EVAL_USAGE);
    return;
  }
  const [runFolder, ...extra] = parsed.positionals;
  if (runFolder === undefined || extra.length > 0) {
    throw new UsageError('choose takes one run folder (of a finished mosear-lens eval)');
  }
  const ruleText = single(parsed, 'rule') ?? 'ar-defaults';
  if (!Object.hasOwn(CHOICE_RULES, ruleText)) {
    throw new UsageError(
      `--rule: "${ruleText}" is not one of ${Object.keys(CHOICE_RULES).join(', ')}`,
    );
  }
  const source = await readChoiceSource(runFolder);
  const choice = chooseSetting(source, parseChoiceRule(ruleText), single(parsed, 'checkpoint'));
  // Not choice.json: a run of `eval --choice` keeps the choice it evaluated under that name.
  const out =
    single(parsed, 'out') ??
    join(source.runFolder, `choice.${choice.checkpoint.name}.${choice.chosenBy.rule}.json`);
  if (!flag(parsed, 'quiet')) process.stdout.write(formatChoice(choice));
  try {
    await writeFileAtomic(out, `${JSON.stringify(choice, null, 1)}\n`);
  } catch (error) {
    throw new OutputError(`cannot write ${out}: ${(error as Error).message}`);
  }
  console.error(
    `wrote ${out}: evaluate it once on another manifest with mosear-lens eval <manifest> --choice ${out}`,
  );
}
