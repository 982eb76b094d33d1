// The pure part of `npm run bench` (bench/record.ts): medians and p90 of measured samples, the
// named ratios of issue 16's record, each target's verdict, and the Markdown table of
// bench/RESULTS.md. No I/O, no clocks: the fast tier tests it.

/** Which side of issue 16's comparison a figure measures. */
export type Route = 'project' | 'pytorch' | 'floor';

/** One measured quantity: its samples (ms, or clips/s, or MB) and their median and p90. */
export interface Figure {
  /** What was measured, e.g. `rerun`, `analyze_warm`, `sweep_step`. */
  measure: string;
  route: Route;
  /** The model size (`tiny`, `fixture`, `n1000`) or another qualifier (`one-process`). */
  size: string;
  unit: 'ms' | 'clips/s' | 'MB';
  runs: number;
  median: number;
  p90: number;
  samples: number[];
}

/** The q-quantile by linear interpolation between order statistics (NaN for no values). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** A figure from its samples. */
export function figure(
  measure: string,
  route: Route,
  size: string,
  unit: Figure['unit'],
  samples: readonly number[],
): Figure {
  return {
    measure,
    route,
    size,
    unit,
    runs: samples.length,
    median: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    samples: [...samples],
  };
}

/** One of issue 16's targets: a named ratio and the bound it must keep. */
export interface Target {
  ratio: string;
  /** `min`: the ratio must be at least `bound`; `max`: at most. */
  kind: 'min' | 'max';
  bound: number;
  /** The target as issue 16 words it. */
  text: string;
}

/** Issue 16's targets ("Targets (ratios measured in one run)"), by ratio name. */
export const TARGETS: readonly Target[] = [
  { ratio: 'rerun_speedup_vs_pytorch.n1000', kind: 'min', bound: 3, text: 're-run ≥ 3× faster than PyTorch at 32 × 32 × ~1000' },
  { ratio: 'rerun_speedup_vs_pytorch.fixture', kind: 'min', bound: 2, text: 're-run ≥ 2× faster than PyTorch on the fixture' },
  { ratio: 'rerun_speedup_vs_pytorch.tiny', kind: 'min', bound: 1.5, text: 're-run ≥ 1.5× faster than PyTorch on the tiny model' },
  { ratio: 'rerun_vs_floor.tiny', kind: 'max', bound: 1.3, text: 're-run ≤ 1.3× the floor (tiny)' },
  { ratio: 'rerun_vs_floor.fixture', kind: 'max', bound: 1.3, text: 're-run ≤ 1.3× the floor (fixture)' },
  { ratio: 'rerun_vs_floor.n1000', kind: 'max', bound: 1.3, text: 're-run ≤ 1.3× the floor (~1000 positions)' },
  { ratio: 'analyze_speedup_vs_python', kind: 'min', bound: 1.3, text: 'full analyze of a 10 s clip ≥ 1.3× faster than Python, warm' },
  { ratio: 'cold_cli_vs_python', kind: 'max', bound: 0.5, text: 'cold CLI ≤ 0.5× a fresh Python process' },
  { ratio: 'sweep_step_vs_floor', kind: 'max', bound: 1.3, text: 'τ-sweep step ≤ 1.3× the floor' },
  { ratio: 'eval_speedup_vs_per_frame_decode', kind: 'min', bound: 1.7, text: 'evaluation with decode ≥ 1.7× per-frame decode (clips/s)' },
  { ratio: 'memory_cli_vs_tensors', kind: 'max', bound: 4, text: 'CLI peak RSS above idle ≤ 4× tensor bytes (~1000 positions)' },
  { ratio: 'memory_worker_vs_tensors', kind: 'max', bound: 4, text: 'worker peak RSS above idle ≤ 4× tensor bytes (~1000 positions)' },
]; // prettier-ignore

/** The median of the figure matching measure, route and size, if measured. */
export function medianOf(
  figures: readonly Figure[],
  measure: string,
  route: Route,
  size: string,
): number | undefined {
  const f = figures.find((x) => x.measure === measure && x.route === route && x.size === size);
  return f === undefined || !Number.isFinite(f.median) ? undefined : f.median;
}

/** a / b when both exist and b is not 0. */
function over(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/**
 * The record's ratios under issue 16's names, from the figures' medians (times in ms, so a
 * speed-up is the other route's time over the project's). Missing figures give no entry.
 */
export function ratiosOf(
  figures: readonly Figure[],
  memory: { cliMB?: number; workerMB?: number; workerOpenMB?: number; tensorMB?: number } = {},
): Record<string, number> {
  const out: Record<string, number | undefined> = {};
  for (const size of ['tiny', 'fixture', 'n1000']) {
    const project = medianOf(figures, 'rerun', 'project', size);
    out[`rerun_speedup_vs_pytorch.${size}`] = over(medianOf(figures, 'rerun', 'pytorch', size), project);
    out[`rerun_vs_floor.${size}`] = over(project, medianOf(figures, 'rerun', 'floor', size));
  } // prettier-ignore
  out.analyze_speedup_vs_python = over(
    medianOf(figures, 'analyze_warm', 'pytorch', 'tiny'),
    medianOf(figures, 'analyze_warm', 'project', 'tiny'),
  );
  out.cold_cli_vs_python = over(
    medianOf(figures, 'analyze_cold', 'project', 'tiny'),
    medianOf(figures, 'analyze_cold', 'pytorch', 'tiny'),
  );
  out.sweep_step_vs_floor = over(
    medianOf(figures, 'sweep_step', 'project', 'tiny'),
    medianOf(figures, 'sweep_step', 'floor', 'tiny'),
  );
  out.sweep_step_speedup_vs_pytorch = over(
    medianOf(figures, 'sweep_step', 'pytorch', 'tiny'),
    medianOf(figures, 'sweep_step', 'project', 'tiny'),
  );
  out.eval_speedup_vs_per_frame_decode = over(
    medianOf(figures, 'eval_with_decode', 'project', 'one-process'),
    medianOf(figures, 'eval_with_decode', 'project', 'per-frame'),
  );
  out.eval_speedup_vs_python = over(
    medianOf(figures, 'eval_with_decode', 'project', 'one-process'),
    medianOf(figures, 'eval_with_decode', 'pytorch', 'one-process'),
  );
  out.memory_cli_vs_tensors = over(memory.cliMB, memory.tensorMB);
  out.memory_worker_vs_tensors = over(memory.workerMB, memory.tensorMB);
  // Not a target: the worker's floor (onnxruntime and the open session, no run) over the tensors.
  out.memory_worker_open_vs_tensors = over(memory.workerOpenMB, memory.tensorMB);
  return Object.fromEntries(
    Object.entries(out).filter((e): e is [string, number] => e[1] !== undefined),
  );
}

/** A target's verdict against the ratios: met, missed, or not measured. */
export function verdict(target: Target, ratios: Record<string, number>): 'met' | 'missed' | 'not measured' {
  const r = ratios[target.ratio];
  if (r === undefined || !Number.isFinite(r)) return 'not measured';
  return (target.kind === 'min' ? r >= target.bound : r <= target.bound) ? 'met' : 'missed';
} // prettier-ignore

/** A number for a table: 3 significant digits, `–` when absent. */
export function num(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

/** The Markdown of bench/RESULTS.md's two tables: targets with verdicts, then every figure. */
export function markdownTables(figures: readonly Figure[], ratios: Record<string, number>): string {
  const targets = [
    '| target | ratio | measured | verdict |',
    '|---|---|---:|---|',
    ...TARGETS.map(
      (t) =>
        `| ${t.text} | \`${t.ratio}\` ${t.kind === 'min' ? '≥' : '≤'} ${t.bound} | ${num(ratios[t.ratio])} | ${verdict(t, ratios)} |`,
    ),
  ];
  const rows = [
    '| measure | size | route | runs | median | p90 | unit |',
    '|---|---|---|---:|---:|---:|---|',
    ...figures.map(
      (f) =>
        `| ${f.measure} | ${f.size} | ${f.route} | ${f.runs} | ${num(f.median)} | ${num(f.p90)} | ${f.unit} |`,
    ),
  ];
  return `${targets.join('\n')}\n\n${rows.join('\n')}\n`;
}
