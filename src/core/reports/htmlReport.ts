// A self-contained, offline HTML report: the Analysis panel's own bundle and stylesheet inlined
// under a strict nonce CSP, its PanelInit embedded as JSON, and default values for the --vscode-*
// variables the panel reads (a report opens in a plain browser, not in VS Code). Pure: no Node
// imports, so the CLI, the extension host and the tests all call the same builder.
import type { CompareInit } from '../../protocol/compareMessages';
import type { PanelInit } from '../../protocol/panelMessages';
import { REPORT_DATA_ELEMENT_ID } from '../../protocol/panelMessages';
import { jsonWithTokenRows } from '../../protocol/tokenRows';

/** What a report is made of. */
export interface HtmlReportInput {
  /** The panel's bundle (dist/webview/analysis.js or compare.js). */
  script: string;
  /** Its stylesheet (dist/webview/analysis.css or compare.css). */
  style: string;
  /** The state the panel starts from; the report forces `origin: report` and `canRun: false`. */
  init: PanelInit | CompareInit;
  /** The document title (escaped here). */
  title: string;
  /** The CSP nonce; a fresh random one by default (tests pass a fixed one). */
  nonce?: string;
}

type Theme = Record<string, string>;

/** VS Code's Light Modern colours for the variables the panel and its components use. */
const LIGHT: Theme = {
  foreground: '#3b3b3b',
  'editor-foreground': '#3b3b3b',
  'editor-background': '#ffffff',
  descriptionForeground: '#616161',
  errorForeground: '#f85149',
  focusBorder: '#005fb8',
  'widget-border': '#e5e5e5',
  'panel-border': '#e5e5e5',
  'editorWidget-background': '#f8f8f8',
  'textBlockQuote-background': '#f8f8f8',
  'editorWarning-foreground': '#bf8803',
  'button-background': '#005fb8',
  'button-foreground': '#ffffff',
  'button-hoverBackground': '#0258a8',
  'button-border': '#0000001a',
  'button-secondaryBackground': '#e5e5e5',
  'button-secondaryForeground': '#3b3b3b',
  'button-secondaryHoverBackground': '#cccccc',
  'input-background': '#ffffff',
  'input-foreground': '#3b3b3b',
  'input-border': '#cecece',
  'checkbox-background': '#f8f8f8',
  'checkbox-foreground': '#3b3b3b',
  'checkbox-border': '#cecece',
  'settings-dropdownBackground': '#ffffff',
  'settings-dropdownForeground': '#3b3b3b',
  'settings-dropdownBorder': '#cecece',
  'settings-dropdownListBorder': '#cecece',
  'settings-checkboxBackground': '#f8f8f8',
  'settings-checkboxForeground': '#3b3b3b',
  'settings-checkboxBorder': '#cecece',
  'list-hoverBackground': '#f2f2f2',
  'list-activeSelectionBackground': '#e8e8e8',
  'list-activeSelectionForeground': '#000000',
  'list-focusOutline': '#005fb8',
  'list-highlightForeground': '#0066bf',
  'list-focusHighlightForeground': '#0066bf',
  'badge-background': '#cccccc',
  'badge-foreground': '#3b3b3b',
  'scrollbarSlider-background': '#64646466',
  'widget-shadow': '#00000029',
  'charts-foreground': '#616161',
  'charts-lines': '#61616133',
  'charts-blue': '#1a85ff',
  'charts-orange': '#d18616',
  'charts-green': '#388a34',
  'charts-red': '#e51400',
  'charts-purple': '#652d90',
  'charts-yellow': '#bf8803',
};

/** VS Code's Dark Modern colours. */
const DARK: Theme = {
  ...LIGHT,
  foreground: '#cccccc',
  'editor-foreground': '#cccccc',
  'editor-background': '#1f1f1f',
  descriptionForeground: '#9d9d9d',
  focusBorder: '#0078d4',
  'widget-border': '#313131',
  'panel-border': '#2b2b2b',
  'editorWidget-background': '#202020',
  'textBlockQuote-background': '#2b2b2b',
  'editorWarning-foreground': '#cca700',
  'button-background': '#0078d4',
  'button-hoverBackground': '#026ec1',
  'button-border': '#ffffff12',
  'button-secondaryBackground': '#313131',
  'button-secondaryForeground': '#cccccc',
  'button-secondaryHoverBackground': '#3c3c3c',
  'input-background': '#313131',
  'input-foreground': '#cccccc',
  'input-border': '#3c3c3c',
  'checkbox-background': '#313131',
  'checkbox-foreground': '#cccccc',
  'checkbox-border': '#3c3c3c',
  'settings-dropdownBackground': '#313131',
  'settings-dropdownForeground': '#cccccc',
  'settings-dropdownBorder': '#3c3c3c',
  'settings-dropdownListBorder': '#454545',
  'settings-checkboxBackground': '#313131',
  'settings-checkboxForeground': '#cccccc',
  'settings-checkboxBorder': '#3c3c3c',
  'list-hoverBackground': '#2a2d2e',
  'list-activeSelectionBackground': '#04395e',
  'list-activeSelectionForeground': '#ffffff',
  'list-focusOutline': '#0078d4',
  'list-highlightForeground': '#2aaaff',
  'list-focusHighlightForeground': '#2aaaff',
  'badge-background': '#616161',
  'badge-foreground': '#f8f8f8',
  'scrollbarSlider-background': '#79797966',
  'widget-shadow': '#0000005c',
  'charts-foreground': '#cccccc',
  'charts-lines': '#cccccc33',
  'charts-blue': '#3794ff',
  'charts-orange': '#d18616',
  'charts-green': '#89d185',
  'charts-red': '#f14c4c',
  'charts-purple': '#b180d7',
  'charts-yellow': '#cca700',
};

/** VS Code's Dark High Contrast colours. */
const HIGH_CONTRAST: Theme = {
  ...DARK,
  foreground: '#ffffff',
  'editor-foreground': '#ffffff',
  'editor-background': '#000000',
  descriptionForeground: '#ffffffb3',
  focusBorder: '#f38518',
  contrastBorder: '#6fc3df',
  'widget-border': '#6fc3df',
  'panel-border': '#6fc3df',
  'editorWidget-background': '#0c141f',
  'textBlockQuote-background': '#000000',
  'button-background': '#000000',
  'button-border': '#6fc3df',
  'button-secondaryBackground': '#000000',
  'button-secondaryForeground': '#ffffff',
  'input-background': '#000000',
  'input-border': '#6fc3df',
  'checkbox-background': '#000000',
  'checkbox-border': '#6fc3df',
  'settings-dropdownBackground': '#000000',
  'settings-dropdownBorder': '#6fc3df',
  'list-hoverBackground': '#000000',
  'list-activeSelectionBackground': '#000000',
  'list-focusOutline': '#f38518',
  'badge-background': '#000000',
  'badge-foreground': '#ffffff',
  'charts-foreground': '#ffffff',
  'charts-lines': '#ffffff80',
  'charts-blue': '#3794ff',
  'charts-orange': '#ffa500',
  'charts-green': '#89d185',
  'charts-red': '#f48771',
  'charts-purple': '#b180d7',
  'charts-yellow': '#ffd700',
};

const FONTS: Theme = {
  'font-family': 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
};

function declarations(theme: Theme): string {
  return Object.entries(theme)
    .map(([name, value]) => `--vscode-${name}: ${value};`)
    .join(' ');
}

/** The report's theme stylesheet: browser scheme first, then the body class the panel sets. */
export function reportThemeCss(): string {
  return [
    `:root { ${declarations(FONTS)} ${declarations(LIGHT)} color-scheme: light dark; }`,
    `@media (prefers-color-scheme: dark) { :root { ${declarations(DARK)} } }`,
    `body.vscode-light { ${declarations(LIGHT)} }`,
    `body.vscode-dark { ${declarations(DARK)} }`,
    `body.vscode-high-contrast { ${declarations(HIGH_CONTRAST)} }`,
  ].join('\n');
}

/** Escapes text for an HTML text or attribute context. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/**
 * Makes script text safe inside `<script>`: `</script` cannot close the element and `<!--` /
 * `<script` cannot switch the parser into its escaped states. The replacements mean the same
 * inside JS strings, template literals and regular expressions (where such text can occur).
 */
export function inlineScriptText(script: string): string {
  return script.replace(/<\/(script)/gi, '<\\/$1').replace(/<(!--|script)/gi, '\\x3C$1');
}

/**
 * Makes CSS safe inside `<style>`: no `<` at all, so `</style` cannot occur (`\3c ` is the same
 * character inside CSS strings, the only place the panel's stylesheet has one).
 */
export function inlineStyleText(style: string): string {
  return style.replace(/</g, '\\3c ');
}

/**
 * PanelInit as JSON for `<script type="application/json">`: every `<` written as `\u003c`; token
 * rows as base64 float32 (the page's schema decodes them).
 */
export function embeddedJson(value: unknown): string {
  return jsonWithTokenRows(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function randomNonce(): string {
  const bytes = new Uint8Array(18);
  globalThis.crypto.getRandomValues(bytes);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/[+/=]/g, '');
}

/** Drops `sourceMappingURL` comments: a report has no map files beside it (and the CSP blocks them). */
function withoutSourceMap(text: string): string {
  return text.replace(/\n(\/\/# sourceMappingURL=\S*|\/\*# sourceMappingURL=\S* \*\/)\s*$/, '\n');
}

/** Builds the Analysis panel's self-contained report page. */
export function buildHtmlReport(input: HtmlReportInput): string {
  const init: PanelInit | CompareInit = {
    ...input.init,
    origin: { kind: 'report' },
    canRun: false,
    readOnlyReason: input.init.readOnlyReason ?? 'a self-contained report: no model runs here',
  };
  return buildReportPage({ ...input, data: init });
}

/** A report page of any panel bundle (the Evaluate panel's too) with its start data embedded. */
export function buildReportPage(
  input: Omit<HtmlReportInput, 'init'> & {
    /** What the bundle reads from the embedded JSON element instead of a host's `init`. */
    data: unknown;
  },
): string {
  const nonce = input.nonce ?? randomNonce();
  if (!/^[A-Za-z0-9]+$/.test(nonce)) throw new Error('the nonce must be alphanumeric');
  const csp = [
    "default-src 'none'",
    'img-src data:',
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="MoSEAR Lens">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style nonce="${nonce}">\n${inlineStyleText(reportThemeCss())}\n</style>`,
    `<style nonce="${nonce}">\n${inlineStyleText(withoutSourceMap(input.style))}\n</style>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    `<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">${embeddedJson(input.data)}</script>`,
    `<script nonce="${nonce}">\n${inlineScriptText(withoutSourceMap(input.script))}\n</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
