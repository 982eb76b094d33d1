// End-to-end UI test (DESIGN.md §6, tier 5): the packaged linux-x64 VSIX installed into a real
// VS Code workbench (code-server, scripts/vscode/codeServer.mjs) driven by Debian's chromium.
// Right-click a shipped clip in the explorer → Analyze Clip → the Analysis panel shows the CLI's
// prediction, the charts, grid and list; moving τ previews exactly what the TypeScript flag rule
// predicts and re-runs the model; the Counterfactuals section and the head knockout show what the
// CLI's `counterfactual` and `knockout --flagged` give; "Build Conflict Set" on a labelled folder
// in the explorer, its prompts answered in the workbench, writes the clips and the manifest the
// CLI's `conflicts` writes; the last step sets the contract-1.1 full-shape fixture
// (models/fixtures/, 32 layers × 32 heads; not in the VSIX) as the workspace's checkpoint and
// analyses another clip with it. Screenshots (and code-server's logs) go to test-results/e2e/.
// MOSEAR_E2E_SKIP_PACKAGE=1 reuses out/vsix/'s linux-x64 package instead of packaging again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BrowserContext, Frame, FrameLocator, Locator, Page } from 'playwright-core';
import { flagRuleForRun } from '../../src/core/analysis/runAnalysis';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { ComparisonResult } from '../../src/protocol/comparisonResult';
import type { ArControls } from '../../src/protocol/contract';
import { RATIO_KIND_NAMES } from '../../src/protocol/contract';
import type { CounterfactualResult } from '../../src/protocol/counterfactualResult';
import type { KnockoutResult } from '../../src/protocol/knockout';
import { REPO_ROOT } from '../helpers/golden';

const run = promisify(execFile);

/** What this test uses of scripts/vscode/codeServer.mjs (a plain ES module, loaded at run time). */
interface CodeServerHarness {
  installCodeServer(): Promise<{ bin: string; version: string }>;
  installExtension(options: {
    bin: string;
    vsix: string;
    userDataDir: string;
    extensionsDir: string;
  }): Promise<string>;
  startCodeServer(options: {
    workDir: string;
    folder?: string;
    bin?: string;
    userSettings?: Record<string, unknown>;
  }): Promise<{ url: string; pid: number; logFile: string; stop(): Promise<void> }>;
  launchChromium(options: { workDir: string }): Promise<BrowserContext>;
}

/** The clip: its layer 3 (the layer the shipped AR defaults act on) has audio mass to move. */
const CLIP = 'sample-consistent-happy.mp4';
const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'e2e');
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  contributes: { commands: { command: string; title: string }[] };
};
const ANALYZE_TITLE =
  manifest.contributes.commands.find((c) => c.command === 'mosear.analyzeClip')?.title ??
  'Analyze Clip';

const COMPARE_TITLE =
  manifest.contributes.commands.find((c) => c.command === 'mosear.compareCheckpoints')?.title ??
  'Compare Checkpoints on Clip';

const CONFLICT_TITLE =
  manifest.contributes.commands.find((c) => c.command === 'mosear.buildConflictSet')?.title ??
  'Build Conflict Set';

/**
 * The labelled folder the conflict builder reads (one subfolder per label): two consistent clips
 * of the committed CA-MER-synth test split, so the set is one clip per label.
 */
const LABELLED = 'labelled';
const LABELLED_CLIPS = [
  ['neutral', 'c-0001-neutral.mp4'],
  ['happy', 'c-0003-happy.mp4'],
] as const;

/** The CLI at dist/ (the build tier's), run with these arguments from the repository root. */
function cli(args: string[]): Promise<unknown> {
  return run(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), ...args], { cwd: REPO_ROOT });
}

/** A JSONL file's rows. */
function jsonlRows(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A conflict manifest's rows as the two builders must agree on them (the donors by name). */
function comparableRows(path: string): Record<string, unknown>[] {
  return jsonlRows(path).map((row) => {
    const named: Record<string, unknown> = { ...row };
    for (const key of ['path', 'video_from', 'audio_from']) {
      if (typeof row[key] === 'string') named[key] = basename(row[key]);
    }
    delete named['duration_s'];
    return named;
  });
}

/**
 * The AR settings of the e2e workspace (its `.vscode/settings.json`) and of the CLI reference
 * runs: mosear-tiny's stored default is "off" (no AR setting passed its validation rule), and a
 * τ above the sweep's minimum lets Home on the slider change the flags.
 */
const WORKSPACE_AR = { 'mosear.ar.mode': 'ar', 'mosear.ar.tau': 0.5, 'mosear.ar.alpha': 0.3 };

/** The CLI options equal to WORKSPACE_AR (with another τ when given). */
function workspaceArArgs(tau = WORKSPACE_AR['mosear.ar.tau']): string[] {
  return ['--mode', 'ar', '--tau', `${tau}`, '--alpha', `${WORKSPACE_AR['mosear.ar.alpha']}`];
}

/** The contract-1.1 full-shape fixture (Emotion-LLaMA's shapes, random weights; not shipped). */
const FIXTURE = join(REPO_ROOT, 'models', 'fixtures', 'emotion-llama-fullshape.onnx');
const FIXTURE_NAME = 'emotion-llama-fullshape';
/** The shipped clip the fixture analyses (the same as the webview tier's 32 × 32 panels). */
const FIXTURE_CLIP = 'sample-video-aligned-sad.mp4';
/**
 * The workspace settings of the fixture step: the fixture as `mosear.checkpoint.path`, AR on
 * every layer with the share statistic at τ 0.001 (the checkpoint's margin 0: 83 of 1024 heads
 * flag on the clip, spread over most layers; the settings refuse the webview tier's margin −0.5).
 */
const FIXTURE_SETTINGS = {
  'mosear.checkpoint.path': FIXTURE,
  'mosear.ar.mode': 'ar',
  'mosear.ar.ratioKind': 'share',
  'mosear.ar.tau': 0.001,
  'mosear.ar.alpha': 0.3,
  'mosear.ar.layers': Array.from({ length: 32 }, (_, l) => l),
};
/** The CLI options equal to FIXTURE_SETTINGS. */
const FIXTURE_ARGS = [
  ...['--model', FIXTURE, '--mode', 'ar', '--ratio-kind', 'share', '--tau', '0.001'],
  ...['--alpha', '0.3', '--layers', 'all'],
];

/** Runs the CLI's `analyze` on a clip with these options and reads its result. */
async function cliAnalyze(clip: string, out: string, args: string[]): Promise<AnalysisResult> {
  await run(
    process.execPath,
    [join(REPO_ROOT, 'dist/cli/main.js'), 'analyze', clip, '--json', out, '--quiet', ...args],
    { cwd: REPO_ROOT },
  );
  return JSON.parse(readFileSync(out, 'utf8')) as AnalysisResult;
}

/** Runs the CLI on the clip (same checkpoint, decoder and AR settings as the extension here). */
function cliAnalysis(clip: string, out: string, tau?: number): Promise<AnalysisResult> {
  return cliAnalyze(clip, out, workspaceArArgs(tau));
}

/** Polls the page's frames until one has an element matching `selector`; fails after `ms`. */
async function frameWith(page: Page, selector: string, what: string, ms: number): Promise<Frame> {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const f of page.frames()) {
      if ((await f.$(selector).catch(() => null)) !== null) return f;
    }
    assert.ok(Date.now() < deadline, what);
    await page.waitForTimeout(250);
  }
}

/** Flags the TypeScript rule (applyFlagRule) sets on a result's intervention-run masses. */
function ruleFlagCount(result: AnalysisResult, controls: ArControls): number {
  const mass = result.intervention.modalityMass.flat(2);
  const { arFlags } = flagRuleForRun(result.model.metadata, mass, controls);
  return Array.from(arFlags).filter((f) => f > 0.5).length;
}

const percent = (p: number): string => `${(p * 100).toFixed(1)}%`;
const seconds = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

/** Number shown in an element (the flag counters). */
async function shownNumber(locator: Locator): Promise<number> {
  return Number((await locator.textContent())?.trim());
}

/** Records every value the panel root's data-state takes from now on (MutationObserver). */
async function recordStates(app: Locator): Promise<void> {
  type Observer = new (callback: () => void) => {
    observe(target: unknown, options: { attributeFilter: string[] }): void;
  };
  await app.evaluate((root: unknown) => {
    const element = root as { dataset: Record<string, string>; e2eStates: string[] };
    element.e2eStates = [];
    const { MutationObserver } = globalThis as unknown as { MutationObserver: Observer };
    new MutationObserver(() => element.e2eStates.push(element.dataset['state'] ?? '')).observe(
      root,
      { attributeFilter: ['data-state'] },
    );
  });
}

const recordedStates = (app: Locator): Promise<string[]> =>
  app.evaluate((root: unknown) => (root as { e2eStates: string[] }).e2eStates);

describe('e2e: analyze a clip in code-server', { timeout: 480_000 }, () => {
  const t0 = performance.now();
  let harness: CodeServerHarness;
  let server: Awaited<ReturnType<CodeServerHarness['startCodeServer']>> | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let panel: FrameLocator;
  let first: AnalysisResult;
  let fixtureReference: AnalysisResult;
  let clipPath: string;
  /** The τ the panel shows after the τ step (the sweep's minimum). */
  let shownTau: number;
  const workDir = join(REPO_ROOT, '.vscode-test', 'work', 'e2e');

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  };
  /** Closes every editor (Ctrl+K Ctrl+W from the explorer's title). */
  const closeAllEditors = async (): Promise<void> => {
    await page.locator('.part.sidebar .title-label').first().click();
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+W');
    const tabs = page.locator('.part.editor .tabs-container .tab');
    const closed = Date.now() + 15_000;
    while ((await tabs.count()) > 0) {
      assert.ok(Date.now() < closed, 'Ctrl+K Ctrl+W left editors open');
      await page.waitForTimeout(100);
    }
  };
  /** The explorer's row of a file or folder whose name starts with `name`. */
  const explorerRow = (name: string): Locator =>
    page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`);
  /**
   * Expands a folder in the explorer unless it is expanded already (a click toggles it, and the
   * explorer may have revealed the folder on its own), and waits until it is.
   */
  const expandFolder = async (name: string): Promise<void> => {
    const row = explorerRow(name).first();
    await row.waitFor();
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await page
      .locator(
        `.explorer-folders-view .monaco-list-row[aria-label^="${name}"][aria-expanded="true"]`,
      )
      .first()
      .waitFor();
  };
  /** Right-clicks the clip in the explorer and clicks a contributed menu item. */
  const clickInContextMenu = async (
    title: string,
    screenshot: string,
    clip = CLIP,
  ): Promise<void> => {
    const row = explorerRow(clip);
    await row.waitFor({ timeout: 60_000 });
    await shot('01-workbench');
    const item = page.getByRole('menuitem', { name: title, exact: true });
    // The contributed item appears only once the extension host has registered the extension.
    const deadline = Date.now() + 60_000;
    for (;;) {
      await row.click({ button: 'right' });
      const shown = await item.waitFor({ timeout: 3000 }).then(
        () => true,
        () => false,
      );
      if (shown) break;
      assert.ok(Date.now() < deadline, `"${title}" never appeared in the context menu`);
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1000);
    }
    // A click the instant the menu appears was seen swallowed: hover, settle, then click.
    await item.hover();
    await page.waitForTimeout(500);
    await shot(screenshot);
    await item.click();
  };
  // Ctrl-C or a CI timeout: 'exit' runs codeServer.mjs's handler, which kills the process group.
  const onSignal = (): never => process.exit(130);

  before(async () => {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    harness = (await import(
      pathToFileURL(join(REPO_ROOT, 'scripts', 'vscode', 'codeServer.mjs')).href
    )) as CodeServerHarness;
    rmSync(workDir, { recursive: true, force: true });
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    const folder = join(workDir, 'workspace');
    mkdirSync(folder, { recursive: true });
    clipPath = join(folder, CLIP);
    copyFileSync(join(REPO_ROOT, 'models', 'samples', CLIP), clipPath);
    const fixtureClip = join(folder, FIXTURE_CLIP);
    copyFileSync(join(REPO_ROOT, 'models', 'samples', FIXTURE_CLIP), fixtureClip);
    for (const [label, name] of LABELLED_CLIPS) {
      mkdirSync(join(folder, LABELLED, label), { recursive: true });
      copyFileSync(
        join(REPO_ROOT, 'models', 'data', 'ca-mer-synth', 'test', name),
        join(folder, LABELLED, label, name),
      );
    }
    mkdirSync(join(folder, '.vscode'));
    writeFileSync(join(folder, '.vscode', 'settings.json'), JSON.stringify(WORKSPACE_AR, null, 2));

    const vsix = join(
      REPO_ROOT,
      'out',
      'vsix',
      `${manifest.name}-linux-x64-${manifest.version}.vsix`,
    );
    // Packaging (the bundles are built by the build tier), the code-server install and the CLI
    // reference runs are independent.
    const [, codeServer, reference, fixtureResult] = await Promise.all([
      process.env['MOSEAR_E2E_SKIP_PACKAGE'] === '1'
        ? Promise.resolve()
        : run(process.execPath, ['scripts/package.mjs', '--target', 'linux-x64', '--no-build'], {
            cwd: REPO_ROOT,
          }),
      harness.installCodeServer(),
      cliAnalysis(clipPath, join(workDir, 'cli-defaults.json')),
      cliAnalyze(fixtureClip, join(workDir, 'cli-fixture.json'), FIXTURE_ARGS),
    ]);
    first = reference;
    fixtureReference = fixtureResult;
    console.log(`# packaged, code-server ${codeServer.version} ready: ${seconds(t0)}`);
    await harness.installExtension({
      bin: codeServer.bin,
      vsix,
      userDataDir: join(workDir, 'user-data'),
      extensionsDir: join(workDir, 'extensions'),
    });
    server = await harness.startCodeServer({ workDir, folder, bin: codeServer.bin });
    browser = await harness.launchChromium({ workDir });
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`${server.url}?folder=${encodeURIComponent(folder)}`);
    panel = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    console.log(`# workbench loading: ${seconds(t0)}`);
  });

  after(async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (page !== undefined) await shot('99-last').catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
    // The server's and the extension host's logs beside the screenshots, for a failed CI run.
    for (const [from, to] of [
      [join(workDir, 'code-server.log'), 'code-server.log'],
      [join(workDir, 'user-data', 'logs'), 'logs'],
    ] as const) {
      if (existsSync(from)) cpSync(from, join(SCREENSHOTS, to), { recursive: true });
    }
    console.log(`# e2e wall time: ${seconds(t0)}`);
  });

  it(`opens the Analysis panel from the explorer's "${ANALYZE_TITLE}"`, async () => {
    await clickInContextMenu(ANALYZE_TITLE, '02-context-menu');
    const app = panel.locator('#app[data-ready="true"][data-state="idle"]');
    await app.waitFor({ timeout: 120_000 });
    console.log(`# panel shows a result: ${seconds(t0)}`);

    const summary = panel.locator('[data-testid=prediction]');
    assert.equal(await summary.getAttribute('data-label'), first.intervention.prediction.label);
    const text = (await summary.textContent()) ?? '';
    assert.ok(text.includes(percent(first.intervention.prediction.probability)), text);
    assert.ok(text.includes(first.baseline.prediction.label), text);
    await shot('03-analysis-panel');
  });

  it('renders the UAP chart, the head grid and the biased-heads list', async () => {
    const meta = first.model.metadata;
    const canvas = panel.locator('[data-testid=uap-chart] canvas');
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    assert.ok(
      box !== null && box.width > 50 && box.height > 50,
      `UAP canvas ${JSON.stringify(box)}`,
    );
    const cells = panel.locator('[data-testid=head-grid] [data-layer][data-head]');
    assert.equal(await cells.count(), meta.architecture.layers * meta.architecture.heads);
    const flagged = first.intervention.arFlags.flat().filter((f) => f > 0.5).length;
    assert.equal(await shownNumber(panel.locator('[data-testid=flag-count]')), flagged);
    assert.equal(
      await panel.locator('[data-testid=head-grid] [data-flagged=true]').count(),
      flagged,
    );
    await panel.locator('[data-testid=biased-heads]').waitFor({ state: 'attached' });
    assert.equal(await panel.locator('[data-testid=biased-heads] tbody tr').count(), flagged);
  });

  it('moving τ previews the TS rule at once and re-runs the model', async () => {
    const controls = first.intervention.controls;
    const range = first.model.metadata.tauSweep[RATIO_KIND_NAMES[controls.ratioKind]];
    // Home puts the slider at the sweep's minimum (a log slider rounds τ to 4 digits).
    const tau = range.scale === 'log' ? Number(range.min.toPrecision(4)) : range.min;
    shownTau = tau;
    const edited: ArControls = { ...controls, tau: controls.tau.map(() => tau) };
    const expectedPreview = ruleFlagCount(first, edited);
    const before = first.intervention.arFlags.flat().filter((f) => f > 0.5).length;
    assert.notEqual(expectedPreview, before, `τ = ${tau} must change the flags on ${CLIP}`);
    // The model's own answer at the new τ, for the re-run's prediction and flags.
    const rerun = await cliAnalysis(clipPath, join(workDir, 'cli-tau.json'), tau);

    const app = panel.locator('#app');
    await recordStates(app);
    const slider = panel.locator('[data-testid=tau]');
    await slider.focus();
    await slider.press('Home');
    // The preview is synchronous: the TS rule on the shown result's masses.
    assert.equal(await shownNumber(panel.locator('[data-testid=preview-count]')), expectedPreview);
    await shot('04-tau-preview');

    // Idle only counts once a run has started since the edit.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const states = await recordedStates(app);
      const running = states.indexOf('running');
      const idleAgain = running >= 0 && states.slice(running).includes('idle');
      if (idleAgain && (await app.getAttribute('data-state')) === 'idle') break;
      assert.ok(Date.now() < deadline, `no re-run seen; states: ${states.join(' → ')}`);
      await page.waitForTimeout(100);
    }
    console.log(`# re-run shown: ${seconds(t0)}`);

    const flagsAfter = rerun.intervention.arFlags.flat().filter((f) => f > 0.5).length;
    assert.equal(ruleFlagCount(rerun, edited), flagsAfter, 'the TS rule agrees with the graph');
    assert.equal(await shownNumber(panel.locator('[data-testid=flag-count]')), flagsAfter);
    assert.equal(
      await panel.locator('[data-testid=head-grid] [data-flagged=true]').count(),
      flagsAfter,
    );
    assert.equal(await panel.locator('[data-testid=biased-heads] tbody tr').count(), flagsAfter);
    const summary = panel.locator('[data-testid=prediction]');
    assert.equal(await summary.getAttribute('data-label'), rerun.intervention.prediction.label);
    const text = (await summary.textContent()) ?? '';
    assert.ok(text.includes(percent(rerun.intervention.prediction.probability)), text);
    await shot('05-after-rerun');
    // Further down the panel, for the README (npm run screenshots).
    await panel.locator('[data-testid=head-grid]').scrollIntoViewIfNeeded();
    await shot('06-heads');
    await panel.locator('[data-testid=token-canvas]').scrollIntoViewIfNeeded();
    await shot('07-token-attention');
  });

  it('Counterfactuals: the section runs the variants and shows the verdict of the CLI', async () => {
    const t = performance.now();
    // The CLI on the same clip and controls (its partners: the clip's folder, as the panel's).
    const out = join(workDir, 'cli-counterfactuals.json');
    const reference = cli([
      ...['counterfactual', clipPath, '--json', out, '--quiet'],
      ...workspaceArArgs(shownTau),
    ]).then(() => JSON.parse(readFileSync(out, 'utf8')) as CounterfactualResult);
    const section = panel.locator('[data-section=counterfactuals-section]');
    await section.scrollIntoViewIfNeeded();
    await panel.locator('[data-testid=counterfactuals-run]').click();
    const rows = section.locator('[data-testid=counterfactuals-table] tbody tr');
    await rows.first().waitFor({ timeout: 120_000 });
    const expected = await reference;
    const kinds = await rows.evaluateAll((all) =>
      all.map((r) => (r as unknown as { dataset: Record<string, string> }).dataset['kind']),
    );
    assert.deepEqual(
      kinds,
      expected.variants.map((v) => v.kind),
    );
    const texts = await rows.allTextContents();
    expected.variants.forEach((v, i) => {
      for (const o of [v.off, v.intervention]) {
        assert.ok(o === null || texts[i]?.includes(o.label), `${v.kind}: ${texts[i]}`);
      }
    });
    for (const run of ['off', 'intervention'] as const) {
      const verdict = section.locator(
        `[data-testid=counterfactuals-verdict] [data-run=${run}] strong`,
      );
      assert.equal(await verdict.textContent(), `${run}: ${expected.verdict[run].verdict}`);
    }
    const partners =
      (await section.locator('[data-testid=counterfactuals-partners]').textContent()) ?? '';
    for (const p of expected.partners) assert.ok(partners.includes(p.name), partners);
    await page.waitForTimeout(200);
    await shot('13-counterfactuals');
    console.log(`# counterfactuals shown: ${seconds(t)}`);
  });

  it('Head knockout: knocking out the flagged heads moves the answer as the CLI does', async () => {
    const t = performance.now();
    const out = join(workDir, 'cli-knockout.json');
    const reference = cli([
      ...['knockout', clipPath, '--flagged', '--json', out, '--quiet'],
      ...workspaceArArgs(shownTau),
    ]).then(() => (JSON.parse(readFileSync(out, 'utf8')) as { knockout: KnockoutResult }).knockout);
    const section = panel.locator('[data-section=knockout-section]');
    await section.scrollIntoViewIfNeeded();
    // Enabled once the host has read the checkpoint's head_gate (a click waits for that).
    await panel.locator('[data-testid=knockout-flagged]').click({ timeout: 60_000 });
    const result = section.locator('[data-testid=knockout-result]');
    await result.locator('tr[data-run=intervention]').waitFor({ timeout: 60_000 });
    const expected = await reference;
    assert.ok(expected.heads.length > 0, 'heads are flagged at the τ shown');
    const note = (await result.locator('p').first().textContent()) ?? '';
    assert.ok(note.startsWith(`Knocked out ${expected.heads.length} head`), note);
    const label = (i: number): string => expected.labels[i] ?? String(i);
    for (const run of ['off', 'intervention'] as const) {
      const pair = expected[run];
      const row = result.locator(`tr[data-run=${run}]`);
      const text = (await row.textContent()) ?? '';
      const before = pair.before.probabilities[pair.answer] ?? 0;
      const after = pair.after.probabilities[pair.answer] ?? 0;
      assert.ok(text.includes(label(pair.answer)), text);
      assert.ok(text.includes(`${percent(before)} → ${percent(after)}`), text);
      assert.ok(text.includes(label(pair.after.prediction)), text);
      // Δ log p of the answer, shown to 3 significant digits.
      const shown = Number(
        ((await row.locator('td').nth(2).textContent()) ?? '').replace('−', '-'),
      );
      const change = pair.answerLogProbChange;
      assert.ok(change !== 0, `${run}: the knockout changes log p(answer)`);
      assert.ok(
        Math.abs(shown - change) <= 5e-3 * Math.abs(change),
        `${run}: ${shown} vs ${change}`,
      );
    }
    await shot('14-knockout');
    console.log(`# knockout shown: ${seconds(t)}`);
  });

  it(`"${COMPARE_TITLE}" opens the Compare panel with both predictions`, async () => {
    // The CLI's comparison with the same defaults (A = emotion-llama-tiny, B = mosear-tiny).
    const out = join(workDir, 'cli-compare.json');
    await run(
      process.execPath,
      [
        join(REPO_ROOT, 'dist/cli/main.js'),
        'compare',
        clipPath,
        '--json',
        out,
        '--quiet',
        ...workspaceArArgs(),
      ],
      { cwd: REPO_ROOT },
    );
    const reference = JSON.parse(readFileSync(out, 'utf8')) as ComparisonResult;
    await clickInContextMenu(COMPARE_TITLE, '08-compare-menu');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor();
    await input.fill('Two checkpoints');
    await page.keyboard.press('Enter');
    // The second pick (both shipped checkpoints preselected) is accepted as it is.
    await page.locator('.quick-input-widget', { hasText: 'the two checkpoints' }).waitFor();
    await page.keyboard.press('Enter');
    // The Compare panel is a second webview: find the frame that holds its predictions.
    const frame = await frameWith(
      page,
      '#app[data-ready="true"] [data-testid=compare-prediction-b]',
      'the Compare panel never showed both predictions',
      120_000,
    );
    for (const k of ['a', 'b'] as const) {
      const label = await frame.getAttribute(`[data-testid=compare-prediction-${k}]`, 'data-label');
      assert.equal(label, reference.subjects[k].result.intervention.prediction.label, k);
    }
    await frame.locator('[data-testid=compare-uap-chart] canvas').waitFor();
    await shot('09-compare-panel');
  });

  it(`"${CONFLICT_TITLE}" on a labelled folder writes the conflict set the CLI writes`, async () => {
    const t = performance.now();
    const folder = join(workDir, 'workspace');
    const source = join(folder, LABELLED);
    const cliOut = join(workDir, 'cli-conflicts');
    const reference = cli([
      ...['conflicts', source, '--truth', 'video', '--pairs', '5', '--out', cliOut, '--quiet'],
    ]);
    // The set's manifest opens alone beside the explorer, for the screenshot.
    await closeAllEditors();
    await clickInContextMenu(CONFLICT_TITLE, '15-conflict-menu', LABELLED);
    // Its prompts, answered as a user would: the truth, the pairs per label, the output folder.
    const input = page.locator('.quick-input-widget input.input');
    await page.locator('.quick-input-widget', { hasText: 'The video carries the label' }).waitFor();
    await input.fill('video');
    await shot('16-conflict-truth');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'pairs per label' }).waitFor();
    await input.fill('5');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'The folder to write' }).waitFor();
    const outDir = join(folder, `${LABELLED}-conflicts-video-aligned`);
    assert.equal(await input.inputValue(), outDir, 'the suggested folder, next to the source');
    await page.keyboard.press('Enter');
    const toast = page.locator('.notification-toast', { hasText: 'conflict clips' });
    await toast.waitFor({ timeout: 120_000 });
    const message = (await toast.textContent()) ?? '';
    assert.match(message, /wrote 2 conflict clips \(video-aligned\) and listed 2 consistent/);
    await reference;
    const manifestFile = join(outDir, 'manifest.jsonl');
    assert.deepEqual(comparableRows(manifestFile), comparableRows(join(cliOut, 'manifest.jsonl')));
    const rows = jsonlRows(manifestFile);
    assert.deepEqual(
      rows.map((r) => r['subset']),
      ['video-aligned', 'video-aligned', 'consistent', 'consistent'],
    );
    for (const r of rows) assert.ok(existsSync(join(outDir, String(r['path']))), String(r['path']));
    // The source and the set in the explorer, its manifest open, for the README (npm run
    // screenshots).
    await expandFolder(LABELLED);
    await expandFolder(basename(outDir));
    await expandFolder('clips');
    await explorerRow('manifest.jsonl').click();
    await page.locator('.part.editor .tab', { hasText: 'manifest.jsonl' }).waitFor();
    await explorerRow('0002-').waitFor();
    await page.waitForTimeout(300);
    await shot('17-conflict-set');
    console.log(`# conflict set written and shown: ${seconds(t)}`);
    // Out of the next step's way: the notification dismissed.
    await toast.hover();
    await toast
      .getByRole('button', { name: /Clear Notification/ })
      .click({ timeout: 5000 })
      .catch(() => undefined);
  });

  it(`"${ANALYZE_TITLE}" with the 32 × 32 full-shape fixture as the checkpoint`, async () => {
    const t = performance.now();
    // The fixture from the repository (the VSIX leaves models/fixtures/ out) as the workspace's
    // checkpoint; the status bar names the active checkpoint once the settings are read.
    const settings = join(workDir, 'workspace', '.vscode', 'settings.json');
    writeFileSync(settings, JSON.stringify({ ...WORKSPACE_AR, ...FIXTURE_SETTINGS }, null, 2));
    await page
      .locator('.statusbar-item', { hasText: FIXTURE_NAME })
      .first()
      .waitFor({ timeout: 60_000 });
    // The new Analysis panel gets the editor area's full width (about 1250 px) and is the only
    // webview.
    await closeAllEditors();
    await clickInContextMenu(ANALYZE_TITLE, '10-fixture-context-menu', FIXTURE_CLIP);
    // Find the new panel's frame by its last head. A session of the 13 MB model opens in several seconds
    // (more on a loaded 2-core machine), then two runs at 32 × 32.
    const lastHead = `[data-testid=head-grid] [data-layer="31"][data-head="31"]`;
    const frame = await frameWith(
      page,
      `#app[data-ready="true"][data-state="idle"] ${lastHead}`,
      "the Analysis panel never showed the fixture's 32 × 32 head grid",
      240_000,
    );
    console.log(`# fixture analysed and shown: ${seconds(t)}`);
    const app = frame.locator('#app');
    assert.equal(await app.locator('[data-testid=clip-name]').textContent(), FIXTURE_CLIP);
    const arch = fixtureReference.model.metadata.architecture;
    assert.deepEqual([arch.layers, arch.heads], [32, 32]);
    const checkpoint = (await app.locator('[data-testid=checkpoint]').textContent()) ?? '';
    assert.ok(checkpoint.startsWith(`${FIXTURE_NAME} (32 layers × 32 heads`), checkpoint);
    const cells = app.locator('[data-testid=head-grid] [data-layer][data-head]');
    assert.equal(await cells.count(), 32 * 32);
    const summary = app.locator('[data-testid=prediction]');
    const expected = fixtureReference.intervention.prediction;
    assert.equal(await summary.getAttribute('data-label'), expected.label);
    const text = (await summary.textContent()) ?? '';
    assert.ok(text.includes(percent(expected.probability)), text);
    const flagged = fixtureReference.intervention.arFlags.flat().filter((f) => f > 0.5).length;
    assert.ok(flagged > 0, 'the fixture settings flag heads on the clip');
    assert.equal(await shownNumber(app.locator('[data-testid=flag-count]')), flagged);
    assert.equal(await app.locator('[data-testid=head-grid] [data-flagged=true]').count(), flagged);
    // Every cell inside the grid's card: 32 heads fit without scrolling sideways.
    const grid = await app.locator('[data-testid=head-grid]').boundingBox();
    const section = app.locator('[data-section=grid-section]');
    const card = await section.boundingBox();
    assert.ok(grid !== null && card !== null, 'the grid and its card have boxes');
    assert.ok(grid.x + grid.width <= card.x + card.width + 1, `grid ${JSON.stringify(grid)}`);
    await shot('11-fixture-analysis');
    // The grid's card down to its legend, on the log colour scale (the random weights' statistics
    // span 12 decades), for the README (npm run screenshots): a taller window so the card is in
    // view, clipped from the page by its box (an element shot inside the workbench's nested
    // webview frames is cut at the wrong place).
    await app.locator('[data-testid=grid-log]').click();
    await page.setViewportSize({ width: 1600, height: 1300 });
    await section.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    const box = await section.boundingBox();
    const legend = await section.locator('.legend').boundingBox();
    assert.ok(box !== null && legend !== null, 'the grid card and its legend have boxes');
    const height = legend.y + legend.height + 12 - box.y;
    await page.screenshot({
      path: join(SCREENSHOTS, '12-fixture-heads.png'),
      clip: { ...box, height: Math.min(box.height, height) },
    });
  });
});
