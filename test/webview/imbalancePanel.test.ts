// The Analysis panel's Token imbalance section (issue 18 item 5, contract 1.2's `audio_repeat`) in
// headless Chromium, fed a real ImbalanceResult the engine made on a shipped clip with
// mosear-tiny: Run posts the default k (capped by the model's repeat_max) and the controls shown,
// progress and Cancel, then the tables hold exactly the core's numbers and the chart is drawn; the
// kept state brings the probe back after a reload (stale when its controls differ); a checkpoint
// without the input shows the reason instead of the controls. Screenshot into
// test-results/webview/.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { imbalanceProbe } from '../../src/core/engine/imbalance';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import {
  DEFAULT_AUDIO_REPEATS,
  IMBALANCE_UNAVAILABLE,
  type ImbalanceResult,
} from '../../src/protocol/imbalance';
import { parseWebviewMessage } from '../../src/protocol/panelMessages';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import {
  SCREENSHOTS,
  panelHarness,
  clipPanelInit,
  panelRecord,
  postedOfType,
  sendToPanel,
  testIdHidden,
  testIdText,
} from '../helpers/panelHarness';
import { MODEL, SAMPLES_DIR, V1_MODEL } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { assertCleanPage, canvasStats } from '../helpers/webviewBrowser';
const CLIP = join(SAMPLES_DIR, 'sample-audio-aligned-surprise.mp4');
const CONTROLS = {
  mode: 1 as const,
  ratioKind: 2 as const,
  tau: [0.05, 0.05, 0.05, 0.05],
  alpha: 0.5,
};

/** A table's numeric cells as drawn: per row (its k), the cells' column and `data-value`. */
type DrawnRows = { k: string; cells: { column: string; value: number; text: string }[] }[];

describe('Analysis panel: Token imbalance section', { timeout: 120_000 }, () => {
  const panel = panelHarness('imbalance');
  const { problems, open } = panel;
  let result: AnalysisResult;
  let v1Result: AnalysisResult;
  let probe: ImbalanceResult;
  let repeatMax: number;

  before(async () => {
    const { engine } = panel;
    const request = {
      clipPath: CLIP,
      modelPath: MODEL,
      controls: CONTROLS,
      executionProvider: 'cpu' as const,
    };
    // JSON round trips (token rows as base64): the panel only sees what crossed the channel.
    result = readAnalysisResult(JSON.parse(jsonWithTokenRows(await engine.analyze(request))));
    v1Result = readAnalysisResult(
      JSON.parse(jsonWithTokenRows(await engine.analyze({ ...request, modelPath: V1_MODEL }))),
    );
    repeatMax = result.model.metadata.audio.repeatMax ?? 0;
    assert.ok(repeatMax >= 4, 'the shipped checkpoint has audio_repeat');
    const repeats = DEFAULT_AUDIO_REPEATS.filter((k) => k <= repeatMax);
    probe = JSON.parse(
      JSON.stringify(await imbalanceProbe(engine, { ...request, repeats })),
    ) as ImbalanceResult;
  });

  const drawnRows = (page: Page, testId: string): Promise<DrawnRows> =>
    page.$$eval(`[data-testid=${testId}] tbody tr`, (trs) =>
      trs.map((tr) => {
        const row = tr as unknown as {
          dataset: Record<string, string>;
          querySelectorAll(s: string): ArrayLike<{
            dataset: Record<string, string>;
            textContent: string | null;
          }>;
        };
        return {
          k: row.dataset['k'] ?? '',
          cells: Array.from(row.querySelectorAll('td[data-value]'), (td) => ({
            column: td.dataset['column'] ?? '',
            value: Number(td.dataset['value']),
            text: td.textContent ?? '',
          })),
        };
      }),
    );

  /** The tables equal the core's numbers (off's UAP unless `run` says otherwise). */
  async function assertDrawn(page: Page, run: 'off' | 'intervention' = 'off'): Promise<void> {
    const main = await drawnRows(page, 'imbalance-table');
    assert.deepEqual(
      main.map((r) => r.k),
      probe.points.map((p) => String(p.k)),
    );
    probe.points.forEach((p, i) => {
      assert.deepEqual(
        main[i]?.cells.map((c) => [c.column, c.value]),
        (['off', 'intervention'] as const).flatMap((name) => [
          ['p', p[name].probabilities[probe.answer[name]]],
          ['change', p[name].answerLogProbChange],
        ]),
        `k ${p.k}`,
      );
      assert.equal(
        main[i]?.cells[0]?.text,
        `${((main[i]?.cells[0]?.value ?? 0) * 100).toFixed(1)}%`,
      );
    });
    const uap = await drawnRows(page, 'imbalance-uap-table');
    assert.deepEqual(
      uap.map((r) => r.cells.map((c) => c.value)),
      probe.points.map((p) => p[run].audioUap),
    );
  }

  test('Run posts the default k and the controls, progress and Cancel, then the core’s numbers', async () => {
    const page = await open(clipPanelInit(result));
    await page.waitForSelector('[data-testid=imbalance-run]');
    const expectedK = DEFAULT_AUDIO_REPEATS.filter((k) => k <= repeatMax);
    assert.equal(
      await page.$eval(
        '[data-testid=imbalance-k]',
        (e) => (e as unknown as { value: string }).value,
      ),
      expectedK.join(', '),
    );
    await page.click('[data-testid=imbalance-run]');
    const [first] = await postedOfType(page, 'runImbalance');
    assert.ok(first, 'a probe request');
    assert.deepEqual(first.repeats, expectedK);
    assert.deepEqual(first.controls, result.intervention.controls);
    await sendToPanel(page, {
      type: 'imbalanceProgress',
      requestId: first.requestId,
      progress: { done: 2, total: expectedK.length },
    });
    assert.match(
      await testIdText(page, 'imbalance-status'),
      new RegExp(`2 of ${expectedK.length} k`),
    );
    assert.equal(await testIdHidden(page, 'imbalance-progress'), false);
    await page.click('[data-testid=imbalance-cancel]');
    assert.deepEqual(await postedOfType(page, 'cancelImbalance'), [
      { type: 'cancelImbalance', run: first.requestId },
    ]);
    await sendToPanel(page, {
      type: 'imbalanceFailed',
      requestId: first.requestId,
      message: 'Cancelled.',
      cancelled: true,
    });
    assert.equal(await testIdText(page, 'imbalance-status'), 'Cancelled.');
    assert.equal(await testIdHidden(page, 'imbalance-cancel'), true);

    // A k above the model's cap is refused in the panel, before any request.
    await page.fill('[data-testid=imbalance-k]', `1, ${repeatMax + 1}`);
    await page.click('[data-testid=imbalance-run]');
    assert.match(await testIdText(page, 'imbalance-status'), /above the model's cap/);
    assert.equal((await postedOfType(page, 'runImbalance')).length, 1);

    await page.fill('[data-testid=imbalance-k]', expectedK.join(','));
    await page.click('[data-testid=imbalance-run]');
    const again = (await postedOfType(page, 'runImbalance'))[1];
    assert.ok(again && again.requestId > first.requestId);
    await sendToPanel(page, { type: 'imbalanceResult', requestId: again.requestId, result: probe });
    await page.waitForSelector('[data-testid=imbalance-table] tbody tr');
    await assertDrawn(page);
    const [stats] = await canvasStats(page, '[data-testid=imbalance-chart] canvas');
    assert.ok(stats !== undefined && stats.colours > 2, 'the UAP-vs-k chart is drawn');
    assert.equal(await testIdHidden(page, 'imbalance-stale'), true);
    const shot = join(SCREENSHOTS, 'token-imbalance.png');
    await (await page.$('[data-section=imbalance-section]'))?.screenshot({ path: shot });
    // The README's picture is refreshed on request only: a test run never edits tracked files.
    if (process.env['MOSEAR_UPDATE_SCREENSHOTS'] === '1') {
      copyFileSync(shot, join(REPO_ROOT, 'media', 'screenshots', 'token-imbalance.png'));
    }
    // The intervention's UAP, on request.
    await page.$eval('[data-testid=imbalance-uap-run]', (e) => {
      const select = e as unknown as { value: string; dispatchEvent(ev: unknown): void };
      select.value = 'intervention';
      select.dispatchEvent(
        new (globalThis as unknown as { Event: new (t: string) => unknown }).Event('change'),
      );
    });
    await assertDrawn(page, 'intervention');
    // No analysis re-run came from any of it.
    assert.equal((await postedOfType(page, 'run')).length, 0);

    // The kept state brings the probe back; with other controls than the analysis it is stale.
    const { state } = await panelRecord(page);
    assert.deepEqual(state?.imbalance, probe);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
    const reloaded = await open(clipPanelInit(result), JSON.parse(JSON.stringify(state)));
    await reloaded.waitForSelector('[data-testid=imbalance-table] tbody tr');
    await assertDrawn(reloaded);
    await assertCleanPage(reloaded, problems, parseWebviewMessage);
    await reloaded.close();
    const other = {
      ...state,
      imbalance: { ...probe, controls: { ...probe.controls, alpha: probe.controls.alpha + 0.1 } },
    };
    const stale = await open(clipPanelInit(result), other);
    await stale.waitForSelector('[data-testid=imbalance-table] tbody tr');
    assert.equal(await testIdHidden(stale, 'imbalance-stale'), false);
    assert.match(await testIdText(stale, 'imbalance-stale'), /^Stale:/);
    await assertCleanPage(stale, problems, parseWebviewMessage);
    await stale.close();
  });

  test('a checkpoint without audio_repeat shows the reason instead of the controls', async () => {
    const page = await open(clipPanelInit(v1Result));
    await page.waitForSelector('[data-testid=imbalance-unavailable]');
    assert.equal(await testIdText(page, 'imbalance-unavailable'), IMBALANCE_UNAVAILABLE);
    assert.equal(await testIdHidden(page, 'imbalance-unavailable'), false);
    assert.equal(
      await page.$eval(
        '[data-testid=imbalance-run]',
        (e) => (e as unknown as { offsetParent: unknown }).offsetParent === null,
      ),
      true,
      'Run is not shown',
    );
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });
});
