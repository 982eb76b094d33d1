// Command lines through `node:util` parseArgs (strict, positionals allowed), with the CLI's own
// usage errors: an unknown option, a missing value or a repeated single option is a UsageError
// (exit code 2) that names the option. `--` ends the options (for clip names that start with a dash).
import { parseArgs } from 'node:util';
import { UsageError } from './exitCodes';

/** The options a command accepts, in parseArgs' shape: `multiple` options may repeat. */
export type CommandOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** What the parser found. */
export interface ParsedCommandLine {
  /** Per option name (without dashes): a string, a string[] (`multiple`), true (a flag), or absent. */
  values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  positionals: string[];
}

/** Parses `argv` (after the command name) against `options`; throws UsageError on any mistake. */
export function parseCommandLine(
  argv: readonly string[],
  options: CommandOptions,
): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: attachDashValues(argv, options),
      options,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (error) {
    throw usageErrorOf(error, argv, options);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (option?.type !== 'string' || option.multiple === true) continue;
    // parseArgs keeps the last of a repeated single value; the CLI refuses the ambiguity.
    if (seen.has(token.name)) throw new UsageError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * parseArgs (strict) refuses `--tau -1` as ambiguous; the CLI has always taken a value that starts
 * with a single dash (a negative number) as the option's value, so such pairs become `--tau=-1`.
 */
function attachDashValues(argv: readonly string[], options: CommandOptions): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = arg.slice(2);
    const takesValue =
      arg.startsWith('--') && Object.hasOwn(options, name) && options[name]?.type === 'string';
    if (takesValue && next !== undefined && /^-[^-]/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  return args;
}

/** parseArgs' error as the CLI's usage error, naming the option as typed. */
function usageErrorOf(error: unknown, argv: readonly string[], options: CommandOptions): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const rawName = /'(-[^'\s]*)/.exec(message)?.[1];
  if (rawName === undefined) return error instanceof TypeError ? new UsageError(message) : error;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    if (rawName.startsWith('--')) return new UsageError(`unknown option "${rawName}"`);
    const end = argv.indexOf('--');
    const typed =
      (end < 0 ? argv : argv.slice(0, end)).find((a) => a.startsWith(rawName)) ?? rawName;
    return new UsageError(
      `unknown option "${typed}" (a file name starting with "-" goes after "--")`,
    );
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const type = options[rawName.replace(/^-+/, '')]?.type;
    return new UsageError(
      type === 'boolean' ? `${rawName} takes no value` : `${rawName} needs a value`,
    );
  }
  return new UsageError(message);
}

/** The single value of an option, or undefined. */
export function single(parsed: ParsedCommandLine, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a `multiple` option, in the order given. */
export function repeated(parsed: ParsedCommandLine, name: string): string[] {
  const value = parsed.values[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Whether a boolean option was given. */
export function flag(parsed: ParsedCommandLine, name: string): boolean {
  return parsed.values[name] === true;
}

/** A finite number, or a UsageError naming the option. */
export function parseNumber(text: string, option: string): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? NaN : Number(trimmed);
  if (!Number.isFinite(value))
    throw new UsageError(`--${option}: "${text}" is not a finite number`);
  return value;
}

/** A non-negative integer, or a UsageError naming the option. */
export function parseIndex(text: string, option: string): number {
  const value = parseNumber(text, option);
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(`--${option}: "${text}" is not a whole number ≥ 0`);
  }
  return value;
}

/** One of the allowed words, or a UsageError listing them. */
export function parseChoice<T extends string>(
  text: string,
  option: string,
  choices: readonly T[],
): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`--${option}: "${text}" is not one of ${choices.join(', ')}`);
}
