// The Evaluate panel's state: the host's init, the latest summary and progress, the user's
// choices (kept with setState so a reload restores them), and the messages it sends.
import type {
  EvaluationInit,
  EvaluationProgress,
  EvaluationStatus,
  EvaluationToHost,
  EvaluationViewState,
  HostToEvaluation,
} from '../../src/protocol/evaluationMessages';
import type { ExportFile } from '../../src/protocol/panelMessages';
import type { WebviewHost } from '../kit/hostChannel';
import type { SectionOwner } from '../kit/sectionFrame';
import { errorText, savedNotice } from '../kit/panelPage';
import type { BenchmarkSummary } from '../../src/protocol/evaluationSummary';

/** What the Evaluate panel needs from wherever it runs. */
export type EvaluationHost = WebviewHost<EvaluationToHost, HostToEvaluation, EvaluationViewState>;

/** The choices the user makes in the panel. */
export type EvaluationChoices = Omit<EvaluationViewState, 'origin'>;

/** What the head map shows: flag share or the mean head statistic. */
export type HeadsMetric = NonNullable<EvaluationViewState['headsMetric']>;

/** A checkpoint and one of its settings, as the selects name them. */
export interface SettingRef {
  checkpoint: string;
  setting: string;
}

/** The panel's model; `onChange` redraws every view. */
export class EvaluationModel implements SectionOwner {
  init: EvaluationInit | null = null;
  summary: BenchmarkSummary | null = null;
  progress: EvaluationProgress | null = null;
  status: EvaluationStatus = 'running';
  error: string | null = null;
  /** The last export outcome, for the status line. */
  saveStatus: string | null = null;
  choices: EvaluationChoices;

  constructor(
    readonly host: EvaluationHost,
    private readonly onChange: () => void,
  ) {
    const saved = host.loadState();
    this.choices = {
      confusion: saved?.confusion ?? null,
      flips: saved?.flips ?? null,
      chartCheckpoint: saved?.chartCheckpoint ?? null,
      heads: saved?.heads ?? null,
      headsGroup: saved?.headsGroup ?? null,
      headsMetric: saved?.headsMetric ?? null,
    };
  }

  /** Handles a host message. */
  receive(message: HostToEvaluation): void {
    switch (message.type) {
      case 'init':
        this.init = message.init;
        this.summary = message.init.summary;
        this.progress = message.init.progress;
        this.status = message.init.status;
        this.error = message.init.error;
        this.persist();
        break;
      case 'progress':
        this.status = 'running';
        this.progress = message.progress;
        if (message.summary !== null) this.summary = message.summary;
        break;
      case 'finished':
        this.status = message.status;
        this.progress = message.progress ?? this.progress;
        this.summary = message.summary ?? this.summary;
        this.error = message.error;
        break;
      case 'saved':
        this.saveStatus = savedNotice(message, 'Export');
        break;
    }
    this.onChange();
  }

  /** Stores a choice and redraws. */
  choose<K extends keyof EvaluationChoices>(key: K, value: EvaluationChoices[K]): void {
    this.choices = { ...this.choices, [key]: value };
    this.persist();
    this.onChange();
  }

  cancel(): void {
    this.host.notify({ type: 'cancel' });
  }

  /** Asks the host to open a clip's Analysis panel with a checkpoint and setting. */
  openClip(clip: number, ref: SettingRef): void {
    if (this.init?.canOpenClips !== true) return;
    this.host.notify({ type: 'openClip', clip, ...ref });
  }

  exportStem(): string {
    const name = this.init?.title ?? 'evaluation';
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
    return `${safe === '' ? 'evaluation' : safe.slice(0, 120)}.eval`;
  }

  /** Saves a file: the host asks where; a report downloads it. */
  exportFile(file: ExportFile): void {
    if (this.host.hasHost) this.host.request({ type: 'exportFile', file });
    else this.host.download(file);
  }

  /** Asks the host for an HTML report of the current summary. */
  exportReport(): void {
    if (this.host.hasHost) this.host.request({ type: 'exportReport' });
  }

  /** Reports an error to the host's log (no console in webviews). */
  reportError(error: unknown): void {
    this.host.notify({ type: 'webviewError', message: errorText(error) });
  }

  private persist(): void {
    const origin = this.init?.origin;
    if (origin !== undefined) this.host.saveState({ origin, ...this.choices });
  }
}
