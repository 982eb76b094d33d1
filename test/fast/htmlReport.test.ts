// The self-contained HTML report builder: CSP, escaping of the inlined bundle and the embedded
// PanelInit, report-mode state, theme defaults for every variable the panel reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runInNewContext } from 'node:vm';
import {
  buildHtmlReport,
  embeddedJson,
  escapeHtml,
  inlineScriptText,
  inlineStyleText,
  reportThemeCss,
} from '../../src/core/reports/htmlReport';
import { htmlReportFor } from '../../src/cli/htmlReportFile';
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import type { PanelInit } from '../../src/protocol/panelMessages';
import { embeddedInit } from '../helpers/reportData';
import { REPO_ROOT } from '../helpers/golden';

const NASTY = 'a</script><script>alert(1)</script><!-- \u2028 </style>';

function init(): PanelInit {
  return {
    origin: { kind: 'clip', clipPath: `/clips/${NASTY}.mp4`, modelPath: '/m.onnx' },
    result: { clip: { name: NASTY } } as unknown as AnalysisResult,
    canRun: true,
    readOnlyReason: null,
    workspaceDefaults: null,
    debounceMs: 300,
  };
}

describe('HTML report', () => {
  const html = buildHtmlReport({
    script: `var s = "${NASTY}"; var r = /<\\/script>/; var t = \`<script>\`;`,
    style: `body::after { content: "${NASTY}"; }`,
    init: init(),
    title: NASTY,
    nonce: 'abc123',
  });

  test('a strict nonce CSP and exactly the elements the builder wrote', () => {
    assert.ok(
      html.includes(
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-abc123'; script-src 'nonce-abc123'">`,
      ),
    );
    assert.equal(html.match(/<script/gi)?.length, 2, 'data + bundle, nothing smuggled in');
    assert.equal(html.match(/<\/script/gi)?.length, 2);
    // Inside <script> a `</style` is inert text; the head holds exactly the two style elements.
    const head = html.slice(0, html.indexOf('<body>'));
    assert.equal(head.match(/<style/gi)?.length, 2);
    assert.equal(head.match(/<\/style/gi)?.length, 2);
    assert.equal(html.match(/<!--/g)?.length ?? 0, 0);
    assert.match(html, /<div id="app"><\/div>/);
    assert.ok(!/\son[a-z]+=/i.test(html.replace(/<script nonce[^]*?<\/script>/, '')));
  });

  test('the title is escaped; the data reads back with the report origin and no runs', () => {
    assert.ok(html.includes(`<title>${escapeHtml(NASTY)}</title>`));
    const data = embeddedInit(html);
    assert.deepEqual(data.origin, { kind: 'report' });
    assert.equal(data.canRun, false);
    assert.match(data.readOnlyReason ?? '', /report/);
    assert.equal(data.debounceMs, 300);
    assert.equal((data.result as unknown as { clip: { name: string } }).clip.name, NASTY);
  });

  test('escapers keep meaning: script text still evaluates to the same values', () => {
    const source = `[${JSON.stringify(NASTY)}, /<\\/script>/.test('</script>'), \`<script>\`]`;
    const escaped = inlineScriptText(source);
    assert.ok(!/<\/script|<script|<!--/i.test(escaped));
    const run = (code: string): string => JSON.stringify(runInNewContext(code));
    assert.equal(run(escaped), run(source));
    assert.ok(!/<\/style/i.test(inlineStyleText('a { content: "</style>" }')));
    assert.deepEqual(JSON.parse(embeddedJson({ s: NASTY })), { s: NASTY });
    assert.ok(!embeddedJson({ s: NASTY }).includes('<'));
  });

  test('source map comments of the bundle are dropped (no map file travels with a report)', () => {
    const page = buildHtmlReport({
      script: 'var a = 1;\n//# sourceMappingURL=analysis.js.map\n',
      style: 'a { color: red; }\n/*# sourceMappingURL=analysis.css.map */\n',
      init: init(),
      title: 't',
    });
    assert.ok(!page.includes('sourceMappingURL'));
    assert.ok(page.includes('var a = 1;') && page.includes('a { color: red; }'));
  });

  test('a fresh random nonce per report; a bad nonce is refused', () => {
    const nonceOf = (h: string) => /script-src 'nonce-([A-Za-z0-9]+)'/.exec(h)?.[1];
    const base = { script: '', style: '', init: init(), title: 't' };
    const a = nonceOf(buildHtmlReport(base));
    const b = nonceOf(buildHtmlReport(base));
    assert.ok(a !== undefined && a.length >= 16 && a !== b);
    assert.throws(() => buildHtmlReport({ ...base, nonce: "x' 'unsafe-inline" }), /nonce/);
  });

  test('light, dark and high-contrast defaults for every variable the panel needs', () => {
    const css = reportThemeCss();
    const sources = ['kit.css', 'theme.ts'].map((f) =>
      readFileSync(join(REPO_ROOT, 'webview', 'kit', f), 'utf8'),
    );
    // Variables used without a fallback must be defined by every theme block.
    const needed = new Set(
      sources.flatMap((s) => [...s.matchAll(/var\((--vscode-[\w-]+)\)/g)].map((m) => m[1])),
    );
    needed
      .add('--vscode-charts-blue')
      .add('--vscode-charts-orange')
      .add('--vscode-editor-background');
    for (const block of ['body.vscode-light', 'body.vscode-dark', 'body.vscode-high-contrast']) {
      const rule = css.split('\n').find((line) => line.startsWith(block)) ?? '';
      for (const name of needed) {
        if (
          name === undefined ||
          name === '--vscode-font-family' ||
          name === '--vscode-editor-font-family'
        )
          continue;
        assert.ok(rule.includes(`${name}:`), `${block} defines ${name}`);
      }
    }
    assert.match(css, /@media \(prefers-color-scheme: dark\)/);
  });

  test('the CLI names the missing bundle', async () => {
    await assert.rejects(
      htmlReportFor({} as AnalysisResult, join(REPO_ROOT, 'no-such-bundle')),
      /panel bundle .*no-such-bundle.*analysis\.js is missing \(run npm run build\)/,
    );
  });
});
