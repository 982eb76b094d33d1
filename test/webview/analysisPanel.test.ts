// The Analysis panel's built bundle (dist/webview/analysis.js) in headless Chromium, fed real
// AnalysisResults from the engine on a shipped clip with both shipped checkpoints: behind the
// host's CSP with a stub VS Code API that records every posted message, and as a self-contained
// HTML report opened offline. One browser for the whole file.
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { jsonWithTokenRows, tokenRow } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { applyFlagRule } from '../../src/shared/flagRule';
import { buildHtmlReport } from '../../src/core/reports/htmlReport';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ArControls } from '../../src/protocol/contract';
import {
  parseWebviewMessage,
  type HostToWebview,
  type AnalysisViewState,
  type PanelInit,
  type WebviewToHost,
} from '../../src/protocol/panelMessages';
import { BASELINE_MODEL, MODEL, SAMPLES_DIR } from '../helpers/engineFixtures';
import { SCREENSHOTS, panelHarness } from '../helpers/panelHarness';
import { decodePng, distinctColours } from '../helpers/pngPixels';
import {
  assertCleanPage,
  BUNDLE_DIR,
  canvasStats,
  recordedMessages,
  watchProblems,
  type PageElement,
  type StubRecord,
} from '../helpers/webviewBrowser';

const CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');
const DEBOUNCE_MS = 40;

/** AR on every layer with the share statistic at τ: low τ flags heads on both checkpoints. */
function arControls(tau: number): Partial<ArControls> {
  return { mode: 1, ratioKind: 2, tau: [tau, tau, tau, tau], layers: [1, 1, 1, 1] };
}

function initFor(result: AnalysisResult, canRun = true): PanelInit {
  return {
    origin: { kind: 'clip', clipPath: result.clip.path, modelPath: result.model.path },
    result,
    canRun,
    readOnlyReason: canRun ? null : 'test',
    workspaceDefaults: null,
    debounceMs: DEBOUNCE_MS,
  };
}

/** The flags the TS rule gives on a result's intervention masses with these controls. */
function ruleCount(result: AnalysisResult, controls: ArControls): number {
  const meta = result.model.metadata;
  const visual = meta.tokenLayout.segments.filter((s) => s.modality === 'visual');
  const audio = meta.tokenLayout.segments.filter((s) => s.modality === 'audio');
  const { arFlags } = applyFlagRule({
    modalityMass: result.intervention.modalityMass.flat(2),
    layers: meta.architecture.layers,
    heads: meta.architecture.heads,
    visualTokens: visual.reduce((n, s) => n + s.count, 0),
    audioTokens: audio.reduce((n, s) => n + s.count, 0),
    controls,
  });
  return arFlags.filter((v) => v > 0.5).length;
}

function flaggedHeads(result: AnalysisResult): string[] {
  return result.intervention.arFlags.flatMap((row, l) =>
    row.flatMap((v, h) => (v > 0.5 ? [`${l}:${h}`] : [])),
  );
}

/** What the stub VS Code API recorded in the page. */
type Recorded = StubRecord<WebviewToHost, AnalysisViewState>;
/** A run request the panel posted. */
type RunRequest = Extract<WebviewToHost, { type: 'run' }>;

/** The page's globals as the init scripts and page functions use them. */
interface PageGlobals {
  __mosear: Recorded;
  acquireVsCodeApi: () => unknown;
  postMessage(message: unknown, targetOrigin: string): void;
  Event: new (type: string, init?: { bubbles: boolean }) => unknown;
  document: {
    body: { className: string };
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (e: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
}

describe('Analysis panel webview', { timeout: 120_000 }, () => {
  const panel = panelHarness('webview');
  const { dir, problems } = panel;
  const results: Record<'tiny' | 'tinyHighTau' | 'baseline' | 'off' | 'moved', AnalysisResult> =
    {} as never;

  before(async () => {
    const { engine } = panel;
    const analyze = (modelPath: string, tau: number) =>
      engine.analyze({
        clipPath: CLIP,
        modelPath,
        controls: arControls(tau),
        executionProvider: 'cpu',
      });
    results.tiny = await analyze(MODEL, 0.05);
    results.tinyHighTau = await analyze(MODEL, 0.5);
    results.baseline = await analyze(BASELINE_MODEL, 0.05);
    // The same τ and margin with the mode off: the rule would flag heads, the model flags none.
    results.off = await engine.analyze({
      clipPath: CLIP,
      modelPath: MODEL,
      controls: { ...arControls(0.05), mode: 0 },
      executionProvider: 'cpu',
    });
    // AR that moves attention (mosear-tiny's stored α is 0, which moves nothing).
    results.moved = await engine.analyze({
      clipPath: CLIP,
      modelPath: MODEL,
      controls: { ...arControls(0.05), alpha: 0.5 },
      executionProvider: 'cpu',
    });
    // JSON round trip: the panel only ever sees JSON.
    for (const key of Object.keys(results) as (keyof typeof results)[]) {
      results[key] = readAnalysisResult(JSON.parse(jsonWithTokenRows(results[key])));
    }
    assert.ok(flaggedHeads(results.tiny).length > 0, 'the AR setting must flag heads');
  });

  function watch(page: Page): void {
    watchProblems(page, problems);
  }

  /** Opens the panel behind the host's CSP with a stub VS Code API answering `ready`. */
  function openPanel(init: PanelInit, savedState?: AnalysisViewState): Promise<Page> {
    return panel.open(init, savedState ?? null);
  }

  function recorded(page: Page): Promise<Recorded> {
    // Every message the webview posts must pass the host's validator.
    return recordedMessages(page, parseWebviewMessage);
  }

  async function send(page: Page, message: HostToWebview): Promise<void> {
    await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message);
  }

  async function runs(page: Page): Promise<RunRequest[]> {
    return (await recorded(page)).posted.filter((m) => m.type === 'run');
  }

  async function waitForRuns(page: Page, count: number): Promise<void> {
    await page.waitForFunction(
      (n) =>
        (globalThis as unknown as PageGlobals).__mosear.posted.filter((m) => m.type === 'run')
          .length >= n,
      count,
    );
  }

  /** Opens the panel on the tiny result and moves τ to 0.5: the page and the run it asks for. */
  async function pendingRun(): Promise<{ page: Page; run: RunRequest }> {
    const page = await openPanel(initFor(results.tiny));
    await setTau(page, 0.5);
    await waitForRuns(page, 1);
    const [run] = await runs(page);
    assert.ok(run !== undefined);
    return { page, run };
  }

  function assertClean(page: Page): Promise<void> {
    return assertCleanPage(page, problems, parseWebviewMessage);
  }

  async function setTau(page: Page, tau: number): Promise<number> {
    return page.$eval(
      '[data-testid=tau]',
      (input, v) => {
        const range = input as PageElement;
        range.value = String(v);
        range.dispatchEvent(
          new (globalThis as unknown as PageGlobals).Event('input', { bubbles: true }),
        );
        return Number(range.value);
      },
      tau,
    );
  }

  async function gridFlags(page: Page): Promise<string[]> {
    return page.$$eval('[data-testid=head-grid] [data-flagged="true"]', (cells) =>
      cells
        .map((c) => `${(c as PageElement).dataset['layer']}:${(c as PageElement).dataset['head']}`)
        .sort(),
    );
  }

  async function tableHeads(page: Page): Promise<string[]> {
    return page.$$eval('[data-testid=biased-heads] tbody tr', (rows) =>
      rows
        .map((r) => `${(r as PageElement).dataset['layer']}:${(r as PageElement).dataset['head']}`)
        .sort(),
    );
  }

  const text = (page: Page, testId: string): Promise<string> =>
    page.$eval(
      `[data-testid=${testId}]`,
      (e: unknown) => (e as { textContent: string | null }).textContent?.trim() ?? '',
    );

  test('draws both checkpoints: prediction, charts, grid and list mark exactly the flagged heads', async () => {
    for (const result of [results.tiny, results.baseline]) {
      const page = await openPanel(initFor(result));
      const prediction = await text(page, 'prediction');
      // mosear-tiny's default α is 0: its AR run is no intervention, and the card says so.
      assert.match(
        prediction,
        result.intervention.controls.alpha === 0
          ? /With intervention: no effect \(α = 0\)/
          : new RegExp(`With intervention: ${result.intervention.prediction.label}`),
      );
      assert.match(prediction, new RegExp(`Without: ${result.baseline.prediction.label}`));
      // The header says which seconds of audio the model heard (the centred window).
      const w = result.clip.audioWindow;
      assert.ok(result.clip.hasAudio);
      assert.match(
        await text(page, 'audio-heard'),
        new RegExp(
          `^${w.startSeconds.toFixed(2)}–${Math.min(w.startSeconds + w.seconds, result.clip.durationSeconds).toFixed(2)} s of ${result.clip.durationSeconds.toFixed(2)} s \\(a ${w.seconds.toFixed(2)} s window centred`,
        ),
      );
      for (const selector of [
        '[data-testid=uap-chart] canvas',
        '[data-testid=prediction-chart] canvas',
        '[data-testid=threshold-layers] canvas',
        '[data-testid=threshold-heads] canvas',
        '[data-testid=token-canvas] canvas',
      ]) {
        const [stats] = await canvasStats(page, selector);
        assert.ok(stats !== undefined, `${selector} exists`);
        assert.ok(stats.width > 100 && stats.height > 100, `${selector} has a size`);
        assert.ok(
          stats.painted > 500 && stats.colours >= 16,
          `${selector} is blank: ${JSON.stringify(stats)}`,
        );
      }
      const expected = flaggedHeads(result).sort();
      assert.deepEqual(await gridFlags(page), expected);
      assert.deepEqual(await tableHeads(page), expected);
      assert.equal(await text(page, 'flag-count'), String(expected.length));
      const cells = await page.$$('[data-testid=head-grid] [data-layer][data-head]');
      assert.equal(cells.length, 16);
      // MoSE gates only for the checkpoint that has them.
      const moseHidden = await page.$eval(
        '[data-section=mose-section]',
        (e) => (e as PageElement).hidden,
      );
      assert.equal(moseHidden, result.intervention.moseGate === null);
      assert.equal(await page.getAttribute('#app', 'data-state'), 'idle');
      await assertClean(page);
      await page.close();
    }
  });

  test('τ slider: preview count from the TS rule at once, a debounced run, stale results dropped', async () => {
    const result = results.tiny;
    const page = await openPanel(initFor(result));
    const before = Number(await text(page, 'flag-count'));
    const tau = await setTau(page, 0.5);
    assert.equal(tau, 0.5);
    const controls: ArControls = { ...result.intervention.controls, tau: [tau, tau, tau, tau] };
    const expected = ruleCount(result, controls);
    assert.notEqual(expected, before, 'the τ change must change the flags');
    assert.equal(await text(page, 'preview-count'), String(expected));
    assert.equal(
      await text(page, 'flag-count'),
      String(expected),
      'the preview is shown while pending',
    );
    assert.equal(await page.getAttribute('#app', 'data-state'), 'running');
    await waitForRuns(page, 1);
    const [first] = await runs(page);
    assert.deepEqual(first?.controls, controls);
    // A second move: a second, larger request id.
    await setTau(page, 0.45);
    await waitForRuns(page, 2);
    const second = (await runs(page))[1];
    assert.ok(second !== undefined && first !== undefined && second.requestId > first.requestId);
    assert.deepEqual(second.controls.tau, [0.45, 0.45, 0.45, 0.45]);
    // The superseded request's result is dropped …
    await send(page, { type: 'runResult', requestId: first.requestId, result: results.baseline });
    assert.equal(await page.getAttribute('#app', 'data-state'), 'running');
    assert.match(await text(page, 'clip-name'), /sample-video-aligned-sad/);
    assert.equal(await text(page, 'flag-count'), String(expected));
    // … the latest one is drawn, with its real flags.
    await send(page, { type: 'runStarted', requestId: second.requestId });
    await send(page, {
      type: 'runResult',
      requestId: second.requestId,
      result: results.tinyHighTau,
    });
    await page.waitForSelector('#app[data-state="idle"]');
    const real = flaggedHeads(results.tinyHighTau).sort();
    assert.equal(await text(page, 'flag-count'), String(real.length));
    assert.deepEqual(await gridFlags(page), real);
    assert.deepEqual(await tableHeads(page), real);
    assert.equal(await page.$eval('[data-testid=tau]', (e) => (e as PageElement).value), '0.5');
    await assertClean(page);
    await page.close();
  });

  test('a setting that cannot change the model says so: mode off, AR at α 0, and not at α 0.3', async () => {
    // mosear-tiny's stored default α is 0 (issue 14, "silent no-op experiments").
    const result = results.tiny;
    assert.equal(result.intervention.controls.alpha, 0);
    const page = await openPanel(initFor(result));
    const notice = async () =>
      (await page.isVisible('[data-testid=no-effect]')) ? await text(page, 'no-effect') : null;
    assert.equal(await notice(), 'This setting cannot change the model: α = 0.');
    assert.match(await text(page, 'prediction'), /With intervention: no effect \(α = 0\)/);
    const chooseMode = (mode: string) =>
      page.$eval(
        '[data-testid=mode]',
        (select, m) => {
          const s = select as PageElement;
          s.value = m;
          s.dispatchEvent(new (globalThis as unknown as PageGlobals).Event('change'));
        },
        mode,
      );
    await chooseMode('0');
    assert.equal(await notice(), 'This setting cannot change the model: mode off.');
    // Its γ is 0.1: PAI-style acts.
    await chooseMode('2');
    assert.equal(await notice(), null);
    await chooseMode('1');
    assert.equal(await notice(), 'This setting cannot change the model: α = 0.');
    await page.fill('[data-testid=alpha] ~ .slider-number', '0.3');
    await page.press('[data-testid=alpha] ~ .slider-number', 'Enter');
    await page.waitForSelector('[data-testid=no-effect]', { state: 'hidden' });
    assert.equal(await notice(), null);
    // The mode changes above may each have posted a (debounced) run first; the α edit's run is
    // the one that must carry α 0.3.
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some(
        (m) => m.type === 'run' && m.controls.alpha === 0.3,
      ),
    );
    assert.equal((await runs(page)).at(-1)?.controls.alpha, 0.3);
    // τ above every layer statistic of the clip: nothing can flag.
    await setTau(page, 1);
    assert.equal(
      await notice(),
      'This setting cannot change the model: τ above every layer statistic.',
    );
    assert.equal(await text(page, 'preview-count'), '0');
    await assertClean(page);
    await page.close();
  });

  test('a head click inspects it without a run; Shift+click and O cycle its override auto → on → off → auto', async () => {
    const page = await openPanel(initFor(results.tiny));
    const cell = '[data-testid=head-grid] [data-layer="1"][data-head="2"]';
    await page.click(cell);
    assert.equal(await page.getAttribute(cell, 'aria-selected'), 'true');
    assert.equal(
      await page.$eval('[data-testid=token-layer]', (e) => (e as PageElement).value),
      '1',
    );
    assert.equal(
      await page.$eval('[data-testid=token-head]', (e) => (e as PageElement).value),
      '2',
    );
    assert.equal(await page.getAttribute(cell, 'data-override'), '0');
    assert.equal((await runs(page)).length, 0, 'inspecting never runs the model');
    await page.click(cell, { modifiers: ['Shift'] });
    await waitForRuns(page, 1);
    assert.equal((await runs(page))[0]?.controls.headOverride[1]?.[2], 1);
    assert.equal(await page.getAttribute(cell, 'data-override'), '1');
    assert.equal(
      await page.getAttribute(cell, 'data-flagged'),
      'true',
      'forced on shows as flagged',
    );
    assert.equal(await text(page, 'override-count'), '1 override set.');
    assert.equal(
      await page.$eval(
        '[data-testid=biased-heads] tbody tr.selected',
        (r) => `${(r as PageElement).dataset['layer']}:${(r as PageElement).dataset['head']}`,
      ),
      '1:2',
      'the table highlights the head selected in the grid',
    );
    await page.focus(cell);
    await page.keyboard.press('o');
    await waitForRuns(page, 2);
    assert.equal((await runs(page))[1]?.controls.headOverride[1]?.[2], -1);
    await page.keyboard.press('O');
    await waitForRuns(page, 3);
    assert.equal((await runs(page))[2]?.controls.headOverride[1]?.[2], 0);
    assert.equal(await page.getAttribute(cell, 'data-override'), '0');
    // Enter and Space inspect, never run.
    await page.keyboard.press('Enter');
    await page.keyboard.press('Space');
    await page.waitForTimeout(DEBOUNCE_MS * 3);
    assert.equal((await runs(page)).length, 3);
    // The buttons set the selected head's override; "Clear overrides" resets them all.
    await page.click('[data-testid=override-off]');
    await waitForRuns(page, 4);
    assert.equal((await runs(page))[3]?.controls.headOverride[1]?.[2], -1);
    await page.click('[data-testid=grid-clear-overrides]');
    await waitForRuns(page, 5);
    assert.ok((await runs(page))[4]?.controls.headOverride.flat().every((v) => v === 0));
    assert.equal(await text(page, 'override-count'), 'No override set.');
    await assertClean(page);
    await page.close();
  });

  test('the biased-heads table sorts by its columns; a row selected by keyboard highlights its grid cell', async () => {
    const result = results.baseline;
    const page = await openPanel(initFor(result));
    const rows = () =>
      page.$$eval('[data-testid=biased-heads] tbody tr', (trs) =>
        trs.map((r) => {
          const d = (r as PageElement).dataset;
          return { layer: Number(d['layer']), head: Number(d['head']) };
        }),
      );
    const statistic = (r: { layer: number; head: number }): number =>
      result.intervention.flagDecisions[r.layer]?.headStatistics[r.head] ?? NaN;
    await page.click('[data-testid=biased-heads] button[data-sort=layer]');
    const ascending = (await rows()).map((r) => r.layer);
    assert.deepEqual(
      ascending,
      [...ascending].sort((a, b) => a - b),
    );
    await page.click('[data-testid=biased-heads] button[data-sort=statistic]');
    const stats = (await rows()).map(statistic);
    assert.equal(stats.length, flaggedHeads(result).length);
    assert.deepEqual(
      stats,
      [...stats].sort((a, b) => b - a),
      'statistic sorts descending first',
    );
    const [, second] = await rows();
    assert.ok(second !== undefined);
    const row = `[data-testid=biased-heads] tbody tr[data-layer="${second.layer}"][data-head="${second.head}"]`;
    await page.focus(row);
    await page.keyboard.press('Enter');
    const cell = `[data-testid=head-grid] [data-layer="${second.layer}"][data-head="${second.head}"]`;
    assert.equal(await page.getAttribute(cell, 'aria-selected'), 'true');
    assert.equal(await page.getAttribute(row, 'aria-selected'), 'true');
    assert.equal(
      await runs(page).then((r) => r.length),
      0,
      'selecting in the table does not re-run',
    );
    await assertClean(page);
    await page.close();
  });

  test('UI state goes to setState (origin, result, controls, choices) and revives the panel', async () => {
    const page = await openPanel(initFor(results.tiny));
    await page.click('[data-testid=grid-log]');
    await page.click('[data-testid=head-grid] [data-layer="0"][data-head="3"]', {
      modifiers: ['Shift'],
    });
    await page.click('[data-testid=biased-heads] button[data-sort=layer]');
    await waitForRuns(page, 1);
    const state = (await recorded(page)).state;
    assert.ok(state !== undefined);
    assert.deepEqual(state.origin, initFor(results.tiny).origin);
    assert.equal(state.result?.clip.name, 'sample-video-aligned-sad.mp4');
    assert.equal(state.gridLogScale, true);
    assert.deepEqual(state.selectedHead, { layer: 0, head: 3 });
    assert.deepEqual(state.biasedHeadSort, { key: 'layer', descending: false });
    assert.equal(state.controls?.headOverride[0]?.[3], 1);
    await page.close();
    // After a reload the host may not have a result yet: the saved one is drawn with the choices.
    const revived = await openPanel({ ...initFor(results.tiny), result: null }, state);
    const cell = '[data-testid=head-grid] [data-layer="0"][data-head="3"]';
    assert.equal(await revived.getAttribute(cell, 'aria-selected'), 'true');
    assert.equal(await revived.getAttribute(cell, 'data-override'), '1');
    assert.equal(await revived.getAttribute(cell, 'data-flagged'), 'true');
    assert.equal(
      await revived.$eval(
        '[data-testid=grid-log]',
        (b: unknown) => (b as { checked: boolean }).checked,
      ),
      true,
    );
    assert.match(await text(revived, 'prediction'), /With intervention: no effect \(α = 0\)/);
    await assertClean(revived);
    await revived.close();
  });

  test('a malformed host message is dropped and reported; the panel carries on', async () => {
    const { page, run } = await pendingRun();
    const bad = structuredClone(results.tinyHighTau) as unknown as {
      intervention: { tokenAttention: { data: Float32Array } };
    };
    bad.intervention.tokenAttention.data = bad.intervention.tokenAttention.data.slice(73);
    await send(page, {
      type: 'runResult',
      requestId: run.requestId,
      result: bad,
    } as unknown as HostToWebview);
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'webviewError'),
    );
    const errors = (await recorded(page)).posted.filter((m) => m.type === 'webviewError');
    assert.deepEqual(
      errors.map((m) => m.type === 'webviewError' && m.message),
      [
        'Dropped a malformed "runResult" message from the host: ' +
          'result.intervention.tokenAttention.data: must hold 1168 values (shape [4, 4, 73]), not 1095',
      ],
    );
    assert.equal(await page.getAttribute('#app', 'data-state'), 'running');
    await send(page, { type: 'runResult', requestId: run.requestId, result: results.tinyHighTau });
    await page.waitForSelector('#app[data-state="idle"]');
    await page.close();
  });

  test('a failed run is reported, the preview stays; an empty init waits for the first result', async () => {
    const { page, run } = await pendingRun();
    await send(page, {
      type: 'runFailed',
      requestId: run.requestId,
      message: 'the worker <b>crashed</b>',
      cancelled: false,
    });
    await page.waitForSelector('#app[data-state="idle"]');
    assert.equal(await text(page, 'status'), 'The run failed: the worker <b>crashed</b>');
    assert.equal(await page.$$eval('#app b', (b) => b.length), 0, 'messages are text, not markup');
    assert.equal(await text(page, 'flag-count'), await text(page, 'preview-count'));
    await page.close();
    const waiting = await panel.context.newPage();
    watch(waiting);
    await waiting.addInitScript(
      (init: PanelInit) => {
        (globalThis as unknown as PageGlobals).acquireVsCodeApi = () => ({
          postMessage: (m: WebviewToHost) => {
            if (m.type === 'ready') {
              (globalThis as unknown as PageGlobals).postMessage({ type: 'init', init }, '*');
            }
          },
          getState: () => undefined,
          setState: () => undefined,
        });
      },
      { ...initFor(results.tiny), result: null },
    );
    await waiting.goto(`${panel.origin}/panel`);
    await waiting.waitForFunction(() => {
      const title = (
        globalThis as unknown as {
          document: { querySelector(s: string): { textContent: string } | null };
        }
      ).document.querySelector('[data-testid=clip-name]');
      return title?.textContent === 'Analysing…';
    });
    assert.equal(await waiting.getAttribute('#app', 'data-ready'), 'false');
    await send(waiting, { type: 'init', init: initFor(results.tiny) });
    await waiting.waitForSelector('#app[data-ready="true"]');
    assert.deepEqual(problems, []);
    await waiting.close();
  });

  test('a saved result marks edited controls stale, never "re-run pending", and resets to its own', async () => {
    const result = results.tiny;
    const page = await openPanel({
      ...initFor(result, false),
      origin: { kind: 'saved', resultPath: '/results/sample.mosear.json' },
      readOnlyReason: 'A saved result: it shows the analysis as it was saved.',
    });
    assert.equal(await page.$('[data-testid=stale]:not([hidden])'), null, 'not stale at first');
    await setTau(page, 0.5);
    await page.waitForSelector('[data-testid=stale]:not([hidden])');
    assert.match(
      await text(page, 'stale'),
      /^Controls changed; a saved result cannot re-run — Analyze the clip to re-run\./,
    );
    assert.equal(await page.getAttribute('[data-testid=prediction]', 'data-stale'), 'true');
    const body = await page.$eval(
      '#app',
      (e: unknown) => (e as { textContent: string }).textContent,
    );
    assert.doesNotMatch(body, /re-run pending/);
    assert.equal(await page.getAttribute('#app', 'data-state'), 'idle');
    assert.equal((await runs(page)).length, 0, 'nothing is posted to run');
    await page.click('[data-testid=reset-to-result]');
    await page.waitForSelector('[data-testid=stale][hidden]', { state: 'attached' });
    assert.equal(await page.getAttribute('[data-testid=prediction]', 'data-stale'), 'false');
    assert.equal(await text(page, 'flag-count'), String(flaggedHeads(result).length));
    await assertClean(page);
    await page.close();
  });

  test('a flipped clip says its evaluation, setting and ground truth; a preview panel pins and is replaced', async () => {
    const fromEvaluation = {
      evaluation: 'eval-split',
      runDir: '/runs/eval-split-1',
      checkpoint: 'mosear-tiny',
      settingId: 'tau=0.5',
      setting: 'AR τ 0.5',
      groundTruth: 'happy',
    };
    const page = await openPanel({
      ...initFor(results.tinyHighTau),
      fromEvaluation,
      previewState: 'preview',
    });
    assert.equal(
      await text(page, 'from-evaluation'),
      'From evaluation eval-split, setting AR τ 0.5 (mosear-tiny), ground truth happy',
    );
    // It opens with that setting's controls.
    assert.equal(
      Number(await page.getAttribute('[data-testid=tau]', 'data-tau')),
      results.tinyHighTau.intervention.controls.tau[0],
    );
    assert.match(await text(page, 'preview-state'), /^Preview: the next analysis replaces/);
    await page.click('[data-testid=pin]');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'pin'),
    );
    // The host answers with its state: pinned; the Pin button goes.
    await send(page, {
      type: 'init',
      init: { ...initFor(results.tinyHighTau), fromEvaluation, previewState: 'pinned' },
    });
    await page.waitForSelector('[data-testid=pin][hidden]', { state: 'attached' });
    assert.match(await text(page, 'preview-state'), /^Pinned/);
    // A preview panel given another analysis drops the edits of the one before.
    await setTau(page, 0.3);
    await send(page, {
      type: 'init',
      init: {
        ...initFor(results.baseline),
        origin: {
          kind: 'clip',
          clipPath: '/clips/other.mp4',
          modelPath: results.baseline.model.path,
        },
        previewState: 'preview',
      },
    });
    await page.waitForSelector('[data-testid=from-evaluation][hidden]', { state: 'attached' });
    assert.equal(
      Number(await page.getAttribute('[data-testid=tau]', 'data-tau')),
      results.baseline.intervention.controls.tau[0],
    );
    const state = (await recorded(page)).state;
    assert.equal(state?.fromEvaluation, null);
    await assertClean(page);
    await page.close();
  });

  /** Sets a toolkit select and fires its change event. */
  async function pick(page: Page, testId: string, value: string): Promise<void> {
    await page.$eval(
      `[data-testid=${testId}]`,
      (select, v) => {
        const element = select as PageElement;
        element.value = v;
        element.dispatchEvent(
          new (globalThis as unknown as PageGlobals).Event('change', { bubbles: true }),
        );
      },
      value,
    );
  }

  /** Clicks a section's export button and returns the file the webview posted. */
  async function exportOf(page: Page, section: string, format: string) {
    const count = (await recorded(page)).posted.filter((m) => m.type === 'exportFile').length;
    await page.click(`[data-section=${section}] [data-export=${format}]`);
    await page.waitForFunction(
      (n) =>
        (globalThis as unknown as PageGlobals).__mosear.posted.filter(
          (m) => m.type === 'exportFile',
        ).length > n,
      count,
    );
    const last = (await recorded(page)).posted.filter((m) => m.type === 'exportFile').at(-1);
    assert.ok(last?.type === 'exportFile');
    return last.file;
  }

  /** A CSV export as objects (no quoted commas in these tables). */
  function csvObjects(text: string): Record<string, string>[] {
    const [head, ...lines] = text.trim().split('\n');
    const keys = (head ?? '').split(',');
    return lines.map((line): Record<string, string> =>
      Object.fromEntries(line.split(',').map((v, i): [string, string] => [keys[i] ?? '', v])),
    );
  }

  test('mode off: threshold debugging speaks of what the rule would flag, never of flags; flip τ and the flags-vs-τ curve', async () => {
    const result = results.off;
    const decisions = result.intervention.flagDecisions;
    const wouldFlag = decisions.flatMap((d) => d.flags.filter(Boolean)).length;
    assert.ok(wouldFlag > 0, 'the rule must select heads for this check to mean something');
    const page = await openPanel(initFor(result));
    assert.deepEqual(await gridFlags(page), [], 'mode off: the grid flags nothing');
    // The words around it: no "with intervention", no rule codes in the cells' tooltips.
    assert.match(await text(page, 'prediction'), /^Intervention off: /);
    const titles = await page.$$eval('[data-testid=head-grid] .cell[data-layer]', (cells) =>
      cells.map((c) => (c as unknown as { title: string }).title),
    );
    assert.equal(titles.length, decisions.length * (decisions[0]?.flags.length ?? 0));
    for (const title of titles) assert.doesNotMatch(title, /not-selected|layer-off|automatic/);
    assert.ok(titles.some((t) => t.includes('would be flagged')));
    const section = '[data-section=threshold-section]';
    assert.equal(await page.getAttribute(section, 'data-flags'), 'hypothetical');
    const note = await page.$eval('[data-testid=threshold-mode]', (e) => ({
      hidden: (e as PageElement).hidden,
      text: (e as PageElement).textContent ?? '',
    }));
    assert.equal(note.hidden, false);
    assert.match(note.text, /mode is off: no head is flagged.*would flag/);
    const table = await page.$eval(
      '[data-testid=threshold-table]',
      (e) => (e as PageElement).textContent ?? '',
    );
    assert.doesNotMatch(table, /Qualifies|Flagged heads/);
    assert.match(table, /Would qualify.*Would flag \(heads\)/);
    assert.match(table, /would flag [1-9]/);
    // The CSV: no real flag, the rule's would-flags, and the τ each layer and head flips at.
    const rows = csvObjects((await exportOf(page, 'threshold-section', 'csv')).data);
    assert.ok(rows.every((r) => r['flagged'] === 'false'));
    assert.equal(rows.filter((r) => r['wouldFlag'] === 'true').length, wouldFlag);
    for (const r of rows) {
      const d = decisions[Number(r['layer'])];
      assert.ok(d !== undefined);
      assert.equal(Number(r['layerFlipTau']), d.statistic);
      const s = d.headStatistics[Number(r['head'])] ?? NaN;
      // Flagged for τ below the layer statistic exactly when the head passes its tick.
      assert.equal(
        r['headFlipTau'] === '' ? null : Number(r['headFlipTau']),
        s > d.headThreshold ? d.statistic : null,
      );
    }
    // The curve: the checkpoint's sweep range, counted independently from the decisions.
    const range = result.model.metadata.tauSweep.share;
    const curve = JSON.parse(
      (await page.getAttribute('[data-testid=threshold-tau-curve]', 'data-curve')) ?? '[]',
    ) as { tau: number; flagged: number }[];
    assert.equal(curve.length, range.steps);
    assert.ok(Math.abs((curve[0]?.tau ?? NaN) - range.min) < 1e-12);
    assert.ok(Math.abs((curve.at(-1)?.tau ?? NaN) - range.max) < 1e-9);
    for (const point of curve) {
      const expected = decisions
        .filter((d) => d.enabled && d.statistic > point.tau)
        .reduce((n, d) => n + d.headStatistics.filter((s) => s > d.headThreshold).length, 0);
      assert.equal(point.flagged, expected, `τ ${point.tau}`);
    }
    assert.ok(curve.some((p) => p.flagged > 0) && curve.some((p) => p.flagged === 0));
    // A log axis on request redraws the bars.
    const pixels = () =>
      page.$eval('[data-testid=threshold-layers] canvas', (c) => (c as PageElement).toDataURL());
    const linear = await pixels();
    assert.equal(
      await page.$eval(
        '[data-testid=threshold-log]',
        (e) => (e as unknown as { checked: boolean }).checked,
      ),
      false,
    );
    await page.click('[data-testid=threshold-log]');
    await page.waitForFunction(
      (before) =>
        (
          (globalThis as unknown as PageGlobals).document as unknown as {
            querySelector(s: string): PageElement | null;
          }
        )
          .querySelector('[data-testid=threshold-layers] canvas')
          ?.toDataURL() !== before,
      linear,
    );
    assert.equal((await recorded(page)).state?.thresholdLogScale, true);
    await (
      await page.$('[data-section=threshold-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'threshold-mode-off.png'),
    });
    // AR on, the same numbers: real flags, real words.
    await send(page, { type: 'init', init: initFor(results.tiny) });
    await page.waitForFunction(
      () =>
        (
          (globalThis as unknown as PageGlobals).document as unknown as {
            querySelector(s: string): PageElement | null;
          }
        ).querySelector('[data-section=threshold-section]')?.dataset['flags'] === 'real',
    );
    assert.match(
      await page.$eval(
        '[data-testid=threshold-table]',
        (e) => (e as PageElement).textContent ?? '',
      ),
      /Qualifies.*Flagged heads/,
    );
    // The host's reasons end in a full stop; the banner adds none of its own.
    await send(page, {
      type: 'init',
      init: { ...initFor(results.tiny, false), readOnlyReason: 'A report: no model is available.' },
    });
    await page.waitForSelector('[data-testid=read-only]:not([hidden])');
    assert.equal(await text(page, 'read-only'), 'Read-only: A report: no model is available.');
    await assertClean(page);
    await page.close();
  });

  test('per-token attention: before and after share one scale by default; before − after draws the difference', async () => {
    const result = results.moved;
    const page = await openPanel(initFor(result));
    // A head AR acted on: its visual attention shrinks by orders of magnitude.
    const layer = result.intervention.arFlags.findIndex((row) => row.some((v) => v > 0.5));
    const head = result.intervention.arFlags[layer]?.findIndex((v) => v > 0.5) ?? -1;
    assert.ok(layer >= 0 && head >= 0);
    await pick(page, 'token-layer', String(layer));
    await pick(page, 'token-head', String(head));
    const visual = result.tokens.filter((t) => t.modality === 'visual').map((t) => t.index);
    const rowBefore = tokenRow(result.intervention.tokenAttentionBefore!, layer, head);
    const rowAfter = tokenRow(result.intervention.tokenAttention!, layer, head);
    const before = visual.map((k) => rowBefore[k] ?? NaN);
    const after = visual.map((k) => rowAfter[k] ?? NaN);
    const maxBefore = Math.max(...before);
    const maxAfter = Math.max(...after);
    // Each on its own maximum, the two would look alike (3.9e-7 vs 0.18 in the issue).
    assert.ok(maxAfter > 10 * maxBefore, `before ${maxBefore}, after ${maxAfter}`);
    const scale = async (): Promise<number> =>
      Number(await page.getAttribute('[data-testid=token-canvas] canvas', 'data-scale'));
    const shared = Math.max(maxBefore, maxAfter);
    assert.ok(Math.abs((await scale()) - shared) <= 1e-9 * shared, 'after, shared scale');
    await pick(page, 'token-run', 'before');
    assert.ok(Math.abs((await scale()) - shared) <= 1e-9 * shared, 'before, shared scale');
    assert.match(
      (await page.textContent('[data-section=tokens-section] .note')) ?? '',
      /before or after, so before and after are comparable/,
    );
    await page.click('[data-testid=token-shared-scale]');
    assert.ok(Math.abs((await scale()) - maxBefore) <= 1e-9 * maxBefore, 'before, own scale');
    await pick(page, 'token-run', 'difference');
    const differences = before.map((b, i) => b - (after[i] ?? 0));
    const largest = Math.max(...differences.map(Math.abs));
    assert.ok(largest > 0);
    assert.ok(Math.abs((await scale()) - largest) <= 1e-9 * largest, 'difference scale');
    await (
      await page.$('[data-section=tokens-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'tokens-difference.png'),
    });
    const [stats] = await canvasStats(page, '[data-testid=token-canvas] canvas');
    assert.ok((stats?.colours ?? 0) >= 16, `difference canvas: ${JSON.stringify(stats)}`);
    const rows = csvObjects((await exportOf(page, 'tokens-section', 'csv')).data);
    for (const [i, k] of visual.entries()) {
      const row = rows.find((r) => Number(r['index']) === k);
      assert.ok(Math.abs(Number(row?.['difference']) - (differences[i] ?? NaN)) < 1e-9);
    }
    await assertClean(page);
    await page.close();
  });

  test('exports: PNGs of real pixels at the canvas size, CSV and JSON that parse', async () => {
    const result = results.tiny;
    const page = await openPanel(initFor(result));
    const exported = async (section: string, format: string) => {
      const file = await exportOf(page, section, format);
      assert.equal(file.format, format);
      assert.match(file.fileName, new RegExp(`^sample-video-aligned-sad\\..+\\.${format}$`));
      return file;
    };
    const pngChecks: [string, string][] = [
      ['uap-section', '[data-testid=uap-chart] canvas'],
      ['prediction-section', '[data-testid=prediction-chart] canvas'],
      ['tokens-section', '[data-testid=token-canvas] canvas'],
    ];
    for (const [section, canvas] of pngChecks) {
      const file = await exported(section, 'png');
      const png = decodePng(Buffer.from(file.data, 'base64'));
      const [stats] = await canvasStats(page, canvas);
      assert.equal(png.width, stats?.width);
      assert.equal(png.height, stats?.height);
      assert.ok(distinctColours(png) >= 16, `${section}: ${distinctColours(png)} colours`);
    }
    const grid = decodePng(Buffer.from((await exported('grid-section', 'png')).data, 'base64'));
    assert.ok(grid.width > 100 && distinctColours(grid) >= 16);

    const L = result.model.metadata.architecture.layers;
    const uapCsv = (await exported('uap-section', 'csv')).data.trim().split('\n');
    assert.equal(uapCsv.length, L + 1);
    assert.ok(uapCsv[0]?.startsWith('layer,without_visual,'));
    const withVisual = Number(
      uapCsv[1]?.split(',')[uapCsv[0]?.split(',').indexOf('with_visual') ?? -1],
    );
    assert.equal(withVisual, result.intervention.uapAfter[0]?.visual);
    const uapJson = JSON.parse((await exported('uap-section', 'json')).data) as unknown[];
    assert.equal(uapJson.length, L);
    const biased = (await exported('biased-section', 'csv')).data.trim().split('\n');
    assert.equal(biased.length, flaggedHeads(result).length + 1);
    const thresholds = JSON.parse((await exported('threshold-section', 'json')).data) as {
      tau: number;
    }[];
    assert.deepEqual(
      thresholds.map((d) => d.tau),
      result.intervention.controls.tau,
    );
    const tokens = JSON.parse((await exported('tokens-section', 'json')).data) as {
      tokens: { weight: number; rank: number }[];
    };
    assert.equal(tokens.tokens.length, result.tokens.length);
    assert.deepEqual(
      tokens.tokens.map((t) => t.rank).sort((a, b) => a - b),
      result.tokens.map((_, i) => i + 1),
    );
    // Result and report saves are the host's to do.
    await page.click('[data-testid=save-result]');
    await page.click('[data-testid=export-report]');
    const types = (await recorded(page)).posted.map((m) => m.type);
    assert.ok(types.includes('saveResult') && types.includes('exportReport'));
    await assertClean(page);
    await page.close();
  });

  test('themes: light, dark and high-contrast body classes re-colour the charts', async () => {
    const page = await openPanel(initFor(results.tiny));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const images = new Set<string>();
    for (const theme of ['vscode-light', 'vscode-dark', 'vscode-high-contrast']) {
      await page.evaluate(
        (t) => ((globalThis as unknown as PageGlobals).document.body.className = t),
        theme,
      );
      await page.waitForFunction(() => true);
      images.add(
        await page.$eval('[data-testid=uap-chart] canvas', (c) => (c as PageElement).toDataURL()),
      );
      await page.screenshot({ path: join(SCREENSHOTS, `${theme}.png`), fullPage: true });
    }
    assert.equal(images.size, 3, 'each theme draws the chart in its own colours');
    await assertClean(page);
    await page.close();
  });

  test('the HTML report opens offline with no CSP violation and shows the same panel', async () => {
    const result = results.tiny;
    const host = await openPanel(initFor(result));
    const hostPrediction = await text(host, 'prediction');
    await host.close();
    const html = buildHtmlReport({
      script: readFileSync(join(BUNDLE_DIR, 'analysis.js'), 'utf8'),
      style: readFileSync(join(BUNDLE_DIR, 'analysis.css'), 'utf8'),
      init: initFor(result, false),
      title: 'report </title><script>alert(1)</script>',
    });
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const page = await panel.context.newPage();
    watch(page);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.addInitScript(() => {
      const page = globalThis as unknown as PageGlobals;
      const recorded: Recorded = { posted: [], violations: [] };
      page.__mosear = recorded;
      page.document.addEventListener('securitypolicyviolation', (e) =>
        recorded.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`file://${file}`);
    await page.waitForSelector('#app[data-ready="true"]');
    assert.equal(await text(page, 'prediction'), hostPrediction);
    assert.equal(await page.title(), 'report </title><script>alert(1)</script>');
    const bodyClass = await page.$eval(
      'body',
      (b: unknown) => (b as { className: string }).className,
    );
    assert.match(bodyClass, /\bvscode-dark\b/);
    assert.match(await text(page, 'read-only'), /Read-only/);
    const [uap] = await canvasStats(page, '[data-testid=uap-chart] canvas');
    assert.ok(uap !== undefined && uap.colours >= 16);
    // The flag preview works without a host; nothing is posted and the state stays idle.
    const tau = await setTau(page, 0.5);
    const controls: ArControls = { ...result.intervention.controls, tau: [tau, tau, tau, tau] };
    assert.equal(await text(page, 'preview-count'), String(ruleCount(result, controls)));
    assert.equal(await page.getAttribute('#app', 'data-state'), 'idle');
    assert.equal(await page.$('[data-testid=export-report]:not([hidden])'), null);
    // Exports become browser downloads.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=save-result]'),
    ]);
    assert.equal(download.suggestedFilename(), 'sample-video-aligned-sad.mosear.json');
    const saved = readAnalysisResult(JSON.parse(readFileSync(await download.path(), 'utf8')));
    assert.deepEqual(saved, result);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')),
      [],
      'the report must not touch the network',
    );
    const r = await page.evaluate(() => (globalThis as unknown as PageGlobals).__mosear);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
