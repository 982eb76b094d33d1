// One run at a time for an Analysis panel section that asks the engine for more than the
// analysis (the counterfactuals, the token-imbalance probe): a new run cancels the one before,
// Cancel or the panel's disposal stops it, and only the current run answers.

/** The bookkeeping of one section's runs; `failed` posts the section's failure message. */
export class SectionRun {
  private running: { requestId: number; abort: AbortController } | undefined;

  constructor(
    private readonly failed: (requestId: number, message: string, cancelled: boolean) => void,
  ) {}

  /** Starts `requestId`, cancelling the run before it; the signal that stops it. */
  start(requestId: number): AbortSignal {
    this.cancel();
    const abort = new AbortController();
    this.running = { requestId, abort };
    return abort.signal;
  }

  /** Whether `requestId` is still the section's run (progress is posted only then). */
  isCurrent(requestId: number): boolean {
    return this.running?.requestId === requestId;
  }

  /** Ends `requestId` with a result: true when it was still the run (post the result then). */
  succeed(requestId: number): boolean {
    if (!this.isCurrent(requestId)) return false;
    this.running = undefined;
    return true;
  }

  /** Ends `requestId` with a failure, posted when it was still the run. */
  fail(requestId: number, message: string, cancelled: boolean): void {
    if (!this.isCurrent(requestId)) return;
    this.running = undefined;
    this.failed(requestId, message, cancelled);
  }

  /** Stops the run `requestId` (any run when undefined). */
  cancel(requestId?: number): void {
    const running = this.running;
    if (running === undefined || (requestId !== undefined && running.requestId !== requestId)) {
      return;
    }
    running.abort.abort();
    this.fail(running.requestId, 'Cancelled.', true);
  }
}
