// The Analysis panel's counterfactual runs: one at a time, through the engine (its inference
// worker, never the host's thread), cancelled by the webview's Cancel, a newer run or the panel's
// disposal. A partner picked with a file dialog replaces the automatic choice for its modality.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import type { ArControls } from '../../../protocol/contract';
import type { HostToWebview } from '../../../protocol/panelMessages';
import type { GivenTranscript } from '../../../core/engine/transcriptSource';
import type { ExtensionEngine } from '../../extensionEngine';
import { messageOf } from '../../logger';
import { SectionRun } from './sectionRun';

/** Extensions a partner may have (the clip folder's). */
const PARTNER_EXTENSIONS = ['mp4', 'm4v', 'mov', 'mkv', 'webm', 'avi'];

/** The panel's counterfactual runs. */
export class CounterfactualRuns {
  private readonly section = new SectionRun((requestId, message, cancelled) =>
    this.post({ type: 'counterfactualsFailed', requestId, message, cancelled }),
  );

  constructor(
    private readonly engine: ExtensionEngine,
    private readonly post: (message: HostToWebview) => void,
  ) {}

  /** Runs the counterfactuals of `clipPath` (a file dialog first when `pick` names a modality). */
  async run(
    requestId: number,
    request: {
      clipPath: string;
      modelPath: string;
      controls: ArControls;
      transcript?: GivenTranscript;
    },
    pick: 'audio' | 'frames' | undefined,
  ): Promise<void> {
    const signal = this.section.start(requestId);
    let picked: string[] | undefined;
    if (pick !== undefined) {
      const files = await vscode.window.showOpenDialog({
        title:
          pick === 'audio'
            ? 'Pick the clip whose audio to swap in'
            : 'Pick the clip whose frames to swap in',
        defaultUri: vscode.Uri.file(dirname(request.clipPath)),
        canSelectMany: true,
        filters: { Clips: PARTNER_EXTENSIONS },
      });
      if (files === undefined || files.length === 0) {
        this.section.fail(requestId, 'No partner picked.', true);
        return;
      }
      picked = files.map((f) => f.fsPath);
    }
    this.post({ type: 'counterfactualsStarted', requestId });
    try {
      const result = await this.engine.counterfactuals(
        {
          ...request,
          ...(pick === 'audio' && picked !== undefined ? { audioFrom: picked } : {}),
          ...(pick === 'frames' && picked !== undefined ? { framesFrom: picked } : {}),
        },
        signal,
      );
      if (this.section.succeed(requestId)) {
        this.post({ type: 'counterfactualsResult', requestId, result });
      }
    } catch (error) {
      this.section.fail(requestId, messageOf(error), signal.aborted);
    }
  }

  /** Stops the run `requestId` (any run when undefined). */
  cancel(requestId?: number): void {
    this.section.cancel(requestId);
  }
}
