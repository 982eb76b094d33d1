// The one request/notify channel every panel speaks, on both ends: the shapes of its messages and
// the bookkeeping of request ids. A message is a `{ type, … }` object; a request carries a
// `requestId` that its answers echo, a notification carries none. A webview starts with `ready`
// and the host answers `init` with the panel's whole state (and again whenever it replaces it).
// Within a lane (the Analysis panel's re-runs, each Compare subject's) only the latest request
// counts: a newer one supersedes it, and answers to a superseded one are dropped — the host aborts
// its work, the webview ignores what still arrives. The adapters: src/extension/panels/panelBase.ts
// (host) and webview/kit/hostChannel.ts (webview). Runtime-neutral: no DOM, Node or vscode.
import * as v from 'valibot';
import { expectedFound, issuesText } from './issues';

/** Any message of a panel's channel. */
export interface ChannelMessage {
  readonly type: string;
}

/** The messages of `M` that ask for an answer (the answer echoes `requestId`). */
export type Requests<M> = Extract<M, { requestId: number }>;

/** The messages of `M` that ask for nothing. */
export type Notifications<M> = Exclude<M, { requestId: number }>;

/** A request as its sender writes it, before the channel numbers it. */
export type Unnumbered<M> = M extends { requestId: number } ? Omit<M, 'requestId'> : never;

/** The webview's first message: it has loaded and wants the panel's state. */
export const READY = 'ready';
/** The host's answer to `ready`, carrying the panel's whole state. */
export const INIT = 'init';

/** The handshake's opening message. */
export interface ReadyMessage {
  readonly type: typeof READY;
}

/** Whether a message is the `ready` handshake. */
export function isReady<M extends ChannelMessage>(message: M): message is Extract<M, ReadyMessage> {
  return message.type === READY;
}

/**
 * Latest-wins bookkeeping of one lane. `begin` makes a request the latest and hands back the
 * token of the one it supersedes (the host's way to abort it); only the latest is answered.
 */
export class LatestWins<Token = undefined> {
  private latest: { requestId: number; token: Token | undefined } | null = null;

  /** Makes `requestId` the latest; returns the superseded request's token, if any. */
  begin(requestId: number, token?: Token): Token | undefined {
    const superseded = this.latest?.token;
    this.latest = { requestId, token };
    return superseded;
  }

  /** Whether `requestId` is still the lane's latest request. */
  isLatest(requestId: number): boolean {
    return this.latest?.requestId === requestId;
  }

  /** Forgets `requestId` when it is still the latest (it has been answered). */
  settle(requestId: number): void {
    if (this.isLatest(requestId)) this.latest = null;
  }

  /** Forgets the latest request and returns its token, if any. */
  cancel(): Token | undefined {
    const token = this.latest?.token;
    this.latest = null;
    return token;
  }
}

/**
 * The asking end of a channel (the webview): numbers requests from 1 up, never reusing an id, and
 * keeps each lane's latest request so stale answers can be recognised.
 */
export class Requester<Out extends ChannelMessage> {
  private lastId = 0;
  private readonly lanes = new Map<string, LatestWins>();

  constructor(private readonly send: (message: Out) => void) {}

  /** Sends a request with a fresh id; within a `lane` it supersedes the lane's earlier request. */
  request(message: Unnumbered<Requests<Out>>, lane?: string): number {
    this.lastId += 1;
    const requestId = this.lastId;
    if (lane !== undefined) this.lane(lane).begin(requestId);
    // `Unnumbered` took `requestId` off one member of `Out`; putting it back gives that member.
    this.send({ ...message, requestId } as unknown as Out);
    return requestId;
  }

  /** Sends a message that asks for nothing. */
  notify(message: Notifications<Out>): void {
    this.send(message);
  }

  /** Whether an answer's `requestId` belongs to its lane's latest request. */
  isLatest(lane: string, requestId: number): boolean {
    return this.lanes.get(lane)?.isLatest(requestId) ?? false;
  }

  private lane(name: string): LatestWins {
    let lane = this.lanes.get(name);
    if (lane === undefined) {
      lane = new LatestWins();
      this.lanes.set(name, lane);
    }
    return lane;
  }
}

/** A host message as the webview parsed it: the message, or why it was dropped. */
export type ParsedHostMessage<M> = { message: M } | { error: string };

/**
 * Parses a message from the host where it enters the webview (webview/kit/hostChannel.ts): what
 * does not fit `schema` is not handed on, and the error names its type and the bad field.
 */
export function parseHostMessage<M extends ChannelMessage>(
  schema: v.GenericSchema<unknown, M>,
  raw: unknown,
): ParsedHostMessage<M> {
  const parsed = v.safeParse(schema, raw, { abortEarly: true, message: expectedFound });
  if (parsed.success) return { message: parsed.output };
  const type: unknown = (raw as { type?: unknown } | null)?.type;
  const what = typeof type === 'string' ? `"${type.slice(0, 40)}" message` : 'message';
  return { error: `Dropped a malformed ${what} from the host: ${issuesText(parsed.issues)}` };
}
