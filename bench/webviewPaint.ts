// `npm run bench:webview`: issue 15's two webview timings, in the headless Chromium of the
// webview tier (test/helpers/webviewBrowser.ts), on the 32 × 32 full-shape fixture's result
// (test/helpers/fullShapeResult.ts: models/fixtures/emotion-llama-fullshape.onnx on a shipped clip):
//   (a) first paint: the `init` message's arrival in a fresh page to the next painted frame with
//       the header, prediction, UAP and the 1024-cell head grid drawn (the panel draws every view
//       in one pass); with the summaries and rows on demand (what the host sends), and, for
//       comparison, with the whole result inline (what it sent before rows on demand);
//   (b) head click: a click on a grid cell not fetched before to the next painted frame of the
//       token view with that head's rows, their two requests' round trip through the harness's
//       host side (test/helpers/rowHost.ts: Node answers with the host's own code) included.
// Medians and p90 (bench/recordStats.ts). Writes bench/webview.json and the section of
// bench/RESULTS.md between its markers. Not a test.
// Usage: node dist/bench/webviewPaint.js [--runs N] [--out DIR]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AnalysisEngine } from '../src/core/engine/analysisEngine';
import { replaceMarkedSection } from '../src/core/reports/markedSection';
import type { AnalysisResult } from '../src/protocol/analysisResult';
import type { PanelInit } from '../src/protocol/panelMessages';
import { jsonReadyTokenRows } from '../src/protocol/tokenRows';
import { tokenRowsIndex, withoutTokenRows } from '../src/shared/panelRows';
import { FULL_SHAPE, fullShapeResult } from '../test/helpers/fullShapeResult';
import {
  openWithRowHost,
  realRowAnswers,
  timeFirstPaint,
  timeHeadClick,
} from '../test/helpers/rowHost';
import { launchTestChromium, serveBundle } from '../test/helpers/webviewBrowser';
import { figure, type Figure } from './recordStats';

/** dist/bench/webviewPaint.js lives two folders below the repository root. */
const root = resolve(__dirname, '..', '..');
const WORKER = join(root, 'dist', 'core', 'inferenceWorker.js');
const BEGIN = '<!-- BEGIN bench/webviewPaint.ts -->';
const END = '<!-- END bench/webviewPaint.ts -->';
/** Issue 15's targets, ms. */
const TARGETS = { firstPaint: 1500, headClick: 100 } as const;
const VIEWPORT = { width: 1280, height: 800 };

const log = (line: string) => console.error(line);

function initFor(r: AnalysisResult, onDemand: boolean): PanelInit {
  return {
    origin: { kind: 'clip', clipPath: r.clip.path, modelPath: r.model.path },
    result: onDemand ? withoutTokenRows(r) : r,
    ...(onDemand ? { rows: tokenRowsIndex(r) } : {}),
    canRun: true,
    readOnlyReason: null,
    workspaceDefaults: null,
    debounceMs: 250,
  };
}

/** The Markdown section of bench/RESULTS.md. */
function markdown(figures: Figure[], header: string): string {
  const target = (f: Figure): string =>
    f.measure === 'first_paint' ? `≤ ${TARGETS.firstPaint} ms` : `≤ ${TARGETS.headClick} ms`;
  const bound = (f: Figure): number =>
    f.measure === 'first_paint' ? TARGETS.firstPaint : TARGETS.headClick;
  const rows = figures.map((f) => {
    // A part of a measure is shown for where the time goes; the target is the whole's.
    const part = f.size.startsWith('of which');
    const verdict = part ? '–' : f.median <= bound(f) ? 'met' : 'missed';
    return `| ${f.measure.replace('_', ' ')} | ${f.size} | ${f.runs} | ${f.median.toFixed(1)} | ${f.p90.toFixed(1)} | ${part ? '–' : target(f)} | ${verdict} |`;
  });
  return [
    '',
    header,
    '',
    '| measure | what the page gets | runs | median ms | p90 ms | target | verdict (median) |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string' }, out: { type: 'string' } },
  });
  const runs = values.runs === undefined ? 12 : Number(values.runs);
  const out = values.out ?? join(root, 'bench');
  const loadAtStart = loadavg()[0]!;
  const started = Date.now();
  const engine = new AnalysisEngine({ workerScript: WORKER, cores: 1, toolVersion: 'bench' });
  const dir = mkdtempSync(join(tmpdir(), 'mosear-bench-webview-'));
  const server = await serveBundle('analysis');
  const context = await launchTestChromium(dir);
  const figures: Figure[] = [];
  try {
    log('analysing the 32 × 32 fixture…');
    const result = await fullShapeResult(engine);
    const url = `${server.origin}/panel`;
    const problems: string[] = [];
    const cells = FULL_SHAPE.layers * FULL_SHAPE.heads;
    for (const [size, onDemand] of [
      ['summaries, rows on demand', true],
      ['whole result inline', false],
    ] as const) {
      const samples: number[] = [];
      // One warm-up page (the bundle's first compile), not counted.
      for (let i = 0; i <= runs; i++) {
        const init = onDemand ? initFor(result, true) : jsonReadyTokenRows(initFor(result, false));
        const page = await openWithRowHost(context, url, init, realRowAnswers(result), problems, {
          autoInit: false,
        });
        await page.setViewportSize(VIEWPORT);
        const ms = await timeFirstPaint(page, cells);
        await page.close();
        if (i > 0) samples.push(ms);
        log(`first paint (${size}) ${i === 0 ? 'warm-up' : `#${i}`}: ${ms.toFixed(1)} ms`);
      }
      figures.push(figure('first_paint', 'project', size, 'ms', samples));
    }
    const page = await openWithRowHost(
      context,
      url,
      initFor(result, true),
      realRowAnswers(result),
      problems,
    );
    await page.setViewportSize(VIEWPORT);
    const clicks: number[] = [];
    const renders: number[] = [];
    // Distinct heads over every layer: each click fetches rows not asked for before.
    for (let i = 0; i <= runs; i++) {
      const layer = (i * 7 + 3) % FULL_SHAPE.layers;
      const head = (i * 11 + 5) % FULL_SHAPE.heads;
      const { totalMs, clickRenderMs } = await timeHeadClick(page, layer, head);
      if (i > 0) {
        clicks.push(totalMs);
        renders.push(clickRenderMs);
      }
      log(
        `head click ${layer}:${head} ${i === 0 ? 'warm-up' : `#${i}`}: ${totalMs.toFixed(1)} ms (the click's own redraw ${clickRenderMs.toFixed(1)} ms)`,
      );
    }
    await page.close();
    figures.push(figure('head_click', 'project', 'summaries, rows on demand', 'ms', clicks));
    // Of which: the click's synchronous redraw (the views that show the selection), rows not yet in.
    figures.push(figure('head_click', 'project', 'of which the click’s own redraw', 'ms', renders));
    if (problems.length > 0) throw new Error(`the page reported problems: ${problems.join('; ')}`);
  } finally {
    await context.close();
    await server.close();
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAtEnd = loadavg()[0]!;
  const when = new Date(started).toISOString().slice(0, 16);
  const header = `Run ${when} UTC on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, node ${process.version}, headless Chromium at ${VIEWPORT.width} × ${VIEWPORT.height}, the 32 × 32 fixture's result (N ${FULL_SHAPE.tokens}); ${runs} runs each after one warm-up; load average ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at the end.`;
  writeFileSync(
    join(out, 'webview.json'),
    `${JSON.stringify(
      {
        createdAt: new Date(started).toISOString(),
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        targetsMs: TARGETS,
        figures,
      },
      null,
      2,
    )}\n`,
  );
  const resultsMd = join(out, 'RESULTS.md');
  let text = '';
  try {
    text = readFileSync(resultsMd, 'utf8');
  } catch {
    // A fresh --out folder: the section starts the file.
  }
  writeFileSync(resultsMd, replaceMarkedSection(text, BEGIN, END, markdown(figures, header)));
  console.log(markdown(figures, header));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
