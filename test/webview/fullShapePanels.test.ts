// The Analysis and Compare panels on a REAL 32-layer × 32-head result (test/helpers/
// fullShapeResult.ts: a random-weight contract model exported by models/mosear, run by the engine
// on a shipped clip) at 1280 × 800: the head grid fits its card, keyboard navigation moves the
// one tab stop and the value shown, a click inspects without a run while the explicit override
// posts one, the biased-heads list renders at most a page, the UAP leaves out position 0 on request.
import { tokenRow, type TokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { parseCompareMessage, type CompareInit } from '../../src/protocol/compareMessages';
import { SUBJECT_KEYS, type ComparisonResult } from '../../src/protocol/comparisonResult';
import { parseWebviewMessage, type PanelInit } from '../../src/protocol/panelMessages';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import {
  answerTokenRow,
  comparisonWithoutTokenRows,
  tokenRowsIndex,
  withoutTokenRows,
} from '../../src/shared/panelRows';
import { openWithRowHost, realRowAnswers } from '../helpers/rowHost';
import { WORKER_SCRIPT, requireEngineFiles } from '../helpers/engineFixtures';
import { FULL_SHAPE, fullShapeComparison, fullShapeResult } from '../helpers/fullShapeResult';
import { REPO_ROOT } from '../helpers/golden';
import {
  assertCleanPage,
  canvasStats,
  launchTestChromium,
  openWithStubApi,
  recordedMessages,
  serveBundle,
  type BundleServer,
  type PageElement,
} from '../helpers/webviewBrowser';

/** One layer's rows, one array per head (none when the result kept no rows). */
const layerRows = (rows: TokenRows | null, layer: number): number[][] =>
  rows === null
    ? []
    : Array.from({ length: rows.shape[1] }, (_, h) => Array.from(tokenRow(rows, layer, h)));

const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'webview');
const VIEWPORT = { width: 1280, height: 800 };
const DEBOUNCE_MS = 40;
/** The biased-heads list's page (webview/analysis/biasedHeadsView.ts PAGE_SIZE). */
const PAGE_ROWS = 25;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
/** What page functions read from an element (the test config has no DOM types). */
interface Boxed {
  getBoundingClientRect(): Box;
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
interface PageGlobals {
  __mosear: { posted: { type: string }[] };
  Event: new (type: string, init?: { bubbles: boolean }) => unknown;
  document: { activeElement: Boxed | null };
}

function flaggedCount(result: AnalysisResult): number {
  return result.intervention.arFlags.flat().filter((v) => v > 0.5).length;
}

/** Every cell's box inside its card's box, and the distinct columns and rows they form. */
async function gridLayout(
  page: Page,
  scope: string,
): Promise<{
  cells: number;
  inside: number;
  columns: number;
  rows: number;
  minWidth: number;
  text: string;
}> {
  return page.$eval(scope, (root) => {
    const r = root as unknown as Boxed & { querySelectorAll(s: string): Boxed[] };
    const card = r.getBoundingClientRect();
    const cells = [...r.querySelectorAll('[data-testid=head-grid] .cell[data-layer]')];
    const boxes = cells.map((c) => c.getBoundingClientRect());
    const inside = boxes.filter(
      (b) =>
        b.left >= card.left &&
        b.right <= card.right &&
        b.top >= card.top &&
        b.bottom <= card.bottom,
    ).length;
    return {
      cells: cells.length,
      inside,
      columns: new Set(boxes.map((b) => Math.round(b.left))).size,
      rows: new Set(boxes.map((b) => Math.round(b.top))).size,
      minWidth: Math.min(...boxes.map((b) => b.right - b.left)),
      text: cells.map((c) => c.textContent ?? '').join(''),
    };
  });
}

describe('Panels at 32 × 32 heads', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosear-full-shape-'));
  let engine: AnalysisEngine;
  let result: AnalysisResult;
  let comparison: ComparisonResult;
  let context: BrowserContext;
  let servers: BundleServer[] = [];
  const origins: Record<string, string> = {};
  const problems: string[] = [];

  before(async () => {
    requireEngineFiles();
    engine = new AnalysisEngine({ workerScript: WORKER_SCRIPT, cores: 1, toolVersion: 'test' });
    result = await fullShapeResult(engine);
    comparison = await fullShapeComparison(engine);
    const { layers, heads } = result.model.metadata.architecture;
    assert.deepEqual([layers, heads], [FULL_SHAPE.layers, FULL_SHAPE.heads]);
    assert.ok(flaggedCount(result) > 4 * PAGE_ROWS, 'hundreds of heads must be flagged');
    for (const name of ['analysis', 'compare']) {
      const server = await serveBundle(name);
      servers.push(server);
      origins[name] = server.origin;
    }
    context = await launchTestChromium(dir);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    for (const s of servers) await s.close();
    servers = [];
    await engine?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  function initFor(r: AnalysisResult): PanelInit {
    return {
      origin: { kind: 'clip', clipPath: r.clip.path, modelPath: r.model.path },
      result: r,
      canRun: true,
      readOnlyReason: null,
      workspaceDefaults: null,
      debounceMs: DEBOUNCE_MS,
    };
  }

  async function openAnalysis(): Promise<Page> {
    const page = await openWithStubApi(
      context,
      `${origins['analysis']}/panel`,
      initFor(result),
      null,
      problems,
    );
    await page.setViewportSize(VIEWPORT);
    return page;
  }

  const runCount = async (page: Page): Promise<number> =>
    (await recordedMessages<{ type: string }, unknown>(page, () => undefined)).posted.filter(
      (m) => m.type === 'run',
    ).length;

  const text = (page: Page, testId: string): Promise<string> =>
    page.$eval(`[data-testid=${testId}]`, (e) => (e as PageElement).textContent?.trim() ?? '');

  test('the head grid fits its card at 1280 px: 32 × 32 colour cells, no text in them', async () => {
    const page = await openAnalysis();
    const layout = await gridLayout(page, '[data-section=grid-section]');
    assert.equal(layout.cells, FULL_SHAPE.layers * FULL_SHAPE.heads);
    assert.equal(layout.inside, layout.cells, 'every cell inside the card');
    assert.equal(layout.columns, FULL_SHAPE.heads);
    assert.equal(layout.rows, FULL_SHAPE.layers);
    assert.ok(layout.minWidth >= 8, `cells ${layout.minWidth} px wide`);
    assert.equal(layout.text, '', 'no text in the cells at 32 × 32');
    const flagged = await page.$$eval(
      '[data-testid=head-grid] [data-flagged="true"]',
      (cells) => cells.length,
    );
    assert.equal(flagged, flaggedCount(result));
    const width = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
          .document.documentElement.scrollWidth,
    );
    assert.ok(width <= VIEWPORT.width, `the page scrolls sideways: ${width} px`);
    await (
      await page.$('[data-section=grid-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'full-shape-grid.png'),
    });
    await page.screenshot({ path: join(SCREENSHOTS, 'full-shape-analysis.png') });
    // A layer range zooms the grid: only those rows, taller cells would fit as well.
    await page.$eval('[data-testid=grid-to]', (select) => {
      const s = select as PageElement;
      s.value = '7';
      s.dispatchEvent(
        new (globalThis as unknown as PageGlobals).Event('change', { bubbles: true }),
      );
    });
    const zoomed = await gridLayout(page, '[data-section=grid-section]');
    assert.equal(zoomed.cells, 8 * FULL_SHAPE.heads);
    assert.equal(zoomed.inside, zoomed.cells);
    await page.click('[data-testid=grid-all-layers]');
    assert.equal((await gridLayout(page, '[data-section=grid-section]')).cells, 1024);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('arrow keys move the one tab stop and the value shown; hover shows a value too', async () => {
    const page = await openAnalysis();
    const stops = () =>
      page.$$eval('[data-testid=head-grid] [tabindex="0"]', (cells) => cells.length);
    assert.equal(await stops(), 1, 'one tab stop');
    await page.focus('[data-testid=head-grid] [tabindex="0"]');
    const focused = () =>
      page.evaluate(() => {
        const d = (globalThis as unknown as PageGlobals).document.activeElement?.dataset;
        return `${d?.['layer']}:${d?.['head']}`;
      });
    const shown = async (): Promise<{ at: string; value: number }> => {
      const status = await text(page, 'grid-status');
      const match = /^L(\d+) H(\d+): sₕ = (\S+)/.exec(status);
      assert.ok(match !== null, status);
      return { at: `${match[1]}:${match[2]}`, value: Number(match[3]) };
    };
    const statistic = (at: string): number => {
      const [l, h] = at.split(':').map(Number);
      return result.intervention.flagDecisions[l ?? 0]?.headStatistics[h ?? 0] ?? NaN;
    };
    assert.equal(await focused(), '0:0');
    for (const [key, expected] of [
      ['ArrowRight', '0:1'],
      ['ArrowDown', '1:1'],
      ['End', '1:31'],
      ['PageDown', '31:31'],
      ['Home', '31:0'],
      ['ArrowUp', '30:0'],
      ['PageUp', '0:0'],
      ['ArrowLeft', '0:0'],
    ] as const) {
      await page.keyboard.press(key);
      assert.equal(await focused(), expected, key);
      const s = await shown();
      assert.equal(s.at, expected, `${key}: the status line follows the focus`);
      const v = statistic(expected);
      assert.ok(Math.abs(s.value - v) <= 1e-3 * Math.abs(v), `${key}: ${s.value} vs ${v}`);
      assert.equal(await stops(), 1, `${key}: still one tab stop`);
    }
    await page.hover('[data-testid=head-grid] [data-layer="5"][data-head="7"]');
    assert.equal((await shown()).at, '5:7');
    assert.equal(await runCount(page), 0, 'moving around never runs the model');
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('a click inspects the head (token view, threshold charts) without a run; the explicit override posts one', async () => {
    const page = await openAnalysis();
    const cell = '[data-testid=head-grid] [data-layer="7"][data-head="9"]';
    await page.click(cell);
    await page.waitForTimeout(DEBOUNCE_MS * 4);
    assert.equal(await runCount(page), 0, 'inspecting posts no analyze request');
    assert.equal(await page.getAttribute(cell, 'aria-selected'), 'true');
    const value = (testId: string) =>
      page.$eval(`[data-testid=${testId}]`, (e) => (e as PageElement).value);
    assert.equal(await value('token-layer'), '7');
    assert.equal(await value('token-head'), '9');
    assert.equal(await page.getAttribute('[data-testid=threshold-heads]', 'data-layer'), '7');
    assert.equal(
      await page.getAttribute('[data-testid=threshold-heads]', 'data-selected-head'),
      '7:9',
    );
    assert.equal(await page.getAttribute('[data-testid=threshold-layers]', 'data-layers'), '32');
    for (const selector of [
      '[data-testid=threshold-layers] canvas',
      '[data-testid=threshold-heads] canvas',
    ]) {
      const [stats] = await canvasStats(page, selector);
      assert.ok((stats?.colours ?? 0) >= 16, `${selector}: ${JSON.stringify(stats)}`);
    }
    // A second inspect moves the selection and redraws only what shows it: the threshold table
    // and the biased-heads rows (rebuilt by a full redraw) stay the same elements.
    const kept = ['[data-testid=threshold-table] tbody tr', '[data-testid=biased-heads] tbody tr'];
    for (const selector of kept) {
      await page.$eval(selector, (e) => ((e as PageElement).dataset['before'] = 'kept'));
    }
    const second = '[data-testid=head-grid] [data-layer="3"][data-head="4"]';
    await page.click(second);
    for (const selector of kept) {
      assert.equal(await page.getAttribute(selector, 'data-before'), 'kept', selector);
    }
    assert.equal(await page.getAttribute(cell, 'aria-selected'), 'false');
    assert.equal(await page.getAttribute(second, 'aria-selected'), 'true');
    assert.equal(
      await page.$$eval('[data-testid=head-grid] .cell.selected', (cells) => cells.length),
      1,
    );
    assert.equal(await value('token-layer'), '3');
    assert.equal(await value('token-head'), '4');
    assert.equal(await page.getAttribute('[data-testid=threshold-heads]', 'data-layer'), '3');
    assert.equal(
      await page.getAttribute('[data-testid=threshold-heads]', 'data-selected-head'),
      '3:4',
    );
    assert.equal(await text(page, 'override-target'), 'Override of L3 H4:');
    await page.click(cell);
    assert.equal(await page.getAttribute(cell, 'aria-selected'), 'true');
    assert.match(await text(page, 'override-count'), /^No override set\.$/);
    await page.click('[data-testid=override-on]');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'run'),
    );
    await page.waitForTimeout(DEBOUNCE_MS * 4);
    const r = await recordedMessages<
      { type: string; controls?: { headOverride: number[][] } },
      unknown
    >(page, parseWebviewMessage);
    const runs = r.posted.filter((m) => m.type === 'run');
    assert.equal(runs.length, 1, 'the override posts exactly one run');
    const override = runs[0]?.controls?.headOverride ?? [];
    assert.equal(override[7]?.[9], 1);
    assert.equal(override.flat().filter((v) => v !== 0).length, 1);
    assert.equal(await text(page, 'override-count'), '1 override set.');
    await (
      await page.$('[data-section=threshold-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'full-shape-thresholds.png'),
    });
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('biased heads: per-layer counts first, then at most a page of rows; filters and pages', async () => {
    const page = await openAnalysis();
    const rows = () => page.$$eval('[data-testid=biased-heads] tbody tr', (trs) => trs.length);
    const total = flaggedCount(result);
    assert.equal(await rows(), PAGE_ROWS);
    assert.equal(await text(page, 'biased-page'), `Rows 1–${PAGE_ROWS} of ${total}`);
    const perLayer = await page.$$eval('[data-testid=biased-layers] tbody tr', (trs) =>
      trs.map((t) => Number((t as PageElement).dataset['flagged'])),
    );
    assert.deepEqual(
      perLayer,
      result.intervention.arFlags.map((row) => row.filter((v) => v > 0.5).length),
    );
    await page.click('[data-testid=biased-next]');
    assert.equal(
      await text(page, 'biased-page'),
      `Rows ${PAGE_ROWS + 1}–${2 * PAGE_ROWS} of ${total}`,
    );
    assert.equal(await rows(), PAGE_ROWS);
    const pick = (testId: string, v: string) =>
      page.$eval(
        `[data-testid=${testId}]`,
        (select, value) => {
          const s = select as PageElement;
          s.value = value;
          s.dispatchEvent(
            new (globalThis as unknown as PageGlobals).Event('change', { bubbles: true }),
          );
        },
        v,
      );
    await pick('biased-from', '3');
    await pick('biased-to', '3');
    assert.equal(await rows(), perLayer[3]);
    await page.click('[data-testid=biased-flagged-only]');
    assert.equal(await rows(), PAGE_ROWS, 'all 32 heads of layer 3, one page at a time');
    assert.equal(await text(page, 'biased-page'), `Rows 1–${PAGE_ROWS} of ${FULL_SHAPE.heads}`);
    const statistics = result.intervention.flagDecisions[3]?.headStatistics ?? [];
    const median = [...statistics].sort((a, b) => a - b)[16] ?? 0;
    await page.fill('[data-testid=biased-min]', String(median));
    await page.press('[data-testid=biased-min]', 'Enter');
    assert.equal(await rows(), statistics.filter((s) => s >= median).length);
    await (
      await page.$('[data-section=biased-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'full-shape-biased-heads.png'),
    });
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('the header shows the transcript fed and its source; a typed one is posted with every run', async () => {
    const page = await openAnalysis();
    const slot = result.model.metadata.prompt.slots?.['transcript'];
    assert.ok(slot !== undefined, 'the fixture has a transcript slot');
    assert.equal(result.settings.transcriptSource, 'none');
    const input = '[data-testid=transcript-input]';
    assert.equal(await page.$eval(input, (e) => (e as PageElement).value), slot.default);
    assert.match(await text(page, 'transcript-source'), /none found: the checkpoint's default/);
    const runs = async () =>
      (
        await recordedMessages<{ type: string; transcript?: string }, unknown>(
          page,
          () => undefined,
        )
      ).posted.filter((m) => m.type === 'run');
    assert.equal((await runs()).length, 0);
    await page.fill(input, 'Café, 我 ok 😀');
    await page.press(input, 'Enter');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'run'),
    );
    assert.deepEqual(
      (await runs()).map((m) => m.transcript),
      ['Café, 我 ok 😀'],
    );
    // The Run button posts the field as well.
    await page.click('[data-testid=transcript-run]');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).__mosear.posted.filter((m) => m.type === 'run')
          .length === 2,
    );
    assert.equal((await runs())[1]?.transcript, 'Café, 我 ok 😀');
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('UAP without the first position: recomputed from the token rows, as its title says', async () => {
    const page = await openAnalysis();
    await page.click('[data-testid=uap-skip-first]');
    assert.equal(
      await page.getAttribute('[data-testid=uap-chart]', 'data-first-position'),
      'excluded',
    );
    assert.match(
      (await page.getAttribute('[data-testid=uap-skip-first]', 'title')) ?? '',
      /Σₕ Σ_\{k ≥ 1/,
    );
    const count = (await recordedMessages(page, parseWebviewMessage)).posted.length;
    await page.click('[data-section=uap-section] [data-export=csv]');
    await page.waitForFunction(
      (n) => (globalThis as unknown as PageGlobals).__mosear.posted.length > n,
      count,
    );
    const posted = (await recordedMessages(page, parseWebviewMessage)).posted.at(-1) as {
      file: { data: string };
    };
    const [head, ...lines] = posted.file.data.trim().split('\n');
    const keys = (head ?? '').split(',');
    const visualOf = (line: string | undefined, key: string): number =>
      Number(line?.split(',')[keys.indexOf(key)]);
    // The formula by hand for layer 0: visual mass over positions k ≥ 1, heads averaged.
    const visual = new Set(
      result.tokens.filter((t) => t.modality === 'visual').map((t) => t.index),
    );
    const expect = (rows: number[][]): number => {
      let v = 0;
      let all = 0;
      for (const row of rows) {
        row.forEach((a, k) => {
          if (k === 0) return;
          all += a;
          if (visual.has(k)) v += a;
        });
      }
      return v / all;
    };
    const layer0 = layerRows(result.intervention.tokenAttention, 0);
    assert.ok(Math.abs(visualOf(lines[0], 'with_visual') - expect(layer0)) < 1e-9);
    assert.notEqual(visualOf(lines[0], 'with_visual'), result.intervention.uapAfter[0]?.visual);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('per-token view: the strip grid at its true geometry, global chips, the audio seconds, prompt kinds, UAP per segment', async () => {
    const page = await openAnalysis();
    const layout = result.layout;
    assert.ok(layout !== undefined, 'a contract-1.1 result carries its run layout');
    const strips = layout.segments.find((s) => s.name === 'eva_patches');
    const grid = strips?.grid;
    assert.ok(strips !== undefined && grid?.cellPx !== undefined);
    const input = result.model.metadata.frames;
    const canvas = page.locator('[data-testid=token-canvas] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const data = await canvas.evaluate((c) => ({ ...(c as unknown as PageElement).dataset }));
    // 256 strips, each 4:1 (56 × 14 px of the 448 × 448 input frame, scaled into the frame box).
    assert.equal(Number(data['gridCells']), grid.rows * grid.cols);
    assert.equal(Number(data['gridCells']), 256);
    const [cellW, cellH] = (data['cellSize'] ?? '').split('x').map(Number);
    const [boxX, boxY, boxW, boxH] = (data['frameBox'] ?? '').split(',').map(Number);
    assert.ok(
      cellW !== undefined && cellH !== undefined && boxW !== undefined && boxH !== undefined,
    );
    assert.ok(Math.abs(cellW / cellH - 4) < 1e-9, `strip aspect ${cellW} × ${cellH}`);
    assert.ok(Math.abs(cellW - (grid.cellPx.width * boxW) / input.width) < 1e-9);
    assert.ok(Math.abs(boxW / boxH - input.width / input.height) < 1e-9);
    // Hovering where the layout puts cell (r, c) names that token: the strips are drawn there.
    const at = await canvas.boundingBox();
    assert.ok(at !== null && boxX !== undefined && boxY !== undefined);
    for (const [row, col] of [
      [0, 0],
      [5, 3],
      [17, 6],
      [31, 7],
    ] as const) {
      const x = at.x + boxX + ((col + 0.5) * grid.cellPx.width * boxW) / input.width;
      const y = at.y + boxY + ((row + 0.5) * grid.cellPx.height * boxH) / input.height;
      await page.mouse.move(x, y);
      const hovered = await text(page, 'token-hover');
      const index = strips.start + row * grid.cols + col;
      assert.match(
        hovered,
        new RegExp(
          `^visual token ${index} \\(frame 0 at [0-9.]+ s, row ${row}, col ${col}, 56 × 14 px at x ${col * 56}, y ${row * 14}; EVA-CLIP patches\\)`,
        ),
      );
    }
    // Head-averaged answer row of layer 0 after the intervention (the view's defaults), as a
    // row reply carries it: the double-precision mean rounded to float32.
    const meanRow = (rows: number[][]): number[] =>
      (rows[0] ?? []).map((_, k) =>
        Math.fround(rows.reduce((s, r) => s + (r[k] ?? 0), 0) / rows.length),
      );
    const after = meanRow(layerRows(result.intervention.tokenAttention, 0));
    const before = meanRow(layerRows(result.intervention.tokenAttentionBefore, 0));
    // The three global visual tokens as named chips with their weight.
    const chips = await page.$$eval('[data-testid=token-globals] .token-chip', (els) =>
      els.map((e) => ({
        text: (e as PageElement).textContent ?? '',
        index: Number((e as PageElement).dataset['index']),
        weight: Number((e as PageElement).dataset['weight']),
      })),
    );
    assert.deepEqual(
      chips.map((c) => c.text.split(' ').slice(0, -1).join(' ')),
      ['FaceMAE', 'VideoMAE', 'EVA CLS'],
    );
    for (const chip of chips) {
      // Two significant digits shown ("FaceMAE 0.012"), the exact weight on the chip.
      const shown = Number(chip.text.split(' ').at(-1));
      const weight = after[chip.index] ?? NaN;
      assert.equal(shown, Number(weight.toPrecision(2)), `${chip.text} vs ${weight}`);
      assert.ok(Math.abs(chip.weight - weight) < 1e-12, `${chip.weight} vs ${weight}`);
    }
    // The audio token over the seconds of the audio fed.
    const audio = result.tokens.find((t) => t.modality === 'audio');
    assert.ok(audio?.modality === 'audio');
    const window = result.clip.audioWindow;
    assert.ok(Math.abs(audio.startSeconds - window.startSeconds) < 1e-9);
    assert.ok(Math.abs(audio.endSeconds - (window.startSeconds + window.seconds)) < 1e-9);
    assert.match(
      await text(page, 'token-audio'),
      new RegExp(
        `^HuBERT: the clip's ${audio.startSeconds.toFixed(2)}–${audio.endSeconds.toFixed(2)} s`,
      ),
    );
    // The prompt grouped by segment, each word's kind told apart by class and style.
    const groups = await page.$$eval('[data-testid=text-tokens] .token-group', (els) =>
      els.map((e) => (e as PageElement).dataset['segment']),
    );
    assert.deepEqual(groups, ['prefix', 'between', 'prompt']);
    const words = await page.$$eval('[data-testid=text-tokens] .word', (els) =>
      els.map((e) => {
        const style = (
          globalThis as unknown as {
            getComputedStyle(e: unknown): { fontStyle: string; borderTopStyle: string };
          }
        ).getComputedStyle(e);
        return {
          kind: (e as PageElement).dataset['kind'],
          index: Number((e as PageElement).dataset['index']),
          look: `${style.fontStyle}/${style.borderTopStyle}`,
        };
      }),
    );
    assert.deepEqual(
      words.map((w) => [w.index, w.kind]),
      layout.text.map((t) => [t.position, t.kind]),
    );
    const looks = new Map(words.map((w) => [w.kind, w.look]));
    assert.equal(new Set(looks.values()).size, 3, `three looks: ${JSON.stringify([...looks])}`);
    assert.ok(words.some((w) => w.kind === 'slot') && words.some((w) => w.kind === 'special'));
    assert.match(
      await page.$eval(
        '[data-testid=text-tokens] .kind-slot',
        (e) => (e as PageElement).textContent ?? '',
      ),
      /\(transcript \(slot\)\)$/,
    );
    // UAP per named segment: shares sum to 1 and match the rows by hand.
    const shares = await page.$$eval('[data-testid=segment-uap] tbody tr', (trs) =>
      trs.map((t) => {
        const d = (t as PageElement).dataset;
        return { name: d['segment'], before: Number(d['before']), after: Number(d['after']) };
      }),
    );
    assert.deepEqual(
      shares.map((s) => s.name),
      layout.segments.map((s) => s.name),
    );
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum(shares.map((s) => s.after)) - 1) <= 1e-6);
    assert.ok(Math.abs(sum(shares.map((s) => s.before)) - 1) <= 1e-6);
    layout.segments.forEach((segment, i) => {
      const part = (row: number[]): number =>
        sum(row.slice(segment.start, segment.start + segment.count)) / sum(row);
      assert.ok(Math.abs((shares[i]?.after ?? NaN) - part(after)) < 1e-9, segment.name);
      assert.ok(Math.abs((shares[i]?.before ?? NaN) - part(before)) < 1e-9, segment.name);
    });
    await (
      await page.$('[data-section=tokens-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'full-shape-tokens.png'),
    });
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('Compare at 32 × 32: both grids fit their columns, differences marked, a click inspects without a run', async () => {
    const init: CompareInit = {
      origin: {
        kind: 'clip',
        clipPath: comparison.clip.path,
        models: { a: comparison.subjects.a.modelPath, b: comparison.subjects.b.modelPath },
      },
      comparison,
      canRun: true,
      readOnlyReason: null,
      debounceMs: DEBOUNCE_MS,
    };
    const page = await openWithStubApi(
      context,
      `${origins['compare']}/panel`,
      init,
      null,
      problems,
    );
    await page.setViewportSize(VIEWPORT);
    for (const k of SUBJECT_KEYS) {
      const layout = await gridLayout(
        page,
        `[data-testid=compare-grid-${k}] [data-section=grid-section]`,
      );
      assert.equal(layout.cells, 1024, k);
      assert.equal(layout.inside, layout.cells, `${k}: every cell inside its card`);
      assert.equal(layout.columns, FULL_SHAPE.heads);
      assert.equal(layout.text, '');
    }
    const flags = (k: 'a' | 'b') =>
      comparison.subjects[k].result.intervention.arFlags.map((row) => row.map((v) => v > 0.5));
    const [fa, fb] = [flags('a'), flags('b')];
    const differ = fa.flat().filter((f, i) => f !== fb.flat()[i]).length;
    assert.ok(differ > 0);
    const marked = await page.$$eval(
      '[data-testid=compare-grid-a] [data-differs="true"]',
      (cells) => cells.length,
    );
    assert.equal(marked, differ);
    await page.click('[data-testid=compare-grid-b] [data-layer="3"][data-head="4"]');
    await page.waitForTimeout(DEBOUNCE_MS * 4);
    const runs = (
      await recordedMessages<{ type: string }, unknown>(page, parseCompareMessage)
    ).posted.filter((m) => m.type === 'run');
    assert.equal(runs.length, 0, 'inspecting posts no run');
    await page.screenshot({ path: join(SCREENSHOTS, 'full-shape-compare.png'), fullPage: true });
    await assertCleanPage(page, problems, parseCompareMessage);
    await page.close();
  });
  /** The init the extension host posts: the result's summaries, its rows fetched on demand. */
  function hostInitFor(r: AnalysisResult): PanelInit {
    return { ...initFor(withoutTokenRows(r)), rows: tokenRowsIndex(r) };
  }

  /** The token view's shared scale for a head: the largest visual weight before or after. */
  function expectedScale(r: AnalysisResult, layer: number, head: number): number {
    const visual = r.tokens.filter((t) => t.modality === 'visual' && t.global !== true);
    let max = 0;
    for (const stage of ['before', 'after'] as const) {
      const a = answerTokenRow(r, { run: 'intervention', stage, layer, head });
      assert.ok('row' in a);
      for (const t of visual) max = Math.max(max, a.row[t.index] ?? 0);
    }
    return max;
  }

  const tokenRowsState = (page: Page) =>
    page.$eval('[data-section=tokens-section]', (e) => {
      const el = e as unknown as Boxed;
      const canvas = (
        e as unknown as { querySelector(s: string): PageElement | null }
      ).querySelector('[data-testid=token-canvas] canvas');
      return {
        rows: el.dataset['rows'],
        rowsFor: el.dataset['rowsFor'],
        scale: Number(canvas?.dataset['scale']),
        note: el.textContent ?? '',
      };
    });

  const rowRequests = async (page: Page) =>
    (
      await recordedMessages<
        { type: string; query?: { layer: number; head: number | 'mean' } },
        unknown
      >(page, parseWebviewMessage)
    ).posted.filter((m) => m.type === 'tokenRow');

  test('rows on demand: init carries no rows; a head click requests its rows and paints the reply, latest wins', async () => {
    const init = hostInitFor(result);
    for (const run of [init.result!.baseline, init.result!.intervention]) {
      assert.equal(run.tokenAttention, null, 'the init message carries no token rows');
      assert.equal(run.tokenAttentionBefore, null);
    }
    assert.ok(
      jsonWithTokenRows(init).length < jsonWithTokenRows(initFor(result)).length / 4,
      'the summaries are a fraction of the whole result',
    );
    // Each reply takes 30 ms on the harness host, so fast clicks overtake their replies.
    const page = await openWithRowHost(
      context,
      `${origins['analysis']}/panel`,
      init,
      realRowAnswers(result),
      problems,
      { delayMs: 30 },
    );
    await page.setViewportSize(VIEWPORT);
    await page.waitForFunction(() => {
      const d = (
        globalThis as unknown as { document: { querySelector(s: string): Boxed } }
      ).document.querySelector('[data-section=tokens-section]').dataset;
      return d['rows'] === 'ready' && d['rowsFor'] === '0:mean';
    });
    const first = await rowRequests(page);
    assert.deepEqual(
      first.map((m) => m.query),
      [
        { run: 'intervention', stage: 'before', layer: 0, head: 'mean' },
        { run: 'intervention', stage: 'after', layer: 0, head: 'mean' },
      ],
      'the default token view asks for its two rows, nothing else',
    );
    // Three heads clicked faster than the host answers: only the last one's rows paint.
    for (const head of [3, 4, 5]) {
      await page.click(`[data-testid=head-grid] [data-layer="6"][data-head="${head}"]`);
    }
    await page.waitForFunction(() => {
      const d = (
        globalThis as unknown as { document: { querySelector(s: string): Boxed } }
      ).document.querySelector('[data-section=tokens-section]').dataset;
      return d['rows'] === 'ready' && d['rowsFor'] === '6:5';
    });
    await page.waitForTimeout(120); // any stale reply still on its way arrives and is dropped
    const state = await tokenRowsState(page);
    assert.equal(state.rowsFor, '6:5');
    assert.equal(state.scale, expectedScale(result, 6, 5), 'the painted rows are head 5’s');
    const asked = (await rowRequests(page)).slice(first.length);
    assert.deepEqual(
      asked.filter((m) => m.query?.head === 5).map((m) => m.query?.layer),
      [6, 6],
      'head 5: before and after, once each',
    );
    assert.equal(await runCount(page), 0, 'inspecting runs nothing');
    // Back to a head already fetched: drawn from the cache, no request.
    const before = (await rowRequests(page)).length;
    await page.click('[data-testid=head-grid] [data-layer="6"][data-head="5"]');
    assert.equal((await rowRequests(page)).length, before);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('rows on demand: a wrong-shaped reply and an out-of-range answer are reported, not painted', async () => {
    const N = result.tokens.length;
    const page = await openWithRowHost(
      context,
      `${origins['analysis']}/panel`,
      hostInitFor(result),
      (request) => {
        if (request.query.head === 2) return { row: new Float32Array(N - 1) };
        if (request.query.head === 3)
          return answerTokenRow(result, { ...request.query, layer: 99 });
        return realRowAnswers(result)(request);
      },
      problems,
    );
    await page.setViewportSize(VIEWPORT);
    const settle = (head: number) =>
      page.waitForFunction((h) => {
        const d = (
          globalThis as unknown as { document: { querySelector(s: string): Boxed } }
        ).document.querySelector('[data-section=tokens-section]').dataset;
        return d['rows'] === 'ready' && d['rowsFor'] === `1:${h}`;
      }, head);
    await page.click('[data-testid=head-grid] [data-layer="1"][data-head="2"]');
    await settle(2);
    assert.match(
      (await tokenRowsState(page)).note,
      new RegExp(`Dropped a token row of ${N - 1} values`),
    );
    await page.click('[data-testid=head-grid] [data-layer="1"][data-head="3"]');
    await settle(3);
    assert.match(
      (await tokenRowsState(page)).note,
      /could not send the token row: layer 99 is out of range \(0–31\)/,
    );
    await page.click('[data-testid=head-grid] [data-layer="1"][data-head="4"]');
    await settle(4);
    const good = await tokenRowsState(page);
    assert.doesNotMatch(good.note, /Dropped|could not send/);
    assert.equal(good.scale, expectedScale(result, 1, 4));
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('rows on demand in Compare: each subject fetches its own rows, tagged with the subject', async () => {
    const init: CompareInit = {
      origin: {
        kind: 'clip',
        clipPath: comparison.clip.path,
        models: { a: comparison.subjects.a.modelPath, b: comparison.subjects.b.modelPath },
      },
      comparison: comparisonWithoutTokenRows(comparison),
      rows: {
        a: tokenRowsIndex(comparison.subjects.a.result),
        b: tokenRowsIndex(comparison.subjects.b.result),
      },
      canRun: true,
      readOnlyReason: null,
      debounceMs: DEBOUNCE_MS,
    };
    const page = await openWithRowHost(
      context,
      `${origins['compare']}/panel`,
      init,
      realRowAnswers({ a: comparison.subjects.a.result, b: comparison.subjects.b.result }),
      problems,
    );
    await page.setViewportSize(VIEWPORT);
    await page.click('[data-testid=compare-grid-b] [data-layer="3"][data-head="4"]');
    await page.waitForFunction(() => {
      const b = (
        globalThis as unknown as { document: { querySelector(s: string): Boxed | null } }
      ).document.querySelector('.subject-column[data-subject=b] [data-section=tokens-section]');
      return b?.dataset['rows'] === 'ready' && b.dataset['rowsFor'] === '3:4';
    });
    const posted = (
      await recordedMessages<
        { type: string; subject?: string; query?: { layer: number; head: number | 'mean' } },
        unknown
      >(page, parseCompareMessage)
    ).posted.filter((m) => m.type === 'tokenRow');
    assert.ok(
      posted.some((m) => m.subject === 'a'),
      'A asks for its own rows',
    );
    assert.ok(
      posted.some((m) => m.subject === 'b' && m.query?.layer === 3 && m.query.head === 4),
      'B asks for the clicked head',
    );
    const scale = await page.$eval(
      '.subject-column[data-subject=b] [data-testid=token-canvas] canvas',
      (e) => Number((e as PageElement).dataset['scale']),
    );
    assert.equal(scale, expectedScale(comparison.subjects.b.result, 3, 4));
    const diff = await page.getAttribute(
      '[data-testid=compare-token-diff] canvas',
      'data-comparable',
    );
    assert.equal(diff, 'true', 'the A − B difference is drawn from fetched rows');
    await assertCleanPage(page, problems, parseCompareMessage);
    await page.close();
  });
});
