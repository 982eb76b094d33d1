// One subject of the Compare panel as the Analysis panel's model: the analysis views (controls
// with their live preview, head grid, token view, MoSE gate) run unchanged on it. Its host is
// the Compare panel's channel: runs are tagged with the subject and go in the subject's own lane
// (latest wins per subject), and with linked controls every edit is applied to the partner too,
// which then posts its own debounced run; linking copies A's whole control set to B first.
import type { SubjectKey } from '../../src/protocol/comparisonResult';
import type { ArControls } from '../../src/protocol/contract';
import type {
  CompareToHost,
  CompareViewState,
  HostToCompare,
} from '../../src/protocol/compareMessages';
import type { AnalysisViewState, ExportFile } from '../../src/protocol/panelMessages';
import { PanelModel, type PanelHost } from '../analysis/panelModel';
import type { WebviewHost } from '../kit/hostChannel';

/** What the Compare panel needs from wherever it runs. */
export type CompareHost = WebviewHost<CompareToHost, HostToCompare, CompareViewState>;
import { linkControls, settingDifferences } from './compareData';

/** The Analysis model of one subject, with linked edits. */
export class SubjectModel extends PanelModel {
  partner: SubjectModel | null = null;

  constructor(
    readonly key: SubjectKey,
    host: PanelHost,
    onChange: () => void,
    private readonly linked: () => boolean,
  ) {
    super(host, onChange);
  }

  override editControls(edit: (controls: ArControls) => void): void {
    super.editControls(edit);
    // The whole set, not the edit: both subjects then run one identical setting.
    if (this.linked()) this.linkPartner();
  }

  /** An edit of this subject only (the partner's linked edit arriving). */
  editOwn(edit: (controls: ArControls) => void): void {
    super.editControls(edit);
  }

  /**
   * Makes the partner run this subject's full control set (as far as its checkpoint's shape
   * allows; the fields it cannot take are returned). Nothing happens while either has no result.
   */
  linkPartner(): string[] {
    const partner = this.partner;
    const own = this.controls;
    const target = partner?.result;
    if (partner === null || own === null || partner.controls === null || !target) return [];
    const { layers, heads } = target.model.metadata.architecture;
    const linked = linkControls(own, partner.controls, { layers, heads });
    if (settingDifferences(partner.controls, linked.controls).length > 0) {
      partner.editOwn((c) => Object.assign(c, structuredClone(linked.controls)));
    }
    return linked.unlinked;
  }
}

/** The PanelHost a subject's model talks to: the Compare channel, with the subject added. */
export function subjectHost(
  channel: CompareHost,
  key: SubjectKey,
  saved: Partial<AnalysisViewState> | undefined,
  saveState: (state: AnalysisViewState) => void,
): PanelHost {
  return {
    hasHost: channel.hasHost,
    request(message, lane) {
      // Head knockout is the Analysis panel's own (its init says it is unavailable here).
      if (message.type === 'knockout' || message.type === 'rankHeads') {
        throw new Error('head knockout runs in the Analysis panel only');
      }
      // The Compare panel has no Counterfactuals section (the Analysis panel's own).
      if (message.type === 'runCounterfactuals') {
        throw new Error('counterfactuals run in the Analysis panel');
      }
      // Nor a Token imbalance section.
      if (message.type === 'runImbalance') {
        throw new Error('the token-imbalance probe runs in the Analysis panel');
      }
      if (message.type !== 'run' && message.type !== 'tokenRow') {
        return channel.request(message, lane);
      }
      const subjectLane = lane === undefined ? undefined : `${lane}:${key}`;
      return channel.request({ ...message, subject: key }, subjectLane);
    },
    notify(message) {
      // Workspace defaults are a per-checkpoint setting the Analysis panel owns, and pinning is
      // the Analysis panel's own: neither is sent here.
      if (
        message.type !== 'saveDefaults' &&
        message.type !== 'pin' &&
        message.type !== 'cancelRank' &&
        message.type !== 'cancelCounterfactuals' &&
        message.type !== 'cancelImbalance'
      ) {
        channel.notify(message);
      }
    },
    isLatest: (lane, requestId) => channel.isLatest(`${lane}:${key}`, requestId),
    loadState: () => saved,
    saveState,
    start: () => undefined,
    download: (file: ExportFile) => channel.download(file),
  };
}
