// What the webview tests share: a local server that serves a panel bundle behind the host's CSP
// (theme variables inlined, the bundle by URL and nonce, like VS Code's webview HTML), and
// Debian's chromium through playwright-core with its profile and HOME inside a scratch folder.
import { jsonReadyTokenRows } from '../../src/protocol/tokenRows';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { reportThemeCss } from '../../src/core/reports/htmlReport';
import { REPO_ROOT } from './golden';

/** The built webview bundles. */
export const BUNDLE_DIR = join(REPO_ROOT, 'dist', 'webview');

/** The CSP nonce the served page uses. */
export const NONCE = 'testNonce0123456789';

/** A running bundle server: `${origin}/panel` is the page. */
export interface BundleServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves `/panel` (the bundle `<name>.js`/`.css` behind a strict CSP) on a free local port. */
export async function serveBundle(name: string): Promise<BundleServer> {
  for (const ext of ['js', 'css']) readFileSync(join(BUNDLE_DIR, `${name}.${ext}`)); // built?
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/panel') {
      res.setHeader(
        'Content-Security-Policy',
        `default-src 'none'; img-src data: ${origin}; style-src ${origin} 'nonce-${NONCE}'; script-src 'nonce-${NONCE}'`,
      );
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(
        `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
          `<style nonce="${NONCE}">${reportThemeCss()}</style>` +
          `<link rel="stylesheet" href="${origin}/${name}.css"></head>` +
          `<body class="vscode-dark"><div id="app"></div>` +
          `<script nonce="${NONCE}" src="${origin}/${name}.js"></script></body></html>`,
      );
      return;
    }
    const file = url === `/${name}.js` || url === `/${name}.css` ? url.slice(1) : null;
    if (file === null) {
      // The browser's own favicon request is not the panel's doing.
      res.statusCode = url === '/favicon.ico' ? 204 : 404;
      res.end();
      return;
    }
    res.setHeader('Content-Type', file.endsWith('.js') ? 'text/javascript' : 'text/css');
    res.end(readFileSync(join(BUNDLE_DIR, file)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Headless chromium with its profile and HOME under `dir` (removed by the caller after close):
 * the e2e harness's launcher (scripts/vscode/codeServer.mjs, a plain ES module loaded at run time).
 */
export async function launchTestChromium(dir: string): Promise<BrowserContext> {
  const harness = (await import(
    pathToFileURL(join(REPO_ROOT, 'scripts', 'vscode', 'codeServer.mjs')).href
  )) as { launchChromium(options: { workDir: string }): Promise<BrowserContext> };
  return harness.launchChromium({ workDir: dir });
}

/** What the stub VS Code API records in a page (as `globalThis.__mosear`). */
export interface StubRecord<Out, State> {
  posted: Out[];
  violations: string[];
  /** What the webview last passed to `setState`. */
  state?: State;
}

/** The page globals the stub touches (the test config has no DOM types). */
interface StubGlobals {
  __mosear: StubRecord<{ type: string }, unknown>;
  acquireVsCodeApi: () => unknown;
  postMessage(message: unknown, targetOrigin: string): void;
  document: {
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (e: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
}

/** Records a page's console errors, CSP reports and page errors in `problems` (cleared first). */
export function watchProblems(page: Page, problems: string[]): void {
  problems.length = 0;
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

/**
 * Opens a panel page with a stub VS Code API that records every posted message and CSP
 * violation, keeps `setState`'s state (starting from `saved`), and answers `ready` with
 * `{ type: 'init', init }`; resolves once the panel shows a result.
 */
export async function openWithStubApi(
  context: BrowserContext,
  url: string,
  init: unknown,
  saved: unknown,
  problems: string[],
): Promise<Page> {
  const page = await context.newPage();
  watchProblems(page, problems);
  await page.addInitScript(
    ({ panelInit, savedState }) => {
      const g = globalThis as unknown as StubGlobals;
      const recorded: StubGlobals['__mosear'] = { posted: [], violations: [] };
      g.__mosear = recorded;
      g.document.addEventListener('securitypolicyviolation', (e) =>
        recorded.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
      let state: unknown = savedState;
      g.acquireVsCodeApi = () => ({
        postMessage(message: { type: string }) {
          recorded.posted.push(JSON.parse(JSON.stringify(message)) as { type: string });
          if (message.type === 'ready') {
            setTimeout(() => g.postMessage({ type: 'init', init: panelInit }, '*'), 0);
          }
        },
        getState: () => state,
        setState: (s: unknown) => {
          state = s;
          recorded.state = s;
        },
      });
    },
    // addInitScript passes its argument as JSON: token rows go as base64, which the panel's
    // schema reads like the Float32Arrays VS Code's postMessage delivers (send() passes those).
    { panelInit: jsonReadyTokenRows(init), savedState: jsonReadyTokenRows(saved) },
  );
  await page.goto(url);
  await page.waitForSelector('#app[data-ready="true"]');
  return page;
}

/** The few browser shapes page functions touch (the test config has no DOM types). */
export interface PageElement {
  dataset: Record<string, string | undefined>;
  hidden: boolean;
  value: string;
  width: number;
  height: number;
  textContent: string | null;
  dispatchEvent(event: unknown): boolean;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
  toDataURL(): string;
}

/** What the stub recorded in a page, every posted message checked by the host's `validate`. */
export async function recordedMessages<Out, State>(
  page: Page,
  validate: (message: unknown) => unknown,
): Promise<StubRecord<Out, State>> {
  const r = await page.evaluate(
    () => (globalThis as unknown as { __mosear: StubRecord<Out, State> }).__mosear,
  );
  for (const m of r.posted) validate(m);
  return r;
}

/** Asserts a page had no CSP violation, posted no `webviewError` and logged no error. */
export async function assertCleanPage(
  page: Page,
  problems: readonly string[],
  validate: (message: unknown) => unknown,
): Promise<void> {
  const r = await recordedMessages<{ type: string }, unknown>(page, validate);
  assert.deepEqual(r.violations, [], 'CSP violations');
  assert.deepEqual(
    r.posted.filter((m) => m.type === 'webviewError'),
    [],
    'the webview reported errors',
  );
  assert.deepEqual(problems, []);
}

/** Distinct colours and painted pixels of every canvas under a selector. */
export function canvasStats(
  page: Page,
  selector: string,
): Promise<{ width: number; height: number; painted: number; colours: number }[]> {
  return page.$$eval(selector, (canvases) =>
    canvases.map((c) => {
      const canvas = c as PageElement;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set<number>();
      let painted = 0;
      for (let i = 0; data !== undefined && i < data.length; i += 4) {
        if ((data[i + 3] ?? 0) > 0) painted++;
        colours.add(
          (((data[i] ?? 0) << 24) | ((data[i + 1] ?? 0) << 16) | ((data[i + 2] ?? 0) << 8)) +
            (data[i + 3] ?? 0),
        );
      }
      return { width: canvas.width, height: canvas.height, painted, colours: colours.size };
    }),
  );
}
