// Re-runs of one clip with one checkpoint where only the latest request counts (a lane of the
// panel channel, src/protocol/channel.ts): a new request aborts the one before (the worker is
// replaced, unless that run was about to end: see InferenceWorker's cancelGraceMs), and a
// superseded run answers nothing. The Analysis panel has one; the Compare panel
// one per subject.
import type { AnalysisResult } from '../../protocol/analysisResult';
import { LatestWins } from '../../protocol/channel';
import type { ArControls } from '../../protocol/contract';
import { resolveControls } from '../../core/engine/analysisEngine';
import { SUPERSEDED } from '../../core/inference/workerClient';
import type { GivenTranscript } from '../../core/engine/transcriptSource';
import type { ExtensionEngine } from '../extensionEngine';
import type { Logger } from '../logger';
import { messageOf } from '../logger';

/** How a run reports back, each called only while the run is the latest. */
export interface RunAnswers {
  /** The controls fit the checkpoint; the model is about to run. */
  started(): void;
  result(result: AnalysisResult): void;
  failed(message: string, cancelled: boolean): void;
}

/** Latest-run-wins bookkeeping for one subject. */
export class LatestRun {
  private readonly lane = new LatestWins<AbortController>();

  constructor(
    private readonly engine: ExtensionEngine,
    private readonly logger: Logger,
    /** True once the owning panel is gone (nothing is answered then). */
    private readonly disposed: () => boolean,
  ) {}

  /** Analyses the clip with `controls` for `requestId`, answering only while it is the latest. */
  async run(
    requestId: number,
    request: {
      clipPath: string;
      modelPath: string;
      controls: ArControls;
      /** Typed in the panel (else the engine reads the clip's sidecar). */
      transcript?: GivenTranscript;
    },
    answers: RunAnswers,
  ): Promise<void> {
    const controller = new AbortController();
    // The run before is superseded, not cancelled: the worker lets it end if it soon will.
    this.lane.begin(requestId, controller)?.abort(SUPERSEDED);
    const isLatest = (): boolean => !this.disposed() && this.lane.isLatest(requestId);
    try {
      const model = await this.engine.model(request.modelPath);
      resolveControls(model.metadata, request.controls);
      if (!isLatest()) return;
      answers.started();
      const result = await this.engine.analyze(request, controller.signal);
      if (isLatest()) answers.result(result);
    } catch (error) {
      if (!isLatest()) return;
      const cancelled = controller.signal.aborted;
      if (!cancelled) this.logger.error('re-run failed', error);
      answers.failed(messageOf(error), cancelled);
    } finally {
      this.lane.settle(requestId);
    }
  }

  /** Cancels the run in flight, if any. */
  cancel(): void {
    this.lane.cancel()?.abort();
  }
}
