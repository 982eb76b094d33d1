// The webview end of a panel's channel (src/protocol/channel.ts): VS Code's webview API when it
// exists, otherwise the HTML report's embedded start data (read-only: nothing is posted, exports
// become browser downloads). Every panel's entry connects through it, naming its host message
// schema and what a report turns off in its embedded `init`. Host messages are parsed
// here, where they enter the webview: one that does not parse is dropped and reported to the
// host's log (`webviewError`); a report whose embedded data does not parse fails to start.
import type { GenericSchema } from 'valibot';
import {
  INIT,
  parseHostMessage,
  READY,
  Requester,
  type ChannelMessage,
  type Notifications,
  type Requests,
  type Unnumbered,
} from '../../src/protocol/channel';
import type { ExportFile } from '../../src/protocol/panelMessages';
import { REPORT_DATA_ELEMENT_ID } from '../../src/protocol/panelMessages';
import { jsonReadyTokenRows } from '../../src/protocol/tokenRows';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** What a panel needs from wherever it runs (`Out`: its messages, `In`: the host's). */
export interface WebviewHost<Out extends ChannelMessage, In extends ChannelMessage, State> {
  /** True inside VS Code (a host answers messages); false in a report. */
  readonly hasHost: boolean;
  /** Sends a request with a fresh id; within a `lane` it supersedes the lane's earlier one. */
  request(message: Unnumbered<Requests<Out>>, lane?: string): number;
  /** Sends a message that asks for nothing. */
  notify(message: Notifications<Out>): void;
  /** Whether an answer's `requestId` is its lane's latest request. */
  isLatest(lane: string, requestId: number): boolean;
  loadState(): Partial<State> | undefined;
  saveState(state: State): void;
  /** Starts the handshake; `onMessage` receives `init` and everything after it. */
  start(onMessage: (message: In) => void): void;
  /** Saves a file the browser way (report mode only). */
  download(file: ExportFile): void;
}

function stateOf<State>(raw: unknown): Partial<State> | undefined {
  return typeof raw === 'object' && raw !== null ? raw : undefined;
}

/** Triggers a browser download of a file (blob URL, revoked after the click). */
export function browserDownload(file: ExportFile): void {
  const bytes =
    file.encoding === 'base64'
      ? Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0))
      : new TextEncoder().encode(file.data);
  const type =
    file.format === 'png' ? 'image/png' : file.format === 'csv' ? 'text/csv' : 'application/json';
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.fileName;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Connects a panel: VS Code's API when it exists (host messages that parse by `hostSchema`, the
 * panel's src/protocol/<panel>Messages.ts schema, are handed on, and `ready` starts the
 * handshake), otherwise a report, whose embedded JSON, with `reportOff` set over it (runs, clip
 * links), becomes the `init` message.
 */
export function connectWebviewHost<Out extends ChannelMessage, In extends ChannelMessage, State>(
  hostSchema: GenericSchema<unknown, In>,
  reportOff: Readonly<Record<string, false>>,
): WebviewHost<Out, In, State> {
  const acquire = (globalThis as { acquireVsCodeApi?: () => VsCodeApi }).acquireVsCodeApi;
  const api = typeof acquire === 'function' ? acquire() : undefined;
  const requester = new Requester<Out>((message) => api?.postMessage(message));
  const common = {
    hasHost: api !== undefined,
    request: (message: Unnumbered<Requests<Out>>, lane?: string) =>
      requester.request(message, lane),
    notify: (message: Notifications<Out>) => requester.notify(message),
    isLatest: (lane: string, requestId: number) => requester.isLatest(lane, requestId),
    download: browserDownload,
  };
  if (api !== undefined) {
    return {
      ...common,
      loadState: () => stateOf(api.getState()),
      // VS Code keeps the state as JSON: token rows go as base64 (the schemas read either form).
      saveState: (state) => api.setState(jsonReadyTokenRows(state)),
      start(onMessage) {
        window.addEventListener('message', (event: MessageEvent<unknown>) => {
          const parsed = parseHostMessage(hostSchema, event.data);
          if ('message' in parsed) onMessage(parsed.message);
          else api.postMessage({ type: 'webviewError', message: parsed.error });
        });
        api.postMessage({ type: READY });
      },
    };
  }
  return {
    ...common,
    loadState: () => undefined,
    saveState: () => undefined,
    start(onMessage) {
      const data = document.getElementById(REPORT_DATA_ELEMENT_ID)?.textContent ?? 'null';
      const embedded = JSON.parse(data) as unknown;
      if (embedded === null) throw new Error(`no embedded #${REPORT_DATA_ELEMENT_ID} data`);
      const init = { type: INIT, init: { ...(embedded as object), ...reportOff } };
      const parsed = parseHostMessage(hostSchema, init);
      if ('error' in parsed) throw new Error(`The report's embedded data: ${parsed.error}`);
      onMessage(parsed.message);
    },
  };
}
