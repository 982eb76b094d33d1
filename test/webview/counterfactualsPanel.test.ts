// The Analysis panel's Counterfactuals section in headless Chromium (the built bundle behind the
// host's CSP, a stub VS Code API recording every posted message), fed a real CounterfactualResult
// the engine made on a shipped clip with mosear-tiny: Run and Cancel post their messages, the
// table and the verdict show the result, a re-run with other AR settings marks it stale, a reload
// brings the result back from the kept state (another clip empties it), and a failure (one label
// only) is shown in the section without an error.
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ArControls } from '../../src/protocol/contract';
import type { CounterfactualResult } from '../../src/protocol/counterfactualResult';
import { parseWebviewMessage, type WebviewToHost } from '../../src/protocol/panelMessages';
import {
  SCREENSHOTS,
  panelHarness,
  clipPanelInit,
  panelRecord,
  sendToPanel,
  testIdText,
  type AnalysisRecord,
} from '../helpers/panelHarness';
import { MODEL, SAMPLES_DIR } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { assertCleanPage, type PageElement } from '../helpers/webviewBrowser';
const CLIP = join(SAMPLES_DIR, 'sample-consistent-happy.mp4');

/** AR on every layer with the share statistic at τ, α 0.5 (an intervention that moves attention). */
function arControls(tau: number): Partial<ArControls> {
  return { mode: 1, ratioKind: 2, tau: [tau, tau, tau, tau], layers: [1, 1, 1, 1], alpha: 0.5 };
}

interface PageGlobals {
  __mosear: AnalysisRecord;
  postMessage(message: unknown, targetOrigin: string): void;
}

describe('Analysis panel: Counterfactuals section', { timeout: 180_000 }, () => {
  const panel = panelHarness('cf-webview');
  const { problems, open } = panel;
  let analysis: AnalysisResult;
  let rerun: AnalysisResult;
  let counterfactuals: CounterfactualResult;

  before(async () => {
    const { engine } = panel;
    const request = { clipPath: CLIP, modelPath: MODEL, executionProvider: 'cpu' as const };
    analysis = await engine.analyze({ ...request, controls: arControls(0.05) });
    rerun = await engine.analyze({ ...request, controls: arControls(0.5) });
    counterfactuals = await engine.counterfactuals({ ...request, controls: arControls(0.05) });
    // The panel only ever sees what crosses the channel (token rows as base64 in JSON).
    analysis = readAnalysisResult(JSON.parse(jsonWithTokenRows(analysis)));
    rerun = readAnalysisResult(JSON.parse(jsonWithTokenRows(rerun)));
    counterfactuals = JSON.parse(JSON.stringify(counterfactuals)) as CounterfactualResult;
  });

  const posted = async (page: Page): Promise<WebviewToHost[]> => (await panelRecord(page)).posted;

  async function waitForPosted(page: Page, type: string, count: number): Promise<void> {
    await page.waitForFunction(
      ([t, n]) =>
        (globalThis as unknown as PageGlobals).__mosear.posted.filter((m) => m.type === t).length >=
        n,
      [type, count] as const,
    );
  }

  async function runRequests(page: Page) {
    return (await posted(page)).filter(
      (m): m is Extract<WebviewToHost, { type: 'runCounterfactuals' }> =>
        m.type === 'runCounterfactuals',
    );
  }

  test('Run posts the controls shown, Cancel posts a cancel of that run', async () => {
    const page = await open(clipPanelInit(analysis));
    await page.click('[data-testid=counterfactuals-run]');
    await waitForPosted(page, 'runCounterfactuals', 1);
    const [run] = await runRequests(page);
    assert.deepEqual(run?.controls, analysis.intervention.controls);
    assert.equal(
      await page.$eval('[data-testid=counterfactuals-cancel]', (e) => (e as PageElement).hidden),
      false,
    );
    await page.click('[data-testid=counterfactuals-cancel]');
    await waitForPosted(page, 'cancelCounterfactuals', 1);
    const cancels = (await posted(page)).filter((m) => m.type === 'cancelCounterfactuals');
    assert.deepEqual(cancels, [{ type: 'cancelCounterfactuals', run: run?.requestId }]);
    await sendToPanel(page, {
      type: 'counterfactualsFailed',
      requestId: run?.requestId ?? -1,
      message: 'Cancelled.',
      cancelled: true,
    });
    await page.waitForFunction(() => true);
    assert.equal(await testIdText(page, 'counterfactuals-status'), 'Cancelled.');
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('the table and the verdict show a real result; a re-run with other settings marks it stale', async () => {
    const page = await open(clipPanelInit(analysis));
    await page.click('[data-testid=counterfactuals-run]');
    await waitForPosted(page, 'runCounterfactuals', 1);
    const [run] = await runRequests(page);
    await sendToPanel(page, {
      type: 'counterfactualsResult',
      requestId: run?.requestId ?? -1,
      result: counterfactuals,
    });
    await page.waitForSelector('[data-testid=counterfactuals-table] tbody tr');
    const kinds = await page.$$eval('[data-testid=counterfactuals-table] tbody tr', (rows) =>
      rows.map((r) => (r as PageElement).dataset['kind']),
    );
    assert.deepEqual(
      kinds,
      counterfactuals.variants.map((v) => v.kind),
    );
    // Each row: the answer of both runs, and a bar per label.
    const cells = await page.$$eval('[data-testid=counterfactuals-table] tbody tr', (rows) =>
      rows.map((r) => ({
        text: (r as PageElement).textContent ?? '',
        bars: (
          r as unknown as { querySelectorAll(s: string): { length: number } }
        ).querySelectorAll('progress').length,
      })),
    );
    counterfactuals.variants.forEach((v, i) => {
      assert.ok(cells[i]?.text.includes(v.off?.label ?? ''), `${v.kind}: off answer`);
      assert.ok(
        cells[i]?.text.includes(v.intervention?.label ?? ''),
        `${v.kind}: intervention answer`,
      );
      assert.equal(cells[i]?.bars, 2 * counterfactuals.labels.length);
    });
    const swapped = counterfactuals.variants.find((v) => v.kind === 'frames-swapped');
    assert.ok(
      cells.some((c) =>
        c.text.includes((swapped?.off?.answerLogProbChange ?? 0).toFixed(3).slice(0, 5)),
      ),
    );
    assert.equal(
      (await page.$$('[data-testid=not-deciding]')).length,
      counterfactuals.variants.filter(
        (v) => v.kind === 'audio-silenced' || v.kind === 'frames-grey',
      ).length,
    );
    const verdict = await testIdText(page, 'counterfactuals-verdict');
    assert.match(verdict, new RegExp(`off: ${counterfactuals.verdict.off.verdict}`));
    assert.match(
      verdict,
      new RegExp(`intervention: ${counterfactuals.verdict.intervention.verdict}`),
    );
    assert.ok(verdict.includes(counterfactuals.rule.text));
    const partners = await testIdText(page, 'counterfactuals-partners');
    for (const p of counterfactuals.partners) assert.ok(partners.includes(p.how));
    assert.equal(
      await page.$eval(
        '[data-section=counterfactuals-section]',
        (e) => (e as PageElement).dataset['stale'],
      ),
      'false',
    );

    const shot = join(SCREENSHOTS, 'counterfactuals.png');
    await (await page.$('[data-section=counterfactuals-section]'))?.screenshot({ path: shot });
    // The README's picture is refreshed on request only: a test run never edits tracked files.
    if (process.env['MOSEAR_UPDATE_SCREENSHOTS'] === '1') {
      copyFileSync(shot, join(REPO_ROOT, 'media', 'screenshots', 'counterfactuals.png'));
    }

    // The analysis re-runs with τ 0.5 (the slider moved): the counterfactuals ran with τ 0.05.
    await page.$eval('[data-testid=tau]', (input) => {
      const range = input as PageElement;
      range.value = '0.5';
      range.dispatchEvent(
        new (globalThis as unknown as { Event: new (t: string, i: object) => unknown }).Event(
          'input',
          { bubbles: true },
        ),
      );
    });
    await waitForPosted(page, 'run', 1);
    const rerunRequest = (await posted(page)).find((m) => m.type === 'run');
    assert.ok(rerunRequest !== undefined && 'requestId' in rerunRequest);
    await sendToPanel(page, {
      type: 'runResult',
      requestId: rerunRequest.requestId,
      result: rerun,
    });
    await page.waitForFunction(
      () =>
        ((
          globalThis as unknown as { document: { querySelector(s: string): PageElement | null } }
        ).document.querySelector('[data-section=counterfactuals-section]')?.dataset['stale'] ??
          '') === 'true',
    );
    assert.match(await testIdText(page, 'counterfactuals-stale'), /^Stale:/);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('a reload (the panel hidden and shown again) brings the result back from the kept state', async () => {
    const page = await open(clipPanelInit(analysis));
    await page.click('[data-testid=counterfactuals-run]');
    await waitForPosted(page, 'runCounterfactuals', 1);
    const [run] = await runRequests(page);
    await sendToPanel(page, {
      type: 'counterfactualsResult',
      requestId: run?.requestId ?? -1,
      result: counterfactuals,
    });
    await page.waitForSelector('[data-testid=counterfactuals-table] tbody tr');
    const verdict = await testIdText(page, 'counterfactuals-verdict');
    const { state } = await panelRecord(page);
    assert.deepEqual(state?.counterfactuals, counterfactuals);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();

    // VS Code reloads a hidden webview with its kept state; the host sends the same init again.
    const reloaded = await open(clipPanelInit(analysis), JSON.parse(JSON.stringify(state)));
    await reloaded.waitForSelector('[data-testid=counterfactuals-table] tbody tr');
    const kinds = await reloaded.$$eval('[data-testid=counterfactuals-table] tbody tr', (rows) =>
      rows.map((r) => (r as PageElement).dataset['kind']),
    );
    assert.deepEqual(
      kinds,
      counterfactuals.variants.map((v) => v.kind),
    );
    assert.equal(await testIdText(reloaded, 'counterfactuals-verdict'), verdict);
    assert.equal(
      await reloaded.$eval(
        '[data-section=counterfactuals-section]',
        (e) => (e as PageElement).dataset['stale'],
      ),
      'false',
    );
    // Another clip in this (preview) panel: the section empties.
    const other = clipPanelInit(rerun);
    await sendToPanel(reloaded, {
      type: 'init',
      init: { ...other, origin: { kind: 'clip', clipPath: '/elsewhere.mp4', modelPath: MODEL } },
    });
    await reloaded.waitForSelector('[data-testid=counterfactuals-table]', { state: 'hidden' });
    assert.equal(await testIdText(reloaded, 'counterfactuals-verdict'), '');
    await assertCleanPage(reloaded, problems, parseWebviewMessage);
    await reloaded.close();

    // A kept result that no longer parses is dropped, without an error.
    const damaged = await open(clipPanelInit(analysis), {
      ...state,
      counterfactuals: { ...counterfactuals, variants: 'damaged' },
    });
    assert.equal(
      await damaged.$$eval('[data-testid=counterfactuals-table] tr', (r) => r.length),
      0,
    );
    await assertCleanPage(damaged, problems, parseWebviewMessage);
    await damaged.close();
  });

  test('a failed run (one label only) is shown in the section, never as an error', async () => {
    const page = await open(clipPanelInit(analysis));
    await page.click('[data-testid=counterfactuals-run]');
    await waitForPosted(page, 'runCounterfactuals', 1);
    const [run] = await runRequests(page);
    const message = 'manifest.jsonl has one label only (happy): no automatic swap partner';
    await sendToPanel(page, {
      type: 'counterfactualsFailed',
      requestId: run?.requestId ?? -1,
      message,
      cancelled: false,
    });
    await page.waitForFunction(
      (m) =>
        (
          globalThis as unknown as { document: { querySelector(s: string): PageElement | null } }
        ).document.querySelector('[data-testid=counterfactuals-status]')?.textContent === m,
      message,
    );
    assert.equal(
      await page.$eval(
        '[data-testid=counterfactuals-status]',
        (e) => (e as PageElement).dataset['state'],
      ),
      'error',
    );
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });
});
