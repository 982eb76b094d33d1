// "MoSEAR: Show Runtime Info": onnxruntime's version, every execution provider tried alone on the
// active checkpoint (and why the others failed), the decoder and the settings that chose them,
// in an untitled Markdown document.
import * as vscode from 'vscode';
import type { ProviderAttempt } from '../protocol/executionProviders';
import { messageOf } from './logger';
import type { MosearSettings } from './settings';
import type { PanelHost } from './panels/panelBase';

/** What the runtime info document reports. */
export interface RuntimeFacts {
  extensionVersion: string;
  checkpoint: string;
  onnxruntime: string;
  attempts: ProviderAttempt[];
  decoder: string;
  settings: MosearSettings;
}

/** The runtime info as Markdown (pure). */
export function runtimeInfoMarkdown(facts: RuntimeFacts): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  const rows = facts.attempts.map(
    (a) =>
      `| ${a.provider} | ${a.ok ? 'available' : 'not available'} | ${cell(a.ok ? `${Math.round(a.ms)} ms to open` : (a.reason ?? ''))} |`,
  );
  const s = facts.settings;
  return [
    '# MoSEAR Lens runtime',
    '',
    `- MoSEAR Lens ${facts.extensionVersion}, onnxruntime-node ${facts.onnxruntime} (in a worker process)`,
    `- checkpoint: \`${facts.checkpoint}\``,
    `- decoder: ${facts.decoder}`,
    `- execution provider setting: ${s.runtime.executionProvider}` +
      `${s.runtime.allowFallback ? ' (fallback allowed)' : ''}`,
    `- workspace: ${s.trusted ? 'trusted' : 'Restricted Mode (shipped checkpoints and the wasm decoder only)'}`,
    '',
    '## Execution providers (each tried alone on the checkpoint)',
    '',
    '| provider | status | detail |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Probes the providers under a progress notification and opens the document. */
export async function showRuntimeInfo(host: PanelHost, extensionVersion: string): Promise<void> {
  const checkpoint = host.checkpoints.active;
  try {
    const facts = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'MoSEAR: probing execution providers…',
      },
      async () => {
        const probe = await host.engine.probeProviders(checkpoint);
        return {
          extensionVersion,
          checkpoint,
          onnxruntime: probe.onnxruntime,
          attempts: probe.attempts,
          decoder: host.engine.decoderReason(),
          settings: host.config.current,
        };
      },
    );
    const doc = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: runtimeInfoMarkdown(facts),
    });
    await vscode.window.showTextDocument(doc, { preview: true });
  } catch (error) {
    host.logger.error('runtime info failed', error);
    host.logger.userError(`MoSEAR: cannot read the runtime info. ${messageOf(error)}`);
  }
}
