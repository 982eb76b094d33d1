// The harness's host side for token rows on demand (src/protocol/rowRequests.ts): a page with a
// stub VS Code API whose `tokenRow` requests cross to Node (playwright's exposeFunction), are
// answered there by the host's own code (src/shared/panelRows.ts answerTokenRow) on the real
// result, and come back as Float32Arrays posted to the page — a round trip like the extension
// host's. Also the page-side timings of the webview benchmarks (first paint, head click).
import type { BrowserContext, Page } from 'playwright-core';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { TokenRowQuery } from '../../src/protocol/rowRequests';
import { answerTokenRow } from '../../src/shared/panelRows';
import { float32Bytes } from '../../src/protocol/tokenRows';
import { watchProblems, type StubRecord } from './webviewBrowser';

/** A `tokenRow` request as the harness host receives it. */
export interface RowRequest {
  type: 'tokenRow';
  requestId: number;
  query: TokenRowQuery;
  subject?: 'a' | 'b';
}

/** What the harness host answers: a row, or a failure message. */
export type RowAnswer = { row: Float32Array } | { error: string };

/** The host's answer from the real results (one, or a Compare panel's two by subject). */
export function realRowAnswers(
  results: AnalysisResult | Record<'a' | 'b', AnalysisResult>,
): (request: RowRequest) => RowAnswer {
  return (request) =>
    answerTokenRow('kind' in results ? results : results[request.subject ?? 'a'], request.query);
}

/** The reply as it crosses into the page (bytes as base64; the page makes the Float32Array). */
interface WireReply {
  type: 'tokenRow' | 'tokenRowFailed';
  requestId: number;
  subject?: 'a' | 'b';
  base64?: string;
  message?: string;
}

/** The page globals the stub touches (the test config has no DOM types). */
interface HostGlobals {
  __mosear: StubRecord<{ type: string }, unknown> & { init: unknown; rowRequests: number };
  __mosearHost(message: unknown): Promise<WireReply>;
  acquireVsCodeApi: () => unknown;
  postMessage(message: unknown, targetOrigin: string): void;
  atob(text: string): string;
  document: {
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (e: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
}

/**
 * Opens a panel page whose stub API answers `ready` with `{ type: 'init', init }` (unless
 * `autoInit` is false: the test posts it, see `timeFirstPaint`) and sends every `tokenRow`
 * request to `answer` in Node; the reply is posted back as the host would post it.
 */
export async function openWithRowHost(
  context: BrowserContext,
  url: string,
  init: unknown,
  answer: (request: RowRequest) => RowAnswer,
  problems: string[],
  options: { autoInit?: boolean; delayMs?: number } = {},
): Promise<Page> {
  const page = await context.newPage();
  watchProblems(page, problems);
  await page.exposeFunction('__mosearHost', async (raw: unknown): Promise<WireReply> => {
    const request = raw as RowRequest;
    if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs));
    const subject = request.subject === undefined ? {} : { subject: request.subject };
    const a = answer(request);
    if ('error' in a) {
      return { type: 'tokenRowFailed', requestId: request.requestId, ...subject, message: a.error };
    }
    const base64 = Buffer.from(float32Bytes(a.row)).toString('base64');
    return { type: 'tokenRow', requestId: request.requestId, ...subject, base64 };
  });
  await page.addInitScript(
    ({ panelInit, autoInit }) => {
      const g = globalThis as unknown as HostGlobals;
      const recorded: HostGlobals['__mosear'] = {
        posted: [],
        violations: [],
        init: panelInit,
        rowRequests: 0,
      };
      g.__mosear = recorded;
      g.document.addEventListener('securitypolicyviolation', (e) =>
        recorded.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
      let state: unknown;
      g.acquireVsCodeApi = () => ({
        postMessage(message: { type: string }) {
          recorded.posted.push(JSON.parse(JSON.stringify(message)) as { type: string });
          if (message.type === 'ready' && autoInit) {
            setTimeout(() => g.postMessage({ type: 'init', init: panelInit }, '*'), 0);
          }
          if (message.type === 'tokenRow') {
            recorded.rowRequests++;
            void g.__mosearHost(message).then((reply) => {
              const { base64, ...rest } = reply;
              if (base64 === undefined) {
                g.postMessage(rest, '*');
                return;
              }
              const bytes = Uint8Array.from(g.atob(base64), (c) => c.charCodeAt(0));
              g.postMessage({ ...rest, row: new Float32Array(bytes.buffer) }, '*');
            });
          }
        },
        getState: () => state,
        setState: (s: unknown) => {
          state = s;
          recorded.state = s;
        },
      });
    },
    { panelInit: init, autoInit: options.autoInit ?? true },
  );
  await page.goto(url);
  if (options.autoInit ?? true) await page.waitForSelector('#app[data-ready="true"]');
  return page;
}

/** The page globals the timings read. */
interface TimingGlobals {
  __mosear: { init: unknown };
  performance: { now(): number };
  postMessage(message: unknown, targetOrigin: string): void;
  requestAnimationFrame(callback: () => void): void;
  setTimeout(callback: () => void, ms: number): void;
  MouseEvent: new (type: string, init: { bubbles: boolean }) => unknown;
  document: {
    querySelector(selector: string): {
      dataset: Record<string, string | undefined>;
      dispatchEvent(event: unknown): boolean;
    } | null;
    querySelectorAll(selector: string): { length: number };
    getElementById(id: string): { dataset: Record<string, string | undefined> } | null;
  };
}

/**
 * First paint: from the `init` message's arrival in the page (posted there) to the next painted
 * frame (requestAnimationFrame, then a task) after the header, prediction, UAP and all `cells`
 * head-grid cells are drawn with data. Milliseconds.
 */
export function timeFirstPaint(page: Page, cells: number): Promise<number> {
  return page.evaluate(
    (want) =>
      new Promise<number>((resolve) => {
        const g = globalThis as unknown as TimingGlobals;
        // The panel draws every view in one pass once the result is in (#app data-ready).
        const drawn = (): boolean =>
          g.document.getElementById('app')?.dataset['ready'] === 'true' &&
          g.document.querySelectorAll('[data-testid=head-grid] .cell[data-layer]').length ===
            want &&
          g.document.querySelectorAll('[data-section=uap-section] canvas').length > 0;
        const start = g.performance.now();
        g.postMessage({ type: 'init', init: g.__mosear.init }, '*');
        const poll = (): void => {
          if (!drawn()) {
            g.setTimeout(poll, 0);
            return;
          }
          g.requestAnimationFrame(() =>
            g.setTimeout(() => resolve(g.performance.now() - start), 0),
          );
        };
        g.setTimeout(poll, 0);
      }),
    cells,
  );
}

/**
 * Head click: from a click on grid cell (`layer`, `head`) to the next painted frame after the
 * token view has drawn that head's rows (the row requests' round trip through the harness host
 * included), and of that the click's own synchronous redraw (the views that show the
 * selection, rows still on their way). Milliseconds.
 */
export function timeHeadClick(
  page: Page,
  layer: number,
  head: number,
): Promise<{ totalMs: number; clickRenderMs: number }> {
  return page.evaluate(
    ([l, h]) =>
      new Promise<{ totalMs: number; clickRenderMs: number }>((resolve, reject) => {
        const g = globalThis as unknown as TimingGlobals;
        const cell = g.document.querySelector(
          `[data-testid=head-grid] .cell[data-layer="${l}"][data-head="${h}"]`,
        );
        const section = g.document.querySelector('[data-section=tokens-section]');
        if (cell === null || section === null) {
          reject(new Error(`no grid cell ${l}:${h} or token section`));
          return;
        }
        const start = g.performance.now();
        cell.dispatchEvent(new g.MouseEvent('click', { bubbles: true }));
        const clickRenderMs = g.performance.now() - start;
        const poll = (): void => {
          const d = section.dataset;
          if (d['rowsFor'] !== `${l}:${h}` || d['rows'] !== 'ready') {
            g.setTimeout(poll, 0);
            return;
          }
          g.requestAnimationFrame(() =>
            g.setTimeout(() => resolve({ totalMs: g.performance.now() - start, clickRenderMs }), 0),
          );
        };
        poll();
      }),
    [layer, head] as const,
  );
}
