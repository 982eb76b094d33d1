// The Analysis panel's head knockout and label lens (issue 18) in headless Chromium, on a real
// result of the shipped mosear-tiny (contract 1.1: head_gate, layer_logits) and the host's
// answers computed by the engine: knock out the flagged heads or chosen ones (no AR run, no
// override), rank with progress and Cancel, the ranking table and cumulative chart, the label
// lens chart; disabled with the reason for a checkpoint without them. Screenshot into
// test-results/webview/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { knockoutHeads, rankHeads } from '../../src/core/engine/knockout';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import {
  KNOCKOUT_UNAVAILABLE,
  LABEL_LENS_UNAVAILABLE,
  headName,
  type HeadRanking,
  type KnockoutResult,
} from '../../src/protocol/knockout';
import { parseWebviewMessage, type PanelInit } from '../../src/protocol/panelMessages';
import { flaggedHeadsByAudio } from '../../src/shared/flaggedHeads';
import {
  SCREENSHOTS,
  panelHarness,
  clipPanelInit,
  panelRecord,
  postedOfType,
  sendToPanel,
  testIdDisabled,
  testIdText,
} from '../helpers/panelHarness';
import { MODEL, SAMPLES_DIR, V1_MODEL } from '../helpers/engineFixtures';
import { assertCleanPage, canvasStats } from '../helpers/webviewBrowser';
const CLIP = join(SAMPLES_DIR, 'sample-audio-aligned-surprise.mp4');
const CONTROLS = {
  mode: 1 as const,
  ratioKind: 2 as const,
  tau: [0.05, 0.05, 0.05, 0.05],
  alpha: 0.5,
};

function initFor(result: AnalysisResult, knockout: PanelInit['knockout']): PanelInit {
  return clipPanelInit(result, knockout === undefined ? {} : { knockout });
}

describe('Analysis panel: head knockout and label lens', { timeout: 120_000 }, () => {
  const panel = panelHarness('knockout');
  const { problems, open } = panel;
  let result: AnalysisResult;
  let v1Result: AnalysisResult;
  let knockout: KnockoutResult;
  let ranking: HeadRanking;

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
    const flagged = flaggedHeadsByAudio(
      result.intervention.arFlags,
      result.intervention.modalityMass,
    );
    assert.ok(flagged.length >= 2, 'the AR setting flags heads');
    // JSON round trips: the panel only ever sees what crossed the channel.
    knockout = JSON.parse(
      JSON.stringify(await knockoutHeads(engine, { ...request, heads: flagged })),
    ) as KnockoutResult;
    ranking = JSON.parse(
      JSON.stringify(await rankHeads(engine, { ...request, k: 16 })),
    ) as HeadRanking;
  });

  test('knock out the flagged heads, rank with progress and Cancel, the table and the curve', async () => {
    const page = await open(initFor(result, { available: true, reason: null }));
    await page.waitForSelector('[data-testid=knockout-flagged]');
    assert.equal(await testIdDisabled(page, 'knockout-flagged'), false);
    await page.click('[data-testid=knockout-flagged]');
    const [request] = await postedOfType(page, 'knockout');
    assert.ok(request, 'a knockout request');
    assert.deepEqual(request.heads, knockout.heads);
    assert.deepEqual(request.controls, result.intervention.controls);
    await sendToPanel(page, {
      type: 'knockoutResult',
      requestId: request.requestId,
      result: knockout,
    });
    await page.waitForSelector('[data-testid=knockout-result] tr[data-run=intervention]');
    const outcome = await testIdText(page, 'knockout-result');
    assert.match(outcome, new RegExp(`Knocked out ${knockout.heads.length} heads`));
    assert.match(outcome, new RegExp(knockout.labels[knockout.intervention.answer]!));

    await page.click('[data-testid=rank-run]');
    const [rank] = await postedOfType(page, 'rankHeads');
    assert.ok(rank);
    assert.equal(rank.k, 16);
    assert.equal(rank.under, 'off');
    await sendToPanel(page, {
      type: 'rankProgress',
      requestId: rank.requestId,
      progress: { done: 2, total: 7, phase: 'single' },
    });
    assert.match(await testIdText(page, 'knockout-status'), /Ranking: 2 of 7 runs/);
    assert.equal(await testIdDisabled(page, 'rank-cancel'), false);
    await page.click('[data-testid=rank-cancel]');
    assert.equal((await postedOfType(page, 'cancelRank')).length, 1);
    await sendToPanel(page, {
      type: 'knockoutFailed',
      requestId: rank.requestId,
      message: 'The head ranking was cancelled.',
      cancelled: true,
    });
    assert.match(await testIdText(page, 'knockout-status'), /Cancelled/);

    await page.click('[data-testid=rank-run]');
    const again = (await postedOfType(page, 'rankHeads'))[1];
    assert.ok(again && again.requestId > rank.requestId);
    await sendToPanel(page, { type: 'rankResult', requestId: again.requestId, ranking });
    await page.waitForSelector('[data-testid=rank-table] tbody tr');
    const rows = await page.$$eval('[data-testid=rank-table] tbody tr', (trs) =>
      trs.map((r) => (r as unknown as { dataset: Record<string, string> }).dataset['head']),
    );
    assert.deepEqual(rows, ranking.ranked.map(headName));
    const [stats] = await canvasStats(page, '[data-testid=rank-chart] canvas');
    assert.ok(stats !== undefined && stats.colours > 2, 'the cumulative curve is drawn');
    // No AR run and no override came from any of it.
    assert.equal((await postedOfType(page, 'run')).length, 0);
    await (
      await page.$('[data-section=knockout-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'knockout.png'),
    });
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('knock out selected heads: inspected in the grid, chosen, no override touched', async () => {
    const page = await open(initFor(result, { available: true, reason: null }));
    await page.waitForSelector('[data-testid=head-grid] [data-layer="2"][data-head="3"]');
    await page.click('[data-testid=head-grid] [data-layer="2"][data-head="3"]');
    await page.click('[data-testid=knockout-add-selected]');
    await page.click('[data-testid=head-grid] [data-layer="0"][data-head="1"]');
    await page.click('[data-testid=knockout-add-selected]');
    assert.match(await testIdText(page, 'knockout-chosen-list'), /L2\.H3.*L0\.H1/);
    await page.click('[data-testid=knockout-chosen]');
    const [request] = await postedOfType(page, 'knockout');
    assert.deepEqual(request?.heads, [
      { layer: 2, head: 3 },
      { layer: 0, head: 1 },
    ]);
    assert.equal((await postedOfType(page, 'run')).length, 0, 'choosing heads runs no AR re-run');
    assert.deepEqual(
      (await panelRecord(page)).state?.controls?.headOverride,
      result.intervention.controls.headOverride,
    );
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('the label lens: each label per layer, the answer highlighted, where it takes over', async () => {
    const page = await open(initFor(result, { available: true, reason: null }));
    await page.waitForSelector('[data-testid=label-lens-chart] canvas');
    const note = await testIdText(page, 'label-lens-takes-over');
    assert.match(note, new RegExp(`The answer \\(${result.intervention.prediction.label}`));
    assert.match(note, /leads (from layer \d|never) with the intervention/);
    const [stats] = await canvasStats(page, '[data-testid=label-lens-chart] canvas');
    assert.ok(stats !== undefined && stats.colours > 2, 'the lens is drawn');
    await (
      await page.$('[data-section=label-lens-section]')
    )?.screenshot({
      path: join(SCREENSHOTS, 'label-lens.png'),
    });
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('a checkpoint without head_gate and layer_logits: both disabled, with the reason', async () => {
    const page = await open(initFor(v1Result, { available: false, reason: KNOCKOUT_UNAVAILABLE }));
    await page.waitForSelector('[data-testid=knockout-unavailable]');
    assert.equal(await testIdText(page, 'knockout-unavailable'), KNOCKOUT_UNAVAILABLE);
    for (const id of ['knockout-flagged', 'rank-run', 'knockout-chosen']) {
      assert.equal(await testIdDisabled(page, id), true, `${id} is disabled`);
    }
    assert.equal(await testIdText(page, 'label-lens-unavailable'), LABEL_LENS_UNAVAILABLE);
    await page.click('[data-testid=knockout-flagged]', { force: true });
    assert.equal((await postedOfType(page, 'knockout')).length, 0);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });
});
