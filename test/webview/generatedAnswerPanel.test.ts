// The Analysis panel header shows the generated answer (issue 17 item 4) in headless Chromium:
// a real result of the committed real-checkpoint miniature analysed with `answerTokens`, both
// answers' text (set as text, so markup in an answer stays text) and their ids in the tooltip;
// no answer facts for a result without one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import { parseWebviewMessage, type PanelInit } from '../../src/protocol/panelMessages';
import { panelHarness, clipPanelInit } from '../helpers/panelHarness';
import { SAMPLES_DIR } from '../helpers/engineFixtures';
import { REPO_ROOT } from '../helpers/golden';
import { assertCleanPage } from '../helpers/webviewBrowser';

const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'realexport', 'emotion-llama-mini.onnx');
const CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');

function initFor(result: AnalysisResult): PanelInit {
  return clipPanelInit(result, { canRun: false, readOnlyReason: 'a test' });
}

describe('Analysis panel: the generated answer', { timeout: 120_000 }, () => {
  const panel = panelHarness('answer');
  const { problems, open } = panel;
  let result: AnalysisResult;

  before(async () => {
    const { engine } = panel;
    // As a saved result crosses to the panel: JSON with token rows, read back by the schema.
    result = readAnalysisResult(
      JSON.parse(
        jsonWithTokenRows(
          await engine.analyze({
            clipPath: CLIP,
            modelPath: FIXTURE,
            controls: { mode: 1, ratioKind: 0, tau: [0, 0], headMargin: 0, alpha: 1 },
            executionProvider: 'cpu',
            answerTokens: 3,
          }),
        ),
      ),
    );
  });

  const fact = (page: Page, testId: string) =>
    page.$eval(`[data-testid=${testId}]`, (e: unknown) => {
      const dd = e as { textContent: string | null; title: string; childElementCount: number };
      return { text: dd.textContent ?? '', title: dd.title, children: dd.childElementCount };
    });

  test('the header shows the answer without and with the intervention', async () => {
    const answer = result.generatedAnswer!;
    assert.ok(answer !== undefined);
    const page = await open(initFor(result));
    await page.waitForSelector('[data-testid=answer-intervention]');
    const cut = (g: typeof answer.off) => (g.stoppedAt === 'eos' ? '' : ' …');
    const off = await fact(page, 'answer-off');
    assert.equal(off.text, `“${answer.off.text}”${cut(answer.off)}`);
    assert.match(off.title, new RegExp(`^greedy ids ${answer.off.ids.join(' ')};`));
    const ar = await fact(page, 'answer-intervention');
    assert.equal(ar.text, `“${answer.intervention.text}”${cut(answer.intervention)}`);
    const label = await page.$eval(
      '[data-testid=answer-intervention]',
      (e: unknown) =>
        (e as { parentElement: { textContent: string | null } }).parentElement.textContent ?? '',
    );
    assert.ok(label.startsWith('Answer (AR α 1)'), label);
    await assertCleanPage(page, problems, parseWebviewMessage);
    await page.close();
  });

  test('an answer is text, never markup; no answer facts without one', async () => {
    const markup = '<b id="x">bold</b>';
    const withMarkup: AnalysisResult = {
      ...result,
      generatedAnswer: {
        ...result.generatedAnswer!,
        off: { ids: [1], text: markup, stoppedAt: 'eos' },
      },
    };
    let page = await open(initFor(withMarkup));
    await page.waitForSelector('[data-testid=answer-off]');
    const off = await fact(page, 'answer-off');
    assert.equal(off.text, `“${markup}”`);
    assert.equal(off.children, 0);
    await page.close();
    const without: AnalysisResult = { ...result };
    delete without.generatedAnswer;
    page = await open(initFor(without));
    await page.waitForSelector('[data-testid=checkpoint]');
    assert.equal(await page.$('[data-testid=answer-off]'), null);
    await page.close();
  });
});
