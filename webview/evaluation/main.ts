// The Evaluate panel's webview entry: builds the DOM into #app, connects to the host (VS Code or
// a report's embedded data) and redraws every view on each message, choice or theme change.
// Charts, sections, DOM builders and the theme come from the UI kit.
import '../kit/kit.css';
import './evaluation.css';
import { button } from '../kit/sectionFrame';
import { HostToEvaluationSchema } from '../../src/protocol/evaluationMessages';
import { connectWebviewHost } from '../kit/hostChannel';
import { appRoot, drawViews, panelTop, startPage } from '../kit/panelPage';
import type { View } from '../kit/view';
import { EvaluationModel, type EvaluationHost } from './evaluationModel';
import { failedView, flipsView } from './clipListsView';
import { progressView } from './progressView';
import { confusionView, scoresView } from './scoresView';
import { sweepView } from './sweepView';
import { tradeoffView } from './tradeoffView';
import { uapByAnswerView } from './uapByAnswerView';
import { headsView } from './headsView';

function start(): void {
  const root = appRoot();
  // Clips cannot be opened from a report's embedded EvaluationInit.
  const host: EvaluationHost = connectWebviewHost(HostToEvaluationSchema, { canOpenClips: false });
  let views: View[] = [];
  // Streaming sends up to four messages a second: redraw once per frame at most.
  let frame = 0;
  const render = (): void => {
    frame = 0;
    root.dataset['status'] = model.status;
    root.dataset['ready'] = model.init === null ? 'false' : 'true';
    drawViews(views, (error) => model.reportError(error));
  };
  const schedule = (): void => {
    if (frame === 0) frame = requestAnimationFrame(render);
  };
  const model = new EvaluationModel(host, schedule);
  const header = progressView(model);
  const report = button('Export HTML report', () => model.exportReport(), {
    secondary: true,
    'data-testid': 'eval-export-report',
  });
  report.hidden = !host.hasHost;
  views = [
    header,
    // The trade-off plot first: it answers the paper's claim (hidden without a sweep).
    tradeoffView(model),
    scoresView(model),
    sweepView(model),
    uapByAnswerView(model),
    headsView(model),
    confusionView(model),
    flipsView(model),
    failedView(model),
  ];
  const [, ...sections] = views;
  root.className = 'panel evaluate';
  root.replaceChildren(panelTop(header.element, report), ...sections.map((v) => v.element));
  startPage({ hasHost: host.hasHost, redraw: schedule, report: (e) => model.reportError(e) });
  render();
  host.start((message) => model.receive(message));
}

start();
