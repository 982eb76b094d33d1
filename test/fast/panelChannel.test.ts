// The panel channel's bookkeeping on both ends: request ids, latest-wins lanes, the webview's
// parse of host messages, and the host's bounded log of what it posted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isReady,
  LatestWins,
  parseHostMessage,
  Requester,
  type ParsedHostMessage,
} from '../../src/protocol/channel';
import { HostToCompareSchema, type CompareToHost } from '../../src/protocol/compareMessages';
import type { WebviewToHost } from '../../src/protocol/panelMessages';
import { PostedLog, summarise } from '../../src/extension/panels/postedLog';

const controls = {
  mode: 1,
  ratioKind: 2,
  tau: [0.5],
  headMargin: 0,
  alpha: 0.3,
  paiAlpha: 0.5,
  layers: [1],
  headOverride: [[0]],
} as const satisfies Extract<WebviewToHost, { type: 'run' }>['controls'];

/** The error of a parse that must have failed. */
function errorOf(parsed: ParsedHostMessage<unknown>): string {
  assert.ok('error' in parsed, 'expected the message to be dropped');
  return parsed.error;
}

describe('panel channel', () => {
  it('numbers requests from 1 up across lanes and keeps each lane’s latest', () => {
    const sent: CompareToHost[] = [];
    const channel = new Requester<CompareToHost>((m) => sent.push(m));
    const a1 = channel.request({ type: 'run', subject: 'a', controls }, 'run:a');
    const b1 = channel.request({ type: 'run', subject: 'b', controls }, 'run:b');
    const save = channel.request({ type: 'saveResult' });
    const a2 = channel.request({ type: 'run', subject: 'a', controls }, 'run:a');
    assert.deepEqual([a1, b1, save, a2], [1, 2, 3, 4]);
    assert.deepEqual(
      sent.map((m) => [m.type, 'requestId' in m ? m.requestId : null]),
      [
        ['run', 1],
        ['run', 2],
        ['saveResult', 3],
        ['run', 4],
      ],
    );
    // a's first run was superseded by its second; b's is still its lane's latest.
    assert.equal(channel.isLatest('run:a', a1), false);
    assert.equal(channel.isLatest('run:a', a2), true);
    assert.equal(channel.isLatest('run:b', b1), true);
    assert.equal(channel.isLatest('run:b', a2), false);
    assert.equal(channel.isLatest('elsewhere', save), false);
    channel.notify({ type: 'webviewError', message: 'x' });
    assert.deepEqual(sent.at(-1), { type: 'webviewError', message: 'x' });
  });

  it('hands back the superseded token so the host can abort it, and forgets settled runs', () => {
    const lane = new LatestWins<string>();
    assert.equal(lane.begin(7, 'first'), undefined);
    assert.equal(lane.begin(9, 'second'), 'first');
    assert.equal(lane.isLatest(7), false);
    assert.equal(lane.isLatest(9), true);
    lane.settle(7); // a superseded run ending changes nothing
    assert.equal(lane.isLatest(9), true);
    lane.settle(9);
    assert.equal(lane.isLatest(9), false);
    assert.equal(lane.cancel(), undefined);
    lane.begin(10, 'third');
    assert.equal(lane.cancel(), 'third');
    assert.equal(lane.isLatest(10), false);
  });

  it('parses host messages by the panel’s schema, naming what it dropped, and spots ready', () => {
    const saved = { type: 'saved', requestId: 1, path: null, error: null };
    assert.deepEqual(parseHostMessage(HostToCompareSchema, saved), { message: saved });
    assert.deepEqual(parseHostMessage(HostToCompareSchema, { ...saved, path: 4 }), {
      error: 'Dropped a malformed "saved" message from the host: path: expected a string, found 4',
    });
    assert.match(
      errorOf(parseHostMessage(HostToCompareSchema, { type: 'progress' })),
      /^Dropped a malformed "progress" message from the host: type: expected one of/,
    );
    for (const other of [{ type: 4 }, 'saved', null, undefined]) {
      assert.match(
        errorOf(parseHostMessage(HostToCompareSchema, other)),
        /^Dropped a malformed message/,
      );
    }
    assert.equal(isReady({ type: 'ready' }), true);
    assert.equal(isReady({ type: 'init' }), false);
  });
});

describe('posted log', () => {
  it('summarises a message by its scalar fields', () => {
    assert.deepEqual(
      summarise({
        type: 'runFailed',
        subject: 'b',
        requestId: 3,
        message: 'no',
        cancelled: false,
        result: { big: true },
        path: null,
      } as { type: string }),
      { type: 'runFailed', subject: 'b', requestId: 3, message: 'no', cancelled: false },
    );
  });

  it('keeps only the last messages and counts them all', () => {
    const log = new PostedLog(3);
    for (let i = 1; i <= 5; i += 1) log.add({ type: 'progress', requestId: i } as { type: string });
    assert.equal(log.total, 5);
    assert.deepEqual(
      log.entries().map((m) => m.requestId),
      [3, 4, 5],
    );
    log.entries().pop();
    assert.equal(log.entries().length, 3, 'entries() is a copy');
  });

  it('holds 200 by default', () => {
    const log = new PostedLog();
    for (let i = 0; i < 1000; i += 1) log.add({ type: 'progress' });
    assert.equal(log.entries().length, 200);
    assert.equal(log.total, 1000);
  });
});
