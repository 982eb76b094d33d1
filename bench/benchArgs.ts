// The benchmarks' shared command line: one count option (`--runs` or `--clips`) and `--json FILE`,
// read with node:util's parseArgs; anything else prints the usage and exits (0 for --help, 2).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** The count option of a benchmark: its name, default and floor. */
export interface CountOption {
  name: 'runs' | 'clips';
  default: number;
  min: number;
}

/** A benchmark's parsed options; `json` is the default path when `--json` is not given. */
export interface BenchArgs<Json extends string | undefined> {
  count: number;
  json: string | Json;
}

/** Parses `argv` (without node and the script); `defaultJson` is where `--json` writes by default. */
export function benchArgs<Json extends string | undefined>(
  argv: string[],
  script: string,
  count: CountOption,
  defaultJson: Json,
  print: (line: string) => void,
): BenchArgs<Json> {
  const usage = (code: number): never => {
    print(
      `usage: node dist/bench/${script}.js [--${count.name} N (default ${count.default})] [--json FILE]`,
    );
    process.exit(code);
  };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        [count.name]: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) usage(0);
    const text = values[count.name];
    const n = text === undefined ? count.default : Number(text);
    if (typeof text === 'boolean' || !Number.isInteger(n)) return usage(2);
    const json = values.json;
    return {
      count: Math.max(count.min, n),
      json: typeof json === 'string' ? resolve(json) : defaultJson,
    };
  } catch {
    return usage(2);
  }
}
