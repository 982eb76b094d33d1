// The Compare panel's built bundle (dist/webview/compare.js) in headless Chromium with two REAL
// results from the engine (both shipped checkpoints on a shipped clip, AR at a τ low enough to
// flag heads), behind the host's CSP with a stub VS Code API, and as an offline HTML report.
import { jsonWithTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { compareClip } from '../../src/core/engine/compareClip';
import { buildCompareReport } from '../../src/core/reports/compareReport';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { readAnalysisResult } from '../../src/protocol/analysisResultReader';
import {
  readComparisonResult,
  SUBJECT_KEYS,
  type ComparisonResult,
  type SubjectKey,
} from '../../src/protocol/comparisonResult';
import {
  parseCompareMessage,
  type CompareInit,
  type CompareToHost,
} from '../../src/protocol/compareMessages';
import type { ArControls } from '../../src/protocol/contract';
import { BASELINE_MODEL, MODEL, SAMPLES_DIR } from '../helpers/engineFixtures';
import { SCREENSHOTS, panelHarness } from '../helpers/panelHarness';
import { decodePng, distinctColours } from '../helpers/pngPixels';
import {
  assertCleanPage,
  BUNDLE_DIR,
  canvasStats,
  recordedMessages,
  type PageElement,
  type StubRecord,
} from '../helpers/webviewBrowser';

const CLIP = join(SAMPLES_DIR, 'sample-video-aligned-sad.mp4');

/**
 * AR on every layer, share statistic, low τ: both checkpoints flag heads. The two fine-tunes share
 * one frozen backbone, so on this clip they flag the same heads except in layer 1, whose layer
 * statistic is 0.286 for the baseline and 0.288 for mosear-tiny: τ 0.287 there separates them.
 */
const AR: Partial<ArControls> = {
  mode: 1,
  ratioKind: 2,
  tau: [0.05, 0.287, 0.05, 0.05],
  headMargin: 0,
  alpha: 0.3,
  layers: [1, 1, 1, 1],
};

type Recorded = StubRecord<CompareToHost, unknown>;

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

function flags(result: AnalysisResult): boolean[][] {
  return result.intervention.arFlags.map((row) => row.map((v) => v > 0.5));
}

function heads(grid: boolean[][]): string[] {
  return grid.flatMap((row, l) => row.flatMap((f, h) => (f ? [`${l}:${h}`] : []))).sort();
}

describe('Compare panel webview', { timeout: 120_000 }, () => {
  const panel = panelHarness('compare-webview', { bundle: 'compare', cores: 2 });
  const { dir, problems } = panel;
  let comparison: ComparisonResult;
  /** Each checkpoint with its own stored defaults (the command's two-checkpoint comparison). */
  let defaults: ComparisonResult;
  /** B's checkpoint run with A's defaults: what linking must make B run. */
  let linkedB: AnalysisResult;

  before(async () => {
    const { engine } = panel;
    const real = await compareClip(engine, {
      clipPath: CLIP,
      subjects: {
        a: { modelPath: BASELINE_MODEL, controls: AR },
        b: { modelPath: MODEL, controls: AR },
      },
      executionProvider: 'cpu',
    });
    // The panel only ever sees JSON; the reader must accept what the engine wrote.
    comparison = readComparisonResult(JSON.parse(jsonWithTokenRows(real)));
    assert.equal(comparison.timings.clipDecodes, 1, 'the clip must be decoded once');
    for (const k of SUBJECT_KEYS) {
      assert.ok(heads(flags(comparison.subjects[k].result)).length > 0, `${k} flags no head`);
    }
    assert.notDeepEqual(
      heads(flags(comparison.subjects.a.result)),
      heads(flags(comparison.subjects.b.result)),
      'the two subjects must flag different heads for the differs check to mean something',
    );

    defaults = readComparisonResult(
      JSON.parse(
        jsonWithTokenRows(
          await compareClip(panel.engine, {
            clipPath: CLIP,
            subjects: { a: { modelPath: BASELINE_MODEL }, b: { modelPath: MODEL } },
            executionProvider: 'cpu',
          }),
        ),
      ),
    );
    linkedB = readAnalysisResult(
      JSON.parse(
        jsonWithTokenRows(
          await engine.analyze({
            clipPath: CLIP,
            modelPath: MODEL,
            controls: defaults.subjects.a.result.intervention.controls,
            executionProvider: 'cpu',
          }),
        ),
      ),
    );
  });

  function initOf(c: ComparisonResult): CompareInit {
    return {
      origin: {
        kind: 'clip',
        clipPath: c.clip.path,
        models: { a: c.subjects.a.modelPath, b: c.subjects.b.modelPath },
      },
      comparison: c,
      canRun: true,
      readOnlyReason: null,
      debounceMs: 40,
    };
  }

  function openPanel(init: CompareInit): Promise<Page> {
    return panel.open(init);
  }

  function recorded(page: Page): Promise<Recorded> {
    // Every message the webview posts must pass the host's validator.
    return recordedMessages(page, parseCompareMessage);
  }

  function assertClean(page: Page): Promise<void> {
    return assertCleanPage(page, problems, parseCompareMessage);
  }

  /** Painted pixels and distinct colours of the first canvas under a selector. */
  async function firstCanvasStats(page: Page, selector: string) {
    const [stats] = await canvasStats(page, selector);
    assert.ok(stats, `no canvas under ${selector}`);
    return stats;
  }

  const cells = (page: Page, k: SubjectKey, attribute: string): Promise<string[]> =>
    page.$$eval(`[data-testid=compare-grid-${k}] [data-layer][${attribute}="true"]`, (list) =>
      list
        .map((c) => `${(c as PageElement).dataset['layer']}:${(c as PageElement).dataset['head']}`)
        .sort(),
    );

  test('both predictions, the UAP chart, the grids with exactly the flagged and differing heads, the token difference', async () => {
    const page = await openPanel(initOf(comparison));
    for (const k of SUBJECT_KEYS) {
      const prediction = comparison.subjects[k].result.intervention.prediction;
      const line = await page.$eval(`[data-testid=compare-prediction-${k}]`, (e) => ({
        label: (e as PageElement).dataset['label'],
        text: (e as PageElement).textContent ?? '',
      }));
      assert.equal(line.label, prediction.label);
      assert.match(line.text, new RegExp(comparison.subjects[k].label));
    }
    const uap = await firstCanvasStats(page, '[data-testid=compare-uap-chart] canvas');
    assert.ok(uap.width > 200 && uap.colours >= 16, `UAP chart: ${JSON.stringify(uap)}`);
    const [fa, fb] = [flags(comparison.subjects.a.result), flags(comparison.subjects.b.result)];
    assert.deepEqual(await cells(page, 'a', 'data-flagged'), heads(fa));
    assert.deepEqual(await cells(page, 'b', 'data-flagged'), heads(fb));
    const differ = heads(fa.map((row, l) => row.map((f, h) => f !== fb[l]?.[h])));
    assert.ok(differ.length > 0);
    assert.deepEqual(await cells(page, 'a', 'data-differs'), differ);
    assert.deepEqual(await cells(page, 'b', 'data-differs'), differ);
    const diff = await firstCanvasStats(page, '[data-testid=compare-token-diff] canvas');
    assert.ok(diff.width > 300 && diff.colours >= 16, `token difference: ${JSON.stringify(diff)}`);
    await page.screenshot({
      path: join(SCREENSHOTS, 'compare.png'),
      fullPage: true,
    });
    await assertClean(page);
    await page.close();
  });

  test('linked controls post a run for both subjects; unlinked, only for the one edited', async () => {
    const page = await openPanel(initOf(comparison));
    const runs = async (): Promise<Extract<CompareToHost, { type: 'run' }>[]> =>
      (await recorded(page)).posted.filter((m) => m.type === 'run');
    const waitRuns = (n: number) =>
      page.waitForFunction(
        (count) =>
          (globalThis as unknown as PageGlobals).__mosear.posted.filter((m) => m.type === 'run')
            .length >= count,
        n,
      );
    const setTau = (k: SubjectKey, value: number) =>
      page.$eval(
        `.subject-column[data-subject=${k}] [data-testid=tau]`,
        (input, v) => {
          const range = input as PageElement;
          range.value = String(v);
          range.dispatchEvent(
            new (globalThis as unknown as PageGlobals).Event('input', { bubbles: true }),
          );
        },
        value,
      );
    assert.equal(
      await page.$eval(
        '[data-testid=link-controls]',
        (e) => (e as unknown as { checked: boolean }).checked,
      ),
      true,
    );
    // Linking at open re-runs B when the checkpoints' stored γ (not set by AR) differ.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const atOpen = (await runs()).length;
    await setTau('a', 0.2);
    await waitRuns(atOpen + 2);
    const linked = (await runs()).slice(atOpen);
    assert.deepEqual(linked.map((m) => m.subject).sort(), ['a', 'b']);
    for (const m of linked) assert.deepEqual(m.controls.tau, [0.2, 0.2, 0.2, 0.2]);
    assert.deepEqual(linked[0]?.controls, linked[1]?.controls, 'one identical setting');

    await page.click('[data-testid=link-controls]');
    await setTau('b', 0.4);
    await waitRuns(atOpen + 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = (await runs()).slice(atOpen + 2);
    assert.deepEqual(
      after.map((m) => m.subject),
      ['b'],
    );
    await assertClean(page);
    await page.close();
  });

  test('a subject whose run cannot change the model says so, apart from the other', async () => {
    // Both checkpoints at their stored defaults: mosear-tiny's is mode off (α 0).
    const defaults = readComparisonResult(
      JSON.parse(
        jsonWithTokenRows(
          await compareClip(panel.engine, {
            clipPath: CLIP,
            subjects: { a: { modelPath: BASELINE_MODEL }, b: { modelPath: MODEL } },
            executionProvider: 'cpu',
          }),
        ),
      ),
    );
    const notice = (page: Page, k: string) =>
      page.$eval(`[data-testid=subject-no-effect][data-subject=${k}]`, (e) => {
        const p = e as unknown as { hidden: boolean; textContent: string };
        return p.hidden ? null : p.textContent;
      });
    const page = await openPanel(initOf(defaults));
    assert.equal(await notice(page, 'a'), null);
    assert.equal(await notice(page, 'b'), 'B: This setting cannot change the model: mode off.');
    await page.close();
    // With α 0.3 on both (the comparison above), neither.
    const acting = await openPanel(initOf(comparison));
    assert.equal(await notice(acting, 'a'), null);
    assert.equal(await notice(acting, 'b'), null);
    await acting.close();
  });

  test('linked at open: B runs A’s whole control set, the header states each side’s setting, the badge names what differs until B’s result arrives', async () => {
    const ca = defaults.subjects.a.result.intervention.controls;
    const cb = defaults.subjects.b.result.intervention.controls;
    // The shipped checkpoints store different defaults: linking must not leave them running.
    const differing = [
      ['mode', ca.mode !== cb.mode],
      ['τ', JSON.stringify(ca.tau) !== JSON.stringify(cb.tau)],
      ['margin', ca.headMargin !== cb.headMargin],
      ['α', ca.alpha !== cb.alpha],
    ].flatMap(([name, differs]) => (differs === true ? [name as string] : []));
    assert.ok(differing.includes('mode'), `defaults: ${JSON.stringify({ ca, cb })}`);
    const page = await openPanel(initOf(defaults));
    assert.equal(
      await page.$eval(
        '[data-testid=link-controls]',
        (e) => (e as unknown as { checked: boolean }).checked,
      ),
      true,
    );
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'run'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const runs = (await recorded(page)).posted.filter((m) => m.type === 'run');
    assert.deepEqual(
      runs.map((m) => m.subject),
      ['b'],
    );
    assert.deepEqual(runs[0]?.controls, ca, 'B must run A’s full control set');
    const header = await page.$eval(
      '[data-testid=subject-setting]',
      (e) => (e as PageElement).textContent ?? '',
    );
    assert.match(header, /A ran: mode AR .*τ 0\.5 · margin 0\.25 · α 0\.1 · γ [^ ]+ · layers /);
    assert.match(header, /B ran: mode off .*τ 0 · margin 0 · α 0 · γ [^ ]+ · layers /);
    const badge = () =>
      page.$eval('[data-testid=settings-badge]', (e) => ({
        hidden: (e as PageElement).hidden,
        text: (e as PageElement).textContent ?? '',
      }));
    const before = await badge();
    assert.equal(before.hidden, false);
    const listed = /settings differ: ([^(;]+)/.exec(before.text)?.[1]?.trim().split(', ');
    assert.deepEqual(
      listed?.filter((f) => ['mode', 'τ', 'margin', 'α'].includes(f)),
      differing,
    );
    // B's real run with the linked setting arrives: both ran one setting, no badge.
    await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), {
      type: 'runResult',
      subject: 'b',
      requestId: runs[0]?.requestId,
      result: linkedB,
    });
    await page.waitForFunction(
      () =>
        (
          (globalThis as unknown as PageGlobals).document as unknown as {
            querySelector(s: string): { hidden: boolean } | null;
          }
        ).querySelector('[data-testid=settings-badge]')?.hidden,
    );
    assert.match(
      await page.$eval(
        '[data-testid=subject-setting]',
        (e) => (e as PageElement).textContent ?? '',
      ),
      /B ran: mode AR .*τ 0\.5 · margin 0\.25 · α 0\.1/,
    );
    await assertClean(page);
    await page.close();
  });

  test('one checkpoint under two settings opens unlinked with a badge naming exactly the differing fields', async () => {
    // A: B's setting with the mode off; nothing else differs.
    const off = { ...comparison.subjects.b.result.intervention.controls, mode: 0 as const };
    const twoSettings: ComparisonResult = {
      ...comparison,
      comparing: 'settings',
      subjects: {
        a: {
          ...comparison.subjects.a,
          controls: off,
          result: {
            ...comparison.subjects.a.result,
            intervention: { ...comparison.subjects.a.result.intervention, controls: off },
          },
        },
        b: comparison.subjects.b,
      },
    };
    const page = await openPanel(initOf(twoSettings));
    assert.equal(
      await page.$eval(
        '[data-testid=link-controls]',
        (e) => (e as unknown as { checked: boolean }).checked,
      ),
      false,
    );
    assert.equal(
      await page.$eval('[data-testid=settings-badge]', (e) => (e as PageElement).textContent ?? ''),
      'settings differ: mode',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(
      (await recorded(page)).posted.filter((m) => m.type === 'run'),
      [],
      'an unlinked panel runs nothing at open',
    );
    await assertClean(page);
    await page.close();
  });

  test('a PNG export of the UAP chart decodes to the canvas size', async () => {
    const page = await openPanel(initOf(comparison));
    await page.click('[data-section=compare-uap-section] [data-export=png]');
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).__mosear.posted.some((m) => m.type === 'exportFile'),
    );
    const file = (await recorded(page)).posted.find((m) => m.type === 'exportFile');
    assert.ok(file?.type === 'exportFile');
    const png = decodePng(Buffer.from(file.file.data, 'base64'));
    const stats = await firstCanvasStats(page, '[data-testid=compare-uap-chart] canvas');
    assert.equal(png.width, stats.width);
    assert.equal(png.height, stats.height);
    assert.ok(distinctColours(png) >= 16);
    await assertClean(page);
    await page.close();
  });

  test('the HTML report opens offline with no CSP violation and shows both predictions', async () => {
    const html = buildCompareReport(
      comparison,
      {
        script: readFileSync(join(BUNDLE_DIR, 'compare.js'), 'utf8'),
        style: readFileSync(join(BUNDLE_DIR, 'compare.css'), 'utf8'),
      },
      'test report',
    );
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const page = await panel.context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    await page.waitForSelector('#app[data-ready="true"]');
    // Read-only: not linked at open, so each column shows what its subject ran.
    assert.equal(
      await page.$eval(
        '[data-testid=link-controls]',
        (e) => (e as unknown as { checked: boolean }).checked,
      ),
      false,
    );
    for (const k of SUBJECT_KEYS) {
      const label = await page.$eval(
        `[data-testid=compare-prediction-${k}]`,
        (e) => (e as PageElement).dataset['label'],
      );
      assert.equal(label, comparison.subjects[k].result.intervention.prediction.label);
    }
    // The report follows the browser's forced colours (high contrast) like the other panels.
    const bodyClass = (): Promise<string> =>
      page.$eval('body', (b: unknown) => (b as { className: string }).className);
    assert.doesNotMatch(await bodyClass(), /\bvscode-high-contrast\b/);
    await page.emulateMedia({ forcedColors: 'active' });
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).document.body.className.includes('high-contrast'),
    );
    assert.match(await bodyClass(), /\bvscode-high-contrast\b/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
