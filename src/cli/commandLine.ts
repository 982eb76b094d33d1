// A small command-line parser: `--name value`, `--name=value`, boolean flags, repeatable
// options, positionals, and `--` to end options (for clip names that start with a dash).
import { UsageError } from './exitCodes';

/** An option a command accepts. */
export interface OptionSpec {
  name: string;
  /** True when the option takes a value. */
  takesValue: boolean;
  /** May be given more than once (values accumulate). */
  repeatable?: boolean;
}

/** What the parser found. */
export interface ParsedCommandLine {
  /** Values per option name (without dashes), in order given. */
  values: Map<string, string[]>;
  /** Boolean flags given. */
  flags: Set<string>;
  positionals: string[];
}

/** Parses `argv` (after the command name) against `specs`; throws UsageError on any mistake. */
export function parseCommandLine(
  argv: readonly string[],
  specs: readonly OptionSpec[],
): ParsedCommandLine {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: ParsedCommandLine = { values: new Map(), flags: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-') {
        throw new UsageError(
          `unknown option "${arg}" (a file name starting with "-" goes after "--")`,
        );
      }
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (spec === undefined) throw new UsageError(`unknown option "--${name}"`);
    if (!spec.takesValue) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        throw new UsageError(`--${name} needs a value`);
      }
      i++;
    }
    const list = out.values.get(name) ?? [];
    if (list.length > 0 && spec.repeatable !== true) {
      throw new UsageError(`--${name} is given more than once`);
    }
    list.push(value);
    out.values.set(name, list);
  }
  return out;
}

/** The single value of an option, or undefined. */
export function single(parsed: ParsedCommandLine, name: string): string | undefined {
  return parsed.values.get(name)?.[0];
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
