// What the panel tests share: one engine (real results on the shipped checkpoints), the panel's
// bundle served behind its CSP and one Chromium context per test file,
// the init a clip's panel gets, and the page reads and writes those tests repeat (send a host
// message, a test id's text or state, the messages of one type the panel posted).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { AnalysisEngine } from '../../src/core/engine/analysisEngine';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import {
  parseWebviewMessage,
  type AnalysisViewState,
  type HostToWebview,
  type PanelInit,
  type WebviewToHost,
} from '../../src/protocol/panelMessages';
import { WORKER_SCRIPT, requireEngineFiles } from './engineFixtures';
import { REPO_ROOT } from './golden';
import {
  launchTestChromium,
  openWithStubApi,
  recordedMessages,
  serveBundle,
  type BundleServer,
  type StubRecord,
} from './webviewBrowser';

/** Where the section tests write their screenshots. */
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'webview');

export type AnalysisRecord = StubRecord<WebviewToHost, AnalysisViewState>;

/** The init a clip's Analysis panel gets from the host (runs allowed unless `extra` says not). */
export function clipPanelInit(result: AnalysisResult, extra: Partial<PanelInit> = {}): PanelInit {
  return {
    origin: { kind: 'clip', clipPath: result.clip.path, modelPath: result.model.path },
    result,
    canRun: true,
    readOnlyReason: null,
    workspaceDefaults: null,
    debounceMs: 40,
    ...extra,
  };
}

export interface PanelHarness {
  /** The test file's scratch folder (Chromium's profile lives in it). */
  readonly dir: string;
  /** The browser context, for pages a test sets up itself (ready in `before`). */
  readonly context: BrowserContext;
  /** Where the bundle is served: `${origin}/panel` is the panel's page (ready in `before`). */
  readonly origin: string;
  /** CSP violations and page errors of every page opened; `assertCleanPage` checks them. */
  readonly problems: string[];
  /** The engine (one worker core), ready in the file's `before` hooks after this one. */
  readonly engine: AnalysisEngine;
  /**
   * Opens the panel with `init` (what its bundle's init message carries) and the kept state
   * `saved`; resolves once it shows a result.
   */
  readonly open: (init: unknown, saved?: unknown) => Promise<Page>;
}

/**
 * Registers the `before`/`after` hooks of one test file: call it first in the `describe`, so its
 * `before` (engine, bundle server, Chromium) runs before the file's own. `bundle` is the panel
 * ('analysis' unless said), `cores` the engine's (1 unless said).
 */
export function panelHarness(
  prefix: string,
  options: { bundle?: string; cores?: number } = {},
): PanelHarness {
  const dir = mkdtempSync(join(tmpdir(), `mosear-${prefix}-`));
  const problems: string[] = [];
  let engine: AnalysisEngine | undefined;
  let server: BundleServer | undefined;
  let context: BrowserContext | undefined;
  before(async () => {
    requireEngineFiles();
    mkdirSync(SCREENSHOTS, { recursive: true });
    engine = new AnalysisEngine({
      workerScript: WORKER_SCRIPT,
      cores: options.cores ?? 1,
      toolVersion: 'test',
    });
    server = await serveBundle(options.bundle ?? 'analysis');
    context = await launchTestChromium(dir);
  });
  after(async () => {
    await context?.close();
    await server?.close();
    await engine?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the harness ${what} starts in before()`);
    return value;
  };
  return {
    dir,
    problems,
    get context(): BrowserContext {
      return ready(context, 'browser');
    },
    get origin(): string {
      return ready(server, 'bundle server').origin;
    },
    get engine(): AnalysisEngine {
      return ready(engine, 'engine');
    },
    open: (init, saved = null) =>
      openWithStubApi(
        ready(context, 'browser'),
        `${ready(server, 'bundle server').origin}/panel`,
        init,
        saved,
        problems,
      ),
  };
}

/** Posts a host message to the panel, as VS Code's webview channel would. */
export function sendToPanel(page: Page, message: HostToWebview): Promise<void> {
  return page.evaluate(
    (m) =>
      (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(m, '*'),
    message,
  );
}

/** The trimmed text of the element with `data-testid` `testId`. */
export function testIdText(page: Page, testId: string): Promise<string> {
  return page.$eval(
    `[data-testid=${testId}]`,
    (e: unknown) => (e as { textContent: string | null }).textContent?.trim() ?? '',
  );
}

/** Whether the element with `data-testid` `testId` is hidden. */
export function testIdHidden(page: Page, testId: string): Promise<boolean> {
  return page.$eval(`[data-testid=${testId}]`, (e: unknown) => (e as { hidden: boolean }).hidden);
}

/** Whether the element with `data-testid` `testId` has the `disabled` attribute. */
export function testIdDisabled(page: Page, testId: string): Promise<boolean> {
  return page.$eval(`[data-testid=${testId}]`, (e: unknown) =>
    (e as { hasAttribute(n: string): boolean }).hasAttribute('disabled'),
  );
}

/** Every message the panel posted, each checked by the host's schema, and its kept state. */
export function panelRecord(page: Page): Promise<AnalysisRecord> {
  return recordedMessages(page, parseWebviewMessage);
}

/** The messages of one type the panel posted, in order. */
export async function postedOfType<T extends WebviewToHost['type']>(
  page: Page,
  type: T,
): Promise<Extract<WebviewToHost, { type: T }>[]> {
  return (await panelRecord(page)).posted.filter(
    (m): m is Extract<WebviewToHost, { type: T }> => m.type === type,
  );
}
