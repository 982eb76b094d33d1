// The one HTML builder for every MoSEAR webview: a strict CSP with a fresh nonce, assets through
// `asWebviewUri`, resources limited to the built webview bundles and media/. The panel's bundle
// renders everything into `<div id="app">`; an error page is the same shell with no script.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { escapeHtml } from '../../core/reports/htmlReport';

/** The webview bundle's base name under dist/webview/ (`.js` and `.css`). */
export const ANALYSIS_BUNDLE = 'analysis';
/** The Evaluate panel's bundle under dist/webview/. */
export const EVALUATE_BUNDLE = 'evaluation';

/** Folders a MoSEAR webview may load from. */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [
    vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
    vscode.Uri.joinPath(extensionUri, 'media'),
  ];
}

/** Webview options shared by the panel and both custom editors. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: webviewResourceRoots(extensionUri) };
}

/** What a page shows: the panel bundle, or an error message without any script. */
export interface WebviewPage {
  webview: vscode.Webview;
  extensionUri: vscode.Uri;
  title: string;
  /** When set, the page shows this message instead of loading the panel. */
  error?: string;
  /** The bundle under dist/webview/ (default: the Analysis panel's). */
  bundle?: string;
}

/** The HTML of a MoSEAR webview page. */
export function buildWebviewHtml(page: WebviewPage): string {
  const { webview, extensionUri } = page;
  const bundle = page.bundle ?? ANALYSIS_BUNDLE;
  const nonce = randomBytes(16).toString('base64');
  const asset = (file: string): string =>
    webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const body =
    page.error === undefined
      ? `<div id="app"></div>\n    <script nonce="${nonce}" src="${escapeHtml(asset(`${bundle}.js`))}"></script>`
      : // Inline style attributes are blocked by the CSP; the nonce'd block is allowed.
        `<style nonce="${nonce}">.mosear-error { padding: 1em; color: var(--vscode-errorForeground); }</style>\n` +
        `    <main class="mosear-error" role="alert"><h1>${escapeHtml(page.title)}</h1>` +
        `<p>${escapeHtml(page.error)}</p></main>`;
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta http-equiv="Content-Security-Policy" content="${csp}" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <link nonce="${nonce}" rel="stylesheet" href="${escapeHtml(asset(`${bundle}.css`))}" />
    <title>${escapeHtml(page.title)}</title>
  </head>
  <body>
    ${body}
  </body>
</html>
`;
}
