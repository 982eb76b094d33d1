// The Analysis panel's token-imbalance probes (contract 1.2's `audio_repeat`): one at a time,
// through the engine (its inference worker, never the host's thread), with progress per k,
// cancelled by the webview's Cancel, a newer probe or the panel's disposal.
import type { ArControls } from '../../../protocol/contract';
import type { HostToWebview } from '../../../protocol/panelMessages';
import type { ClipAnalysisRequest, ExtensionEngine } from '../../extensionEngine';
import { messageOf } from '../../logger';

/** The panel's probes. */
export class ImbalanceRuns {
  private running: { requestId: number; abort: AbortController } | undefined;

  constructor(
    private readonly engine: ExtensionEngine,
    private readonly post: (message: HostToWebview) => void,
  ) {}

  /** Probes the clip at each k of `repeats` under off and `controls`. */
  async run(
    requestId: number,
    request: ClipAnalysisRequest & { controls: ArControls; repeats: readonly number[] },
  ): Promise<void> {
    this.cancel();
    const abort = new AbortController();
    this.running = { requestId, abort };
    try {
      const result = await this.engine.imbalance(request, abort.signal, (progress) => {
        if (this.running?.requestId === requestId) {
          this.post({ type: 'imbalanceProgress', requestId, progress });
        }
      });
      if (this.running?.requestId !== requestId) return;
      this.running = undefined;
      this.post({ type: 'imbalanceResult', requestId, result });
    } catch (error) {
      this.finish(requestId, messageOf(error), abort.signal.aborted);
    }
  }

  /** Stops the probe `requestId` (any probe when undefined). */
  cancel(requestId?: number): void {
    const running = this.running;
    if (running === undefined || (requestId !== undefined && running.requestId !== requestId)) {
      return;
    }
    running.abort.abort();
    this.finish(running.requestId, 'Cancelled.', true);
  }

  private finish(requestId: number, message: string, cancelled: boolean): void {
    if (this.running?.requestId !== requestId) return;
    this.running = undefined;
    this.post({ type: 'imbalanceFailed', requestId, message, cancelled });
  }
}
