// The Analysis panel's token-imbalance probes (contract 1.2's `audio_repeat`): one at a time,
// through the engine (its inference worker, never the host's thread), with progress per k,
// cancelled by the webview's Cancel, a newer probe or the panel's disposal.
import type { ArControls } from '../../../protocol/contract';
import type { HostToWebview } from '../../../protocol/panelMessages';
import type { ClipAnalysisRequest, ExtensionEngine } from '../../extensionEngine';
import { messageOf } from '../../logger';
import { SectionRun } from './sectionRun';

/** The panel's probes. */
export class ImbalanceRuns {
  private readonly section = new SectionRun((requestId, message, cancelled) =>
    this.post({ type: 'imbalanceFailed', requestId, message, cancelled }),
  );

  constructor(
    private readonly engine: ExtensionEngine,
    private readonly post: (message: HostToWebview) => void,
  ) {}

  /** Probes the clip at each k of `repeats` under off and `controls`. */
  async run(
    requestId: number,
    request: ClipAnalysisRequest & { controls: ArControls; repeats: readonly number[] },
  ): Promise<void> {
    const signal = this.section.start(requestId);
    try {
      const result = await this.engine.imbalance(request, signal, (progress) => {
        if (this.section.isCurrent(requestId)) {
          this.post({ type: 'imbalanceProgress', requestId, progress });
        }
      });
      if (this.section.succeed(requestId)) {
        this.post({ type: 'imbalanceResult', requestId, result });
      }
    } catch (error) {
      this.section.fail(requestId, messageOf(error), signal.aborted);
    }
  }

  /** Stops the probe `requestId` (any probe when undefined). */
  cancel(requestId?: number): void {
    this.section.cancel(requestId);
  }
}
