// The Evaluate panel's built bundle (dist/webview/evaluation.js) in headless Chromium, fed a REAL
// summary: `runBenchmark` on 15 clips of the committed test split (5 per subset) with both shipped
// checkpoints and a 3-point α sweep. Behind the host's CSP with a stub VS Code API recording every
// posted message, and as a self-contained HTML report opened offline.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { SystemFfmpegDecoder } from '../../src/core/decode/systemFfmpegDecoder';
import { runBenchmark } from '../../src/core/evaluation/benchmarkRun';
import { summarizeBenchmark } from '../../src/core/evaluation/benchmarkSummary';
import { parseSweep } from '../../src/core/evaluation/evaluationSettings';
import { buildReportPage } from '../../src/core/reports/htmlReport';
import {
  parseEvaluationMessage,
  type EvaluationInit,
  type EvaluationToHost,
  type HostToEvaluation,
} from '../../src/protocol/evaluationMessages';
import {
  BASELINE_MODEL,
  MODEL,
  WORKER_SCRIPT,
  requireEngineFiles,
} from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { decodePng, distinctColours } from '../helpers/pngPixels';
import { writeSplitManifest } from '../helpers/splitManifest';
import {
  BUNDLE_DIR,
  canvasStats,
  launchTestChromium,
  openWithStubApi,
  serveBundle,
  watchProblems,
  type BundleServer,
  type PageElement,
  type StubRecord,
} from '../helpers/webviewBrowser';
import type { BenchmarkSummary, PairedDelta } from '../../src/protocol/evaluationSummary';

const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'webview');
// An α sweep: strong α flips answers on 15 clips (τ alone moves no answer at the defaults).
const ALPHAS = [0.1, 0.5, 0.9];

type Recorded = StubRecord<EvaluationToHost, unknown>;

/** The page globals these tests touch (the test config has no DOM types). */
interface PageGlobals {
  __mosear: Recorded;
  postMessage(message: unknown, targetOrigin: string): void;
  requestAnimationFrame(callback: (time: number) => void): number;
  Event: new (type: string) => unknown;
  document: { activeElement: PageElement | null };
  __changes?: number;
}

describe('Evaluate panel webview', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosear-eval-webview-'));
  let summary: BenchmarkSummary;
  let context: BrowserContext;
  let server: BundleServer;
  const problems: string[] = [];

  before(async () => {
    requireEngineFiles();
    const manifest = writeSplitManifest(dir, 5);
    const started = performance.now();
    const outcome = await runBenchmark({
      manifest,
      models: [BASELINE_MODEL, MODEL],
      sweeps: [parseSweep(`alpha=${ALPHAS.join(',')}`)],
      jobs: 2,
      workerScript: WORKER_SCRIPT,
      decoder: new SystemFfmpegDecoder({}),
    });
    console.log(`runBenchmark on 15 clips: ${Math.round(performance.now() - started)} ms`);
    // JSON round trip: the panel only ever sees JSON (NaN becomes null).
    summary = JSON.parse(
      JSON.stringify(
        summarizeBenchmark(outcome.plan, outcome.entries, outcome.records, outcome.progress.total),
      ),
    ) as BenchmarkSummary;
    assert.equal(summary.clips, 15);

    server = await serveBundle('evaluation');
    context = await launchTestChromium(dir);
  });

  after(async () => {
    await context?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function initOf(status: EvaluationInit['status'], withSummary = true): EvaluationInit {
    return {
      origin: { kind: 'run', runDir: '/tmp/run' },
      title: 'ca-mer-small',
      runDirNote: 'Run folder in the workspace: /tmp/run',
      status,
      progress: { done: 15, total: 15, resumed: 0, failed: 0, elapsedMs: 1000, etaMs: null },
      summary: withSummary ? summary : null,
      error: null,
      canOpenClips: true,
    };
  }

  function openPanel(init: EvaluationInit): Promise<Page> {
    return openWithStubApi(context, `${server.origin}/panel`, init, null, problems);
  }

  async function recorded(page: Page): Promise<Recorded> {
    const r = await page.evaluate(() => (globalThis as unknown as PageGlobals).__mosear);
    for (const m of r.posted) parseEvaluationMessage(m);
    return r;
  }

  async function send(page: Page, message: HostToEvaluation): Promise<void> {
    await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message);
    await nextFrame(page);
  }

  /**
   * Picks an option of a toolkit select (as the Analysis tests do) and fires its change event;
   * views redraw on the next animation frame, so wait for it.
   */
  async function select(page: Page, selector: string, value: string): Promise<void> {
    await page.$eval(
      selector,
      (element, v) => {
        const e = element as unknown as PageElement;
        e.value = v;
        if (e.value !== v) throw new Error(`no option ${JSON.stringify(v)}`);
        e.dispatchEvent(new (globalThis as unknown as PageGlobals).Event('change'));
      },
      value,
    );
    await nextFrame(page);
  }

  async function nextFrame(page: Page): Promise<void> {
    await page.evaluate(
      () =>
        new Promise((resolve) =>
          (globalThis as unknown as PageGlobals).requestAnimationFrame(resolve),
        ),
    );
  }

  /** The text of every element matching a selector (the test config has no DOM types). */
  async function texts(page: Page, selector: string): Promise<string[]> {
    return page.$$eval(selector, (nodes) =>
      nodes.map((n) => (n as unknown as { textContent: string | null }).textContent ?? ''),
    );
  }

  async function assertClean(page: Page): Promise<void> {
    const r = await recorded(page);
    assert.deepEqual(r.violations, [], 'CSP violations');
    assert.deepEqual(
      r.posted.filter((m) => m.type === 'webviewError'),
      [],
    );
    assert.deepEqual(problems, []);
  }

  test('the scores tables show the summary’s numbers for every checkpoint and setting', async () => {
    const page = await openPanel(initOf('finished'));
    for (const c of summary.checkpoints) {
      assert.equal(c.settings.length, 3 + ALPHAS.length);
      for (const s of c.settings) {
        const cell = (col: string) =>
          page.textContent(
            `[data-testid=eval-scores] table[data-checkpoint="${c.name}"] tr[data-setting="${s.id}"] td[data-col="${col}"]`,
          );
        const fixed = (v: number | null) => (v === null ? '–' : v.toFixed(1));
        assert.equal(await cell('overall:accuracy'), fixed(s.overall.accuracy));
        assert.equal(await cell('overall:weightedF1'), fixed(s.overall.weightedF1));
        for (const subset of summary.subsets) {
          assert.equal(
            await cell(`${subset}:accuracy`),
            fixed(s.bySubset[subset]?.accuracy ?? null),
          );
        }
        assert.equal(await cell('gap'), fixed(s.gap));
        assert.equal(await cell('heads'), s.meanFlaggedHeads.toFixed(2));
      }
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'evaluate-dark.png'), fullPage: true });
    await assertClean(page);
    await page.close();
  });

  test('the scores tables mark the rows whose setting cannot change the model', async () => {
    const page = await openPanel(initOf('finished'));
    const marked = (name: string) =>
      page.$$eval(
        `[data-testid=eval-scores] table[data-checkpoint="${name}"] tr.no-effect-row`,
        (rows) =>
          rows.map((r) => [
            (r as unknown as { dataset: Record<string, string> }).dataset['setting'] ?? '',
            (r as unknown as { textContent: string }).textContent.includes('no effect: α = 0'),
          ]),
      );
    // AR at α 0 equals off: mosear-tiny's default α is 0, emotion-llama-tiny's is 0.1 (the
    // sweep's α are all above 0).
    assert.deepEqual(await marked('mosear-tiny'), [['ar', true]]);
    assert.deepEqual(await marked('emotion-llama-tiny'), []);
    await assertClean(page);
    await page.close();
  });

  test('Δ vs off per subset: interval, n.s. mark and McNemar p equal the summary’s; the setting column stays visible', async () => {
    const page = await openPanel(initOf('finished'));
    const near = (shown: string, value: number, tolerance: number, what: string) =>
      assert.ok(Math.abs(Number(shown) - value) <= tolerance, `${what}: ${shown} vs ${value}`);
    let compared = 0;
    for (const c of summary.checkpoints) {
      for (const s of c.settings) {
        const row = `[data-testid=eval-scores] table[data-checkpoint="${c.name}"] tr[data-setting="${s.id}"]`;
        const versus = s.versusOff;
        assert.ok(versus !== undefined, 'the summary carries versusOff');
        if (versus === null) {
          assert.equal(s.id, 'off');
          assert.equal(await page.textContent(`${row} td[data-col="overall:delta"]`), '–');
          continue;
        }
        for (const group of [...summary.subsets, 'overall']) {
          const d: PairedDelta | undefined =
            group === 'overall' ? versus.overall : versus.bySubset[group];
          assert.ok(d !== undefined, group);
          const cell = `${row} td[data-col="${group}:delta"]`;
          const what = `${c.name} ${s.id} ${group}`;
          near((await page.textContent(`${cell} .delta`)) ?? '', d.delta, 0.05, `${what} Δ`);
          const interval = /^\[(-?[\d.]+), (-?[\d.]+)\]$/.exec(
            (await page.textContent(`${cell} .ci`)) ?? '',
          );
          assert.ok(interval !== null, `${what} interval`);
          near(interval[1] ?? '', d.ciLow, 0.05, `${what} low`);
          near(interval[2] ?? '', d.ciHigh, 0.05, `${what} high`);
          assert.equal(await page.isVisible(`${cell} .ns`), d.coversZero, `${what} n.s.`);
          const title = (await page.getAttribute(cell, 'title')) ?? '';
          assert.match(title, new RegExp(`w→r ${d.wrongToRight} / r→w ${d.rightToWrong}`));
          compared++;
        }
        const p = (await page.textContent(`${row} td[data-col="mcnemar-p"]`)) ?? '';
        if (p === '<0.001') assert.ok(versus.overall.mcnemarP < 0.001);
        else near(p, versus.overall.mcnemarP, 0.0005, `${c.name} ${s.id} p`);
        // The overall flips shown next to p are McNemar's b and c.
        assert.equal(
          await page.textContent(`${row} td[data-col="wrong-to-right"]`),
          String(versus.overall.wrongToRight),
        );
        assert.equal(
          await page.textContent(`${row} td[data-col="right-to-wrong"]`),
          String(versus.overall.rightToWrong),
        );
      }
    }
    assert.equal(compared, summary.checkpoints.length * 5 * (summary.subsets.length + 1));
    assert.match(
      (await page.textContent('[data-testid=eval-delta-note]')) ?? '',
      /per setting, uncorrected for the number of settings in a sweep/,
    );
    // At 900 px the table scrolls sideways; the setting column stays at the left edge.
    await page.setViewportSize({ width: 900, height: 800 });
    const first = summary.checkpoints[0];
    assert.ok(first !== undefined);
    const checkpointTable = `table[data-checkpoint="${first.name}"]`;
    const table = `[data-testid=eval-scores] ${checkpointTable}`;
    const scroller = await page.$(
      `[data-testid=eval-scores] .table-scroll:has(> ${checkpointTable})`,
    );
    assert.ok(scroller !== null);
    const scrolled = await scroller.evaluate((node) => {
      const e = node as unknown as { scrollLeft: number; scrollWidth: number; clientWidth: number };
      e.scrollLeft = e.scrollWidth;
      return e.scrollLeft;
    });
    assert.ok(scrolled > 100, `the table scrolls sideways (${scrolled} px)`);
    const box = await scroller.boundingBox();
    const key = await page.$(`${table} tbody tr th.key`);
    const keyBox = await key?.boundingBox();
    assert.ok(box !== null && keyBox !== null && keyBox !== undefined);
    assert.ok(Math.abs(keyBox.x - box.x) < 2, `setting column at ${keyBox.x}, table at ${box.x}`);
    await assertClean(page);
    await page.close();
  });

  test('the sweep chart has one point per α; the UAP-by-answer chart draws real pixels', async () => {
    const page = await openPanel(initOf('finished'));
    await page.waitForSelector('[data-testid=eval-sweep-chart][data-points]');
    assert.equal(await page.getAttribute('[data-testid=eval-sweep-chart]', 'data-points'), '3');
    assert.equal(
      await page.getAttribute('[data-testid=eval-sweep-chart]', 'data-parameter'),
      'alpha',
    );
    const labels = await texts(page, '[data-testid=eval-sweep-table] tbody th');
    assert.deepEqual(labels, ALPHAS.map(String));
    const first = summary.checkpoints[0];
    assert.ok(first !== undefined);
    await select(page, '[data-testid=eval-sweep-checkpoint]', first.name);
    // Column 1 is the first subset's accuracy (CA-MER order: consistent first).
    const firstSubset = await texts(page, '[data-testid=eval-sweep-table] tbody td:nth-child(2)');
    const points = first.settings.filter((s) => s.sweep !== null);
    const subset = summary.subsets[0] ?? '';
    assert.deepEqual(
      firstSubset,
      points.map((s) => {
        const v = s.bySubset[subset]?.accuracy;
        return v === null || v === undefined ? '–' : v.toFixed(1);
      }),
    );
    assert.ok(first.byAnswer !== null, 'the three CA-MER subsets give a UAP split');
    const series = await page.getAttribute('[data-testid=eval-uap-chart]', 'data-series');
    assert.ok(Number(series) >= 3, `UAP series: ${series}`);
    // PNG export: the chart's pixels, at its canvas size.
    await page.click('[data-section=eval-sweep] [data-export=png]');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'exportFile'),
    );
    const file = (await recorded(page)).posted.find((m) => m.type === 'exportFile');
    assert.ok(file?.type === 'exportFile');
    assert.equal(file.file.fileName, 'ca-mer-small.eval.sweep.png');
    const png = decodePng(Buffer.from(file.file.data, 'base64'));
    const size = await page.$eval('[data-testid=eval-sweep-chart] canvas', (c) => ({
      width: (c as unknown as { width: number }).width,
      height: (c as unknown as { height: number }).height,
    }));
    assert.deepEqual({ width: png.width, height: png.height }, size);
    assert.ok(distinctColours(png) >= 16, `${distinctColours(png)} colours`);
    // CSV export of the scores: the run folder's table.
    await page.click('[data-section=eval-scores] [data-export=csv]');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).__mosear.posted.filter(
          (m) => m.type === 'exportFile',
        ).length >= 2,
    );
    const csv = (await recorded(page)).posted.filter((m) => m.type === 'exportFile').at(-1);
    assert.ok(csv?.type === 'exportFile');
    const lines = csv.file.data.trim().split('\n');
    assert.match(lines[0] ?? '', /^checkpoint,setting,tau,alpha,subset,count,accuracy/);
    assert.equal(lines.length, 1 + 2 * 6 * (summary.subsets.length + 1));
    await assertClean(page);
    await page.close();
  });

  test('the trade-off plot comes first: one point per sweep setting, the summary’s Δs in its chart and CSV; the sweep chart plots Δ vs off', async () => {
    const page = await openPanel(initOf('finished'));
    await page.waitForSelector('[data-testid=eval-tradeoff-chart][data-series]');
    // First among the sections with a chart (and first of all visible sections).
    const order = await page.$$eval('section.card[data-section]', (nodes) =>
      nodes
        .map(
          (n) =>
            n as unknown as {
              hidden: boolean;
              dataset: Record<string, string>;
              querySelector(s: string): unknown;
            },
        )
        .filter((n) => !n.hidden)
        .map((n) => ({
          id: n.dataset['section'] ?? '',
          chart: n.querySelector('.chart') !== null,
        })),
    );
    assert.equal(order[0]?.id, 'eval-tradeoff', JSON.stringify(order));
    assert.equal(order.find((s) => s.chart)?.id, 'eval-tradeoff');
    assert.match(
      (await page.textContent('[data-testid=eval-tradeoff-caption]')) ?? '',
      /up and right of 0 on both axes = no trade-off; intervals per setting, uncorrected/i,
    );
    const second = summary.checkpoints[1];
    assert.ok(second !== undefined);
    await select(page, '[data-testid=eval-tradeoff-checkpoint]', second.name);
    const points = second.settings.filter((s) => s.sweep !== null);
    assert.equal(points.length, ALPHAS.length);
    assert.equal(
      await page.getAttribute('[data-testid=eval-tradeoff-chart]', 'data-points'),
      String(points.length),
    );
    const delta = (s: (typeof points)[number], group: string): PairedDelta => {
      const d = s.versusOff?.bySubset[group];
      assert.ok(d !== undefined, `${s.id} ${group}`);
      return d;
    };
    const drawn = JSON.parse(
      (await page.getAttribute('[data-testid=eval-tradeoff-chart]', 'data-series')) ?? '[]',
    ) as { label: string; data: { x: number | null; y: number | null }[] }[];
    assert.deepEqual(
      drawn.map((d) => d.label),
      ['Δ audio-aligned', 'Δ consistent'],
    );
    for (const [i, group] of ['audio-aligned', 'consistent'].entries()) {
      assert.deepEqual(
        drawn[i]?.data,
        points.map((s) => ({ x: delta(s, 'video-aligned').delta, y: delta(s, group).delta })),
        group,
      );
    }
    // The chart draws real pixels: axes, quadrant lines, two series and their whiskers.
    const [stats] = await canvasStats(page, '[data-testid=eval-tradeoff-chart] canvas');
    assert.ok(stats !== undefined && stats.painted > 5000, JSON.stringify(stats));
    assert.ok(stats.colours >= 16, JSON.stringify(stats));
    // CSV export: one row per sweep setting, each Δ and interval as the summary has it.
    await page.click('[data-section=eval-tradeoff] [data-export=csv]');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'exportFile'),
    );
    const file = (await recorded(page)).posted.find((m) => m.type === 'exportFile');
    assert.ok(file?.type === 'exportFile');
    assert.equal(file.file.fileName, 'ca-mer-small.eval.tradeoff.csv');
    const [head = '', ...lines] = file.file.data.trim().split('\n');
    const columns = head.split(',');
    assert.equal(lines.length, points.length);
    lines.forEach((line, r) => {
      const cells = line.split(',');
      const cell = (name: string) => cells[columns.indexOf(name)];
      const s = points[r];
      assert.ok(s !== undefined);
      assert.equal(cell('setting'), s.id);
      assert.equal(Number(cell('alpha')), s.sweep?.alpha);
      for (const group of ['video-aligned', 'audio-aligned', 'consistent']) {
        const d = delta(s, group);
        assert.equal(Number(cell(`${group}:delta`)), d.delta, `${s.id} ${group} Δ`);
        assert.equal(Number(cell(`${group}:ciLow`)), d.ciLow, `${s.id} ${group} low`);
        assert.equal(Number(cell(`${group}:ciHigh`)), d.ciHigh, `${s.id} ${group} high`);
      }
    });
    // The sweep chart: its first curve is the first subset's Δ against off, per sweep point.
    await select(page, '[data-testid=eval-sweep-checkpoint]', second.name);
    const sweep = JSON.parse(
      (await page.getAttribute('[data-testid=eval-sweep-chart]', 'data-series')) ?? '[]',
    ) as { label: string; data: (number | null)[] }[];
    const subset = summary.subsets[0] ?? '';
    assert.equal(sweep[0]?.label, `${subset} Δ`);
    assert.deepEqual(
      sweep[0]?.data,
      points.map((s) => delta(s, subset).delta),
    );
    assert.equal(sweep.length, summary.subsets.length + 1);
    const [sweepStats] = await canvasStats(page, '[data-testid=eval-sweep-chart] canvas');
    assert.ok(sweepStats !== undefined && sweepStats.painted > 5000, JSON.stringify(sweepStats));
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.locator('[data-section=eval-tradeoff]').screenshot({
      path: join(SCREENSHOTS, 'evaluate-tradeoff.png'),
    });
    await assertClean(page);
    await page.close();
  });

  test('without the CA-MER subsets the trade-off section says so instead of drawing', async () => {
    // The same real summary as a manifest naming only "consistent" would give it.
    const partial = JSON.parse(JSON.stringify(summary)) as BenchmarkSummary;
    partial.subsets = ['consistent'];
    const page = await openWithStubApi(
      context,
      `${server.origin}/panel`,
      { ...initOf('finished'), summary: partial },
      null,
      problems,
    );
    await page.waitForSelector('[data-testid=eval-tradeoff-missing]:not([hidden])');
    assert.match(
      (await page.textContent('[data-testid=eval-tradeoff-missing]')) ?? '',
      /no video-aligned, audio-aligned subset/,
    );
    assert.equal(await page.isVisible('[data-testid=eval-tradeoff-chart]'), false);
    assert.equal(await page.getAttribute('[data-testid=eval-tradeoff-chart]', 'data-points'), '0');
    await assertClean(page);
    await page.close();
  });

  test('an evaluated choice: the header says where its setting was chosen; the same manifest warns', async () => {
    const plain = await openPanel(initOf('finished'));
    assert.equal(await plain.isVisible('[data-testid=eval-chosen-by]'), false);
    assert.equal(await plain.isVisible('[data-testid=eval-selection-on-test]'), false);
    await plain.close();
    const chosenBy = {
      manifest: '/data/val/manifest.jsonl',
      manifestSha256: 'abc',
      clips: 300,
      runFolder: '/runs/val',
      rule: 'ar-defaults',
      ruleText: 'maximise video-aligned accuracy subject to …',
    };
    const withChoice = (sameManifest: boolean): EvaluationInit => {
      const c = summary.checkpoints[1]!;
      const marked = {
        ...c,
        settings: [c.settings[0]!, { ...c.settings[2]!, chosenBy: { ...chosenBy, sameManifest } }],
      };
      return { ...initOf('finished'), summary: { ...summary, checkpoints: [marked] } };
    };
    const page = await openPanel(withChoice(false));
    assert.equal(
      await page.textContent('[data-testid=eval-chosen-by]'),
      `mosear-tiny: setting PAI-style chosen on /data/val/manifest.jsonl (300 clips) by rule ar-defaults: ${chosenBy.ruleText}`,
    );
    assert.equal(await page.isVisible('[data-testid=eval-selection-on-test]'), false);
    await assertClean(page);
    await page.close();
    const same = await openPanel(withChoice(true));
    assert.match(
      (await same.textContent('[data-testid=eval-selection-on-test]')) ?? '',
      /^Warning, selection on test: this setting was chosen on this very manifest/,
    );
    assert.equal(await same.isVisible('[data-testid=eval-selection-on-test]'), true);
    await assertClean(same);
    await same.close();
  });

  test('the flips list has exactly the summary’s flips; clicking one posts openClip', async () => {
    const page = await openPanel(initOf('finished'));
    const withFlips = summary.checkpoints.flatMap((c) =>
      c.settings.filter((s) => s.flips.length > 0).map((s) => ({ c, s })),
    );
    assert.ok(withFlips.length > 0, 'some setting must flip an answer on 15 clips');
    for (const { c, s } of withFlips) {
      await select(page, '[data-testid=eval-flips-pick]', `${c.name}\n${s.id}`);
      const rows = await page.$$eval('table[data-testid=eval-flips] tbody tr', (trs) =>
        trs.map((tr) => (tr as unknown as { dataset: Record<string, string> }).dataset),
      );
      assert.deepEqual(
        rows.map((r) => [r['path'], Number(r['clip']), r['kind']]),
        s.flips.map((f) => [f.path, f.clip, f.kind]),
      );
    }
    const { c, s } = withFlips[0] as (typeof withFlips)[number];
    const flip = s.flips[0];
    assert.ok(flip !== undefined);
    await select(page, '[data-testid=eval-flips-pick]', `${c.name}\n${s.id}`);
    await page.click(`table[data-testid=eval-flips] tr[data-path="${flip.path}"]`);
    const open = (await recorded(page)).posted.filter((m) => m.type === 'openClip');
    assert.deepEqual(open, [
      { type: 'openClip', clip: flip.clip, checkpoint: c.name, setting: s.id },
    ]);
    // The confusion matrix of a chosen pair holds its counts.
    await select(page, '[data-testid=eval-confusion-pick]', `${c.name}\n${s.id}`);
    const cells = await texts(page, 'table.confusion td');
    assert.deepEqual(cells.map(Number), s.confusion.flat());
    assert.equal(await page.isHidden('[data-testid=eval-failed]'), true);
    await assertClean(page);
    await page.close();
  });

  /** The flips pick's option values and labels. */
  async function flipOptionsShown(page: Page): Promise<{ value: string; label: string }[]> {
    return page.$$eval('[data-testid=eval-flips-pick] vscode-option', (nodes) =>
      nodes.map((n) => {
        const o = n as unknown as PageElement;
        return { value: o.value, label: (o.textContent ?? '').trim() };
      }),
    );
  }

  test('every picker is the toolkit’s vscode-single-select; the keyboard picks; streaming keeps value and focus and fires no change', async () => {
    const page = await openPanel(initOf('finished'));
    await page.waitForSelector('[data-testid=eval-flips-pick] vscode-option', {
      state: 'attached',
    });
    const pickers = await page.$$eval('[data-testid]', (nodes) =>
      nodes
        .map((n) => n as unknown as { tagName: string; dataset: Record<string, string> })
        .filter((n) => /^eval-.*-(pick|checkpoint)$/.test(n.dataset['testid'] ?? ''))
        .map((n) => [n.dataset['testid'], n.tagName.toLowerCase()]),
    );
    assert.deepEqual(
      pickers.sort(),
      [
        'eval-confusion-pick',
        'eval-flips-pick',
        'eval-heads-pick',
        'eval-sweep-checkpoint',
        'eval-tradeoff-checkpoint',
        'eval-uap-checkpoint',
      ].map((id) => [id, 'vscode-single-select']),
    );
    assert.equal((await page.$$('select')).length, 0, 'no native select left');
    // Each is labelled.
    for (const [id] of pickers) {
      const name = await page.getAttribute(`[data-testid=${id}]`, 'aria-label');
      assert.ok(name !== null && name !== '', `${id} has a label`);
    }

    // Keyboard: the focused select opens on Enter, ArrowDown and Enter pick the next one.
    const refs = summary.checkpoints.flatMap((c) =>
      c.settings.filter((s) => s.id !== 'off').map((s) => ({ c, s })),
    );
    const keys = refs.map(({ c, s }) => `${c.name}\n${s.id}`);
    const value = () =>
      page.$eval('[data-testid=eval-flips-pick]', (e) => (e as PageElement).value);
    const focused = () =>
      page.evaluate(
        () =>
          (globalThis as unknown as PageGlobals).document.activeElement?.dataset['testid'] ?? null,
      );
    const start = keys.indexOf(await value());
    assert.equal(refs[start]?.s.id, 'ar', 'AR is shown first');
    await page.$eval('[data-testid=eval-flips-pick]', (e) => {
      (globalThis as unknown as PageGlobals).__changes = 0;
      (e as unknown as { addEventListener(t: string, f: () => void): void }).addEventListener(
        'change',
        () => ((globalThis as unknown as PageGlobals).__changes! += 1),
      );
    });
    await page.focus('[data-testid=eval-flips-pick]');
    assert.equal(await focused(), 'eval-flips-pick');
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await nextFrame(page);
    const picked = refs[start + 1];
    assert.ok(picked !== undefined);
    assert.equal(await value(), keys[start + 1]);
    assert.equal(await focused(), 'eval-flips-pick');
    assert.deepEqual((await recorded(page)).state, {
      origin: { kind: 'run', runDir: '/tmp/run' },
      confusion: null,
      flips: { checkpoint: picked.c.name, setting: picked.s.id },
      chartCheckpoint: null,
      heads: null,
      headsGroup: null,
      headsMetric: null,
    });
    const shownRows = () =>
      page.$$eval('[data-testid=eval-flips] tbody tr', (trs) =>
        trs.map((tr) => (tr as unknown as PageElement).dataset['path']),
      );
    assert.deepEqual(
      await shownRows(),
      picked.s.flips.map((f) => f.path),
    );
    const changes = () =>
      page.evaluate(() => (globalThis as unknown as PageGlobals).__changes ?? -1);
    assert.equal(await changes(), 1);

    // The same summary streamed again: the options stay the same nodes.
    await page.$$eval('[data-testid=eval-flips-pick] vscode-option', (nodes) =>
      nodes.forEach((n) => ((n as unknown as PageElement).dataset['kept'] = 'yes')),
    );
    const progress = { done: 15, total: 15, resumed: 0, failed: 0, elapsedMs: 1, etaMs: null };
    await send(page, { type: 'progress', progress, summary });
    const kept = () =>
      page.$$eval('[data-testid=eval-flips-pick] vscode-option', (nodes) =>
        nodes.map((n) => (n as unknown as PageElement).dataset['kept'] ?? 'new'),
      );
    assert.ok((await kept()).every((k) => k === 'yes'));
    // A summary whose flip counts changed: the options are rebuilt, the value, the focus and the
    // user's choice stay, and `set` fires no change.
    const streamed = JSON.parse(JSON.stringify(summary)) as BenchmarkSummary;
    for (const c of streamed.checkpoints) for (const s of c.settings) s.flips = s.flips.slice(1);
    await send(page, { type: 'progress', progress, summary: streamed });
    await page.waitForFunction(() => true);
    assert.ok(
      (await kept()).every((k) => k === 'new'),
      'options rebuilt',
    );
    assert.equal(await value(), keys[start + 1]);
    assert.equal(await focused(), 'eval-flips-pick');
    assert.equal(await changes(), 1, 'no change event from set');
    assert.deepEqual(
      await shownRows(),
      picked.s.flips.slice(1).map((f) => f.path),
    );
    assert.deepEqual((await recorded(page)).state, {
      origin: { kind: 'run', runDir: '/tmp/run' },
      confusion: null,
      flips: { checkpoint: picked.c.name, setting: picked.s.id },
      chartCheckpoint: null,
      heads: null,
      headsGroup: null,
      headsMetric: null,
    });

    // Each theme draws the selects in its own colours (an open list in high contrast).
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const theme of ['vscode-light', 'vscode-dark', 'vscode-high-contrast']) {
      await page.evaluate(
        (t) =>
          ((
            globalThis as unknown as { document: { body: { className: string } } }
          ).document.body.className = t),
        theme,
      );
      await nextFrame(page);
      await page.locator('[data-section=eval-flips]').screenshot({
        path: join(SCREENSHOTS, `evaluate-flips-${theme}.png`),
      });
    }
    await page.keyboard.press('Enter');
    await page.screenshot({ path: join(SCREENSHOTS, 'evaluate-select-open-high-contrast.png') });
    await page.keyboard.press('Escape');
    await assertClean(page);
    await page.close();
  });

  test('the flips picker names each setting’s flip counts, as McNemar’s b and c count them', async () => {
    const page = await openPanel(initOf('finished'));
    await page.waitForSelector('[data-testid=eval-flips-pick] vscode-option', {
      state: 'attached',
    });
    const expected = summary.checkpoints.flatMap((c) =>
      c.settings
        .filter((s) => s.id !== 'off')
        .map((s) => {
          const count = (kind: string) => s.flips.filter((f) => f.kind === kind).length;
          const [b, c2, other] = ['wrong-to-right', 'right-to-wrong', 'wrong-to-wrong'].map(count);
          // The list's kinds agree with the paired test's discordant counts.
          assert.equal(b, s.versusOff?.overall.wrongToRight, `${c.name} ${s.id} b`);
          assert.equal(c2, s.versusOff?.overall.rightToWrong, `${c.name} ${s.id} c`);
          const n = s.flips.length;
          const extra = other === 0 ? '' : `, ${other} wrong→other wrong`;
          return {
            value: `${c.name}\n${s.id}`,
            label: `${c.name} — ${s.title} · ${n} ${n === 1 ? 'flip' : 'flips'} (${b} wrong→right, ${c2} right→wrong${extra})`,
          };
        }),
    );
    assert.ok(
      expected.some((o) => !o.label.includes('· 0 flips')),
      'some setting flips',
    );
    assert.deepEqual(await flipOptionsShown(page), expected);
    await assertClean(page);
    await page.close();
  });

  test('the flips list sorts by any column from its header (mouse and keyboard), with aria-sort', async () => {
    const page = await openPanel(initOf('finished'));
    // The setting with the most flips.
    const [best] = summary.checkpoints
      .flatMap((c) => c.settings.map((s) => ({ c, s })))
      .sort((a, b) => b.s.flips.length - a.s.flips.length);
    assert.ok(best !== undefined && best.s.flips.length >= 3, 'a setting with 3 flips or more');
    await select(page, '[data-testid=eval-flips-pick]', `${best.c.name}\n${best.s.id}`);
    const flips = best.s.flips;
    const name = (i: number) => summary.labels[i] ?? String(i);
    const direction = {
      'wrong-to-right': 'wrong → right',
      'right-to-wrong': 'right → wrong',
      'wrong-to-wrong': 'wrong → other wrong',
    } as const;
    const columns: Record<string, (f: (typeof flips)[number]) => string> = {
      clip: (f) => f.path,
      subset: (f) => f.subset ?? '',
      truth: (f) => name(f.label),
      before: (f) => name(f.before),
      after: (f) => name(f.after),
      direction: (f) => direction[f.kind],
    };
    /** Stable: equal cells keep the summary's order in both directions. */
    const sorted = (column: string, descending: boolean) =>
      flips
        .map((f, i) => ({ f, i }))
        .sort((a, b) => {
          const key = columns[column]!;
          const order = key(a.f).localeCompare(key(b.f), 'en', { numeric: true });
          return (descending ? -order : order) || a.i - b.i;
        })
        .map(({ f }) => f.path);
    const rows = () =>
      page.$$eval('[data-testid=eval-flips] tbody tr', (trs) =>
        trs.map((tr) => (tr as unknown as PageElement).dataset['path']),
      );
    const ariaSort = () =>
      page.$$eval('[data-testid=eval-flips] thead th', (ths) =>
        ths.map((th) => [
          (th as unknown as { querySelector(s: string): PageElement }).querySelector('button')
            .dataset['sort'],
          (th as unknown as { getAttribute(n: string): string | null }).getAttribute('aria-sort'),
        ]),
      );
    const expectSort = (active: string | null, order: string) =>
      Object.keys(columns).map((c) => [c, c === active ? order : 'none']);

    assert.deepEqual(
      await rows(),
      flips.map((f) => f.path),
      'the summary’s order first',
    );
    assert.deepEqual(await ariaSort(), expectSort(null, 'none'));
    let reordered = 0;
    for (const column of Object.keys(columns)) {
      await page.click(`[data-testid=eval-flips] th button[data-sort=${column}]`);
      assert.deepEqual(await rows(), sorted(column, false), `${column} ascending`);
      assert.deepEqual(await ariaSort(), expectSort(column, 'ascending'));
      await page.click(`[data-testid=eval-flips] th button[data-sort=${column}]`);
      assert.deepEqual(await rows(), sorted(column, true), `${column} descending`);
      assert.deepEqual(await ariaSort(), expectSort(column, 'descending'));
      if (sorted(column, true).join() !== flips.map((f) => f.path).join()) reordered++;
    }
    assert.ok(reordered >= 2, 'the sorts move rows on this data');
    // Keyboard: the header buttons take Enter and Space, and keep the focus while redrawing.
    await page.focus('[data-testid=eval-flips] th button[data-sort=truth]');
    await page.keyboard.press('Enter');
    assert.deepEqual(await rows(), sorted('truth', false));
    await page.keyboard.press(' ');
    assert.deepEqual(await rows(), sorted('truth', true));
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.activeElement?.dataset['sort'],
      ),
      'truth',
    );
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    assert.deepEqual(await rows(), sorted('before', false));
    // A sorted row still opens its clip.
    const first = sorted('before', false)[0];
    await page.click(`table[data-testid=eval-flips] tr[data-path="${first}"]`);
    const open = (await recorded(page)).posted.filter((m) => m.type === 'openClip');
    assert.deepEqual(open, [
      {
        type: 'openClip',
        clip: flips.find((f) => f.path === first)?.clip,
        checkpoint: best.c.name,
        setting: best.s.id,
      },
    ]);
    await assertClean(page);
    await page.close();
  });

  test('progress messages move the bar and stream a partial summary; Cancel posts cancel', async () => {
    const running: EvaluationInit = { ...initOf('running', false), progress: null };
    const page = await openPanel(running);
    assert.equal(await page.isVisible('[data-testid=eval-cancel]'), true);
    const progress = { done: 4, total: 15, resumed: 2, failed: 1, elapsedMs: 2000, etaMs: 7000 };
    await send(page, { type: 'progress', progress, summary });
    assert.equal(await page.getAttribute('[data-testid=eval-progress]', 'data-done'), '4');
    assert.equal(
      await page.$eval(
        '[data-testid=eval-progress] progress',
        (p) => (p as unknown as { value: number }).value,
      ),
      4,
    );
    const text = (await page.textContent('[data-testid=eval-progress]')) ?? '';
    assert.match(text, /4\/15 clips/);
    assert.match(text, /resumed 2 clips/);
    assert.match(text, /about 7 s left/);
    assert.ok(await page.$('[data-testid=eval-scores] table[data-checkpoint]'));
    await send(page, { type: 'progress', progress: { ...progress, done: 9 }, summary: null });
    assert.equal(await page.getAttribute('[data-testid=eval-progress]', 'data-done'), '9');
    await page.click('[data-testid=eval-cancel]');
    assert.ok((await recorded(page)).posted.some((m) => m.type === 'cancel'));
    // The host's last progress rides on `finished` (a throttled post may never have gone out).
    await send(page, {
      type: 'finished',
      status: 'cancelled',
      progress: { ...progress, done: 10 },
      summary,
      error: 'Cancelled after 10 of 15 clips',
    });
    assert.equal(await page.isHidden('[data-testid=eval-cancel]'), true);
    assert.match((await page.textContent('[data-testid=eval-status]')) ?? '', /Cancelled after 10/);
    assert.equal(await page.getAttribute('[data-testid=eval-progress]', 'data-done'), '10');
    await assertClean(page);
    await page.close();
  });

  test('failed clips are listed with their errors', async () => {
    const failed: BenchmarkSummary = {
      ...summary,
      failed: [
        {
          clip: 3,
          path: 'missing.mp4',
          checkpoint: null,
          code: 'FILE_NOT_FOUND',
          message: 'no such file',
        },
      ],
    };
    const page = await openPanel({ ...initOf('finished'), summary: failed });
    assert.equal(await page.isVisible('[data-testid=eval-failed]'), true);
    const row = await page.textContent('[data-testid=eval-failed] tr[data-path="missing.mp4"]');
    assert.match(row ?? '', /FILE_NOT_FOUND.*no such file/);
    await assertClean(page);
    await page.close();
  });

  test('the HTML report opens offline with the same tables and no host', async () => {
    const html = buildReportPage({
      script: readFileSync(join(BUNDLE_DIR, 'evaluation.js'), 'utf8'),
      style: readFileSync(join(BUNDLE_DIR, 'evaluation.css'), 'utf8'),
      data: { ...initOf('finished'), origin: { kind: 'report' }, canOpenClips: false },
      title: 'MoSEAR evaluation',
    });
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const page = await context.newPage();
    watchProblems(page, problems);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    await page.waitForSelector('#app[data-ready="true"]');
    const c = summary.checkpoints[1];
    assert.ok(c !== undefined);
    const cell = await page.textContent(
      `table[data-checkpoint="${c.name}"] tr[data-setting="off"] td[data-col="overall:accuracy"]`,
    );
    assert.equal(cell, c.settings[0]?.overall.accuracy.toFixed(1));
    assert.equal(await page.isHidden('[data-testid=eval-export-report]'), true);
    assert.equal(await page.$('table[data-testid=eval-flips] tr.clickable'), null);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
    );
    assert.deepEqual(problems, []);
    await page.close();
  });
  /** The map canvas scrolled into view: its top-left corner in viewport pixels. */
  function cellOrigin(page: Page, selector: string): Promise<{ x: number; y: number }> {
    return page.$eval(selector, (e) => {
      const node = e as unknown as {
        scrollIntoView(options: { block: string }): void;
        getBoundingClientRect(): { x: number; y: number };
      };
      node.scrollIntoView({ block: 'center' });
      const r = node.getBoundingClientRect();
      return { x: r.x, y: r.y };
    });
  }

  test('heads over the benchmark: the layer × head map draws the summary’s shares and statistics', async () => {
    const page = await openPanel(initOf('finished'));
    const c = summary.checkpoints.find((x) => x.heads?.settings.some((s) => s.setting === 'ar'));
    assert.ok(c?.heads, 'the summary holds head maps');
    const map = '[data-testid=eval-heads-map]';
    await select(page, '[data-testid=eval-heads-pick]', `${c.name}\nar`);
    assert.equal(await page.getAttribute(map, 'data-layers'), String(c.heads.layers));
    assert.equal(await page.getAttribute(map, 'data-heads'), String(c.heads.heads));
    assert.equal(await page.getAttribute(map, 'data-metric'), 'share');
    // Groups: all clips, each subset, right and wrong (those with clips).
    const ar = c.heads.settings.find((s) => s.setting === 'ar')!;
    const groups = await page.$$eval('[data-testid=eval-heads-group] vscode-option', (os) =>
      os.map((o) => (o as unknown as { value: string }).value),
    );
    assert.deepEqual(groups, Object.keys(ar.groups));
    assert.ok(groups.includes('consistent') && groups.includes('all'));
    const [drawn] = await canvasStats(page, map);
    assert.ok(
      drawn !== undefined && drawn.painted > 0 && drawn.colours >= 3,
      JSON.stringify(drawn),
    );
    // Hovering a cell names its head, share and mean statistic, as the summary has them.
    const group = groups.includes('wrong') ? 'wrong' : 'all';
    await select(page, '[data-testid=eval-heads-group]', group);
    await select(page, '[data-testid=eval-heads-metric]', 'statistic');
    assert.equal(await page.getAttribute(map, 'data-metric'), 'statistic');
    const g = ar.groups[group]!;
    const box = await cellOrigin(page, map);
    const size = Math.max(10, Math.min(32, Math.floor(420 / c.heads.heads)));
    const layer = c.heads.layers - 1;
    await page.mouse.move(box.x + 32 + size * 1.5, box.y + 32 + size * (layer + 0.5));
    const readout = (await page.textContent('[data-testid=eval-heads-readout]')) ?? '';
    assert.match(readout, new RegExp(`^Layer ${layer}, head 1; flagged in`));
    assert.ok(
      readout.includes(`${(g.flagShare[layer]![1]! * 100).toFixed(1)}% of ${g.clips} clips`),
      readout,
    );
    const statistic = g.meanStatistic?.[layer]?.[1];
    assert.ok(statistic !== undefined);
    assert.ok(readout.includes(`mean ${c.heads.statistic} statistic`), readout);
    assert.equal(await page.getAttribute(map, 'title'), readout);
    const legend = await texts(page, '[data-testid=eval-heads-legend] span');
    assert.ok(legend.length >= 3, legend.join('|'));
    // CSV export is heads.csv.
    await page.click('[data-section=eval-heads] [data-export=csv]');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'exportFile'),
    );
    const csv = (await recorded(page)).posted.find((m) => m.type === 'exportFile');
    assert.ok(csv?.type === 'exportFile');
    assert.match(csv.file.data, /^checkpoint,setting,group,clips,layer,head,flag_share/);
    await assertClean(page);
    await page.close();
  });

  test('heads over the benchmark stays cells at 32 × 32: one colour per cell, ticks every few heads', async () => {
    const L = 32;
    const H = 32;
    const grid = (f: (l: number, h: number) => number) =>
      Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => f(l, h)));
    const big: BenchmarkSummary = structuredClone(summary);
    const first = big.checkpoints[0]!;
    first.heads = {
      layers: L,
      heads: H,
      statistic: 'share',
      settings: [
        {
          setting: 'ar',
          groups: {
            all: {
              clips: 1024,
              flagShare: grid((l, h) => (l * H + h) / 1023),
              meanStatistic: grid((l, h) => l + h / 100),
            },
          },
        },
      ],
    };
    const page = await openPanel({ ...initOf('finished'), summary: big });
    await select(page, '[data-testid=eval-heads-pick]', `${first.name}\nar`);
    const map = '[data-testid=eval-heads-map]';
    assert.equal(await page.getAttribute(map, 'data-layers'), '32');
    const css = await page.$eval(map, (e) => {
      const r = (
        e as unknown as { getBoundingClientRect(): { width: number; height: number } }
      ).getBoundingClientRect();
      return { width: r.width, height: r.height };
    });
    // 13 px cells (32 px of ticks): the whole map fits a narrow panel.
    assert.deepEqual(css, { width: 32 + 13 * 32 + 4, height: 32 + 13 * 32 + 4 });
    const [drawn] = await canvasStats(page, map);
    assert.ok(drawn !== undefined && drawn.colours >= 200, `${drawn?.colours} colours`);
    const box = await cellOrigin(page, map);
    await page.mouse.move(box.x + 32 + 13 * 31.5, box.y + 32 + 13 * 31.5);
    assert.match(
      (await page.textContent('[data-testid=eval-heads-readout]')) ?? '',
      /^Layer 31, head 31; flagged in 100\.0% of 1024 clips \(1024\); mean share statistic 31\.31$/,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'evaluate-heads-32x32.png'), fullPage: true });
    await assertClean(page);
    await page.close();
  });
});
