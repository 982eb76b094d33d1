// The Analysis panel's webview entry: builds the whole DOM into #app, connects to the host (VS Code
// or the embedded report data), and redraws every view on each state or theme change (an inspected
// head: only the views that show it).
import '../kit/kit.css';
import { biasedHeadsView } from './biasedHeadsView';
import { controlsView } from './controlsView';
import { counterfactualsView } from './counterfactualsView';
import { el } from '../kit/domBuilder';
import { headerView } from './headerView';
import { headGridView } from './headGridView';
import { imbalanceView } from './imbalanceView';
import { knockoutView } from './knockoutView';
import { labelLensView } from './labelLensView';
import { moseGateView } from './moseGateView';
import { fileStem } from './panelData';
import { PanelModel, type PanelHost } from './panelModel';
import { predictionView } from './predictionView';
import { button } from '../kit/sectionFrame';
import { thresholdView } from './thresholdView';
import { tokenAttentionView } from './tokenAttentionView';
import { uapChartView } from './uapChartView';
import type { View } from '../kit/view';
import { HostToWebviewSchema } from '../../src/protocol/panelMessages';
import { connectWebviewHost } from '../kit/hostChannel';
import { appRoot, drawSelection, drawViews, panelTop, startPage } from '../kit/panelPage';

function start(): void {
  const root = appRoot();
  // A report's embedded PanelInit runs nothing.
  const host: PanelHost = connectWebviewHost(HostToWebviewSchema, { canRun: false });
  let views: View[] = [];
  const render = (): void => {
    root.dataset['state'] = model.busy ? 'running' : 'idle';
    root.dataset['ready'] = model.result === null ? 'false' : 'true';
    drawViews(views, (error) => model.reportError(error));
  };
  const model = new PanelModel(host, render);
  // In VS Code the host asks where and offers .mosear.npz (default) or .json; a report downloads
  // the JSON form (token rows as base64 float32).
  const save = button(
    host.hasHost ? 'Save result (.mosear.npz / .json)' : 'Save result (.mosear.json)',
    () => model.saveResult(`${fileStem(model.result)}.mosear.json`),
    { secondary: true, 'data-testid': 'save-result' },
  );
  const report = button('Export HTML report', () => model.exportReport(), {
    secondary: true,
    'data-testid': 'export-report',
  });
  report.hidden = !host.hasHost;
  const header = headerView(model);
  const tokenView = tokenAttentionView(model);
  // A token row from the host changes the token view only.
  model.rowsArrived = () => drawViews([tokenView], (error) => model.reportError(error));
  const counterfactuals = counterfactualsView(model);
  counterfactuals.onRedraw(render);
  const imbalance = imbalanceView(model);
  imbalance.onRedraw(render);
  views = [
    header,
    controlsView(model),
    predictionView(model),
    uapChartView(model),
    headGridView(model),
    biasedHeadsView(model),
    thresholdView(model),
    moseGateView(model),
    labelLensView(model),
    knockoutView(model),
    tokenView,
    counterfactuals,
    imbalance,
  ];
  const [, controls, ...cards] = views;
  cards.pop(); // the token imbalance and
  cards.pop(); // the counterfactuals, full width below the tokens
  const tokens = cards.pop();
  // An inspected head redraws only what shows the selection (each view's `select`): the token
  // view first, so its row requests travel while the grid and the charts redraw.
  const selectionViews = [tokenView, ...views.filter((v) => v !== tokenView)];
  model.selectionChanged = () => drawSelection(selectionViews, (error) => model.reportError(error));
  root.className = 'panel';
  root.replaceChildren(
    panelTop(header.element, save, report),
    controls?.element ?? '',
    el('div', { class: 'cards' }, ...cards.map((v) => v.element)),
    tokens?.element ?? '',
    counterfactuals.element,
    imbalance.element,
  );
  startPage({ hasHost: host.hasHost, redraw: render, report: (e) => model.reportError(e) });
  render();
  host.start((message) => {
    if (!counterfactuals.receive(message) && !imbalance.receive(message)) model.receive(message);
  });
}

start();
