// Token rows on demand (src/protocol/rowRequests.ts, src/shared/panelRows.ts): the summaries the
// host posts first carry no rows, the index says what exists, the host's answer checks bounds
// against the result's shape, and the messages' schemas refuse what does not fit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HostToCompareSchema, parseCompareMessage } from '../../src/protocol/compareMessages';
import { parseHostMessage } from '../../src/protocol/channel';
import {
  HostToWebviewSchema,
  InvalidMessageError,
  parseWebviewMessage,
} from '../../src/protocol/panelMessages';
import { rowLane } from '../../src/protocol/rowRequests';
import { headMeanRows, jsonWithTokenRows, tokenRow } from '../../src/protocol/tokenRows';
import {
  answerTokenRow,
  holdsTokenRows,
  tokenRowsIndex,
  uapFromRows,
  withoutTokenRows,
} from '../../src/shared/panelRows';
import { fixtureResult } from '../helpers/analysisFixture';

describe('token rows on demand', () => {
  const result = fixtureResult();
  const { layers: L, heads: Hh } = result.model.metadata.architecture;
  const N = result.tokens.length;

  test('the summaries hold no rows; the index gives the shape, what was stored and UAP without position 0', () => {
    const summary = withoutTokenRows(result);
    assert.equal(holdsTokenRows(summary), false);
    assert.equal(holdsTokenRows(result), true, 'the result itself is untouched');
    assert.ok(jsonWithTokenRows(summary).length < jsonWithTokenRows(result).length);
    const index = tokenRowsIndex(result);
    assert.deepEqual(index.shape, [L, Hh, N]);
    assert.deepEqual(index.stored.intervention, { before: 'all', after: 'all' });
    assert.deepEqual(
      index.uapSkipFirst?.with,
      uapFromRows(result.intervention.tokenAttention!, result.tokens, true),
    );
    const none = tokenRowsIndex(summary);
    assert.equal(none.uapSkipFirst, null);
    assert.deepEqual(none.stored.off, { before: null, after: null });
  });

  test('the answer: a head’s row, the heads’ mean, the mean for any head of a mean-only result', () => {
    const rows = result.intervention.tokenAttentionBefore!;
    const head = answerTokenRow(result, {
      run: 'intervention',
      stage: 'before',
      layer: 1,
      head: 2,
    });
    assert.ok('row' in head);
    assert.deepEqual(head.row, tokenRow(rows, 1, 2));
    assert.notEqual(head.row.buffer, rows.data.buffer, 'the reply owns its buffer');
    const off = answerTokenRow(result, { run: 'off', stage: 'after', layer: 0, head: 0 });
    assert.ok('row' in off);
    assert.deepEqual(off.row, tokenRow(result.baseline.tokenAttention!, 0, 0));
    const mean = answerTokenRow(result, {
      run: 'intervention',
      stage: 'before',
      layer: 1,
      head: 'mean',
    });
    assert.ok('row' in mean);
    assert.deepEqual(mean.row, tokenRow(headMeanRows(rows), 1, 0));
    const meansOnly = {
      ...result,
      intervention: { ...result.intervention, tokenAttentionBefore: headMeanRows(rows) },
    };
    const any = answerTokenRow(meansOnly, {
      run: 'intervention',
      stage: 'before',
      layer: 1,
      head: 3,
    });
    assert.ok('row' in any);
    assert.deepEqual(any.row, mean.row);
    assert.equal(tokenRowsIndex(meansOnly).stored.intervention.before, 'mean');
  });

  test('out-of-range and missing rows are refused with the bound, never thrown', () => {
    const ask = (layer: number, head: number | 'mean', r = result) =>
      answerTokenRow(r, { run: 'intervention', stage: 'after', layer, head });
    assert.deepEqual(ask(L, 0), { error: `layer ${L} is out of range (0–${L - 1})` });
    assert.deepEqual(ask(0, Hh), { error: `head ${Hh} is out of range (0–${Hh - 1})` });
    assert.deepEqual(ask(0, 0, withoutTokenRows(result)), {
      error: "the intervention run's after rows were not stored",
    });
    assert.deepEqual(answerTokenRow(null, { run: 'off', stage: 'before', layer: 0, head: 0 }), {
      error: 'there is no result yet',
    });
  });

  test('requests: the schema takes a run, a stage, an index or "mean"; anything else names the field', () => {
    const ok = {
      type: 'tokenRow',
      requestId: 3,
      query: { run: 'off', stage: 'before', layer: 2, head: 'mean' },
    };
    assert.deepEqual(parseWebviewMessage(ok), ok);
    for (const [query, field] of [
      [{ ...ok.query, layer: -1 }, /query\.layer/],
      [{ ...ok.query, head: 1.5 }, /query\.head/],
      [{ ...ok.query, run: 'baseline' }, /query\.run/],
      [{ ...ok.query, stage: 'during' }, /query\.stage/],
    ] as const) {
      assert.throws(
        () => parseWebviewMessage({ ...ok, query }),
        (e: unknown) => e instanceof InvalidMessageError && field.test(e.message),
      );
    }
    assert.equal(parseCompareMessage({ ...ok, subject: 'b' }).type, 'tokenRow');
    assert.throws(() => parseCompareMessage(ok), /subject/);
    assert.equal(rowLane({ run: 'off', stage: 'before' }), 'tokenRow:off:before');
  });

  test('replies: the row crosses as a Float32Array; numbers are dropped with the reason', () => {
    const row = new Float32Array(N);
    assert.ok(
      'message' in parseHostMessage(HostToWebviewSchema, { type: 'tokenRow', requestId: 1, row }),
    );
    const numbers = parseHostMessage(HostToWebviewSchema, {
      type: 'tokenRow',
      requestId: 1,
      row: Array.from(row),
    });
    assert.ok('error' in numbers && /row: must be a Float32Array/.test(numbers.error));
    const failed = { type: 'tokenRowFailed', requestId: 1, message: 'layer 9 is out of range' };
    assert.ok('message' in parseHostMessage(HostToWebviewSchema, failed));
    assert.ok(
      'message' in
        parseHostMessage(HostToCompareSchema, {
          type: 'tokenRow',
          subject: 'a',
          requestId: 2,
          row,
        }),
    );
  });
});
