// Where the token views get their rows (src/protocol/rowRequests.ts), behind one interface so the
// views never know which: from the host (VS Code: one `tokenRow` request per shown row, cached per
// result, the latest request of each run and stage winning), or from the result itself (an HTML
// report, which embeds its rows and has no host; a state saved before rows on demand).
import type { AnalysisResult } from '../../src/protocol/analysisResult';
import { rowLane, type TokenRowQuery, type TokenRowsIndex } from '../../src/protocol/rowRequests';
import { answerTokenRow, tokenRowsIndex } from '../../src/shared/panelRows';

/** A row as the views read it: here, on its way (undefined), or not to be had (null). */
export type RowLookup = Float32Array | undefined | null;

/** The token rows of one result. */
export interface TokenRowSource {
  /** Which rows exist, the result's shape, and UAP without position 0. */
  readonly index: TokenRowsIndex;
  /** The row of `query`; when it is not here yet it is asked for, and `onArrive` follows. */
  row(query: TokenRowQuery): RowLookup;
  /** Why the row of `query` could not be had (a bad reply, the host's refusal), or null. */
  failureOf(query: TokenRowQuery): string | null;
}

const key = (q: TokenRowQuery): string => `${q.run}:${q.stage}:${q.layer}:${q.head}`;

/** Rows answered from the result's own embedded rows (no host). */
export function localRowSource(result: AnalysisResult): TokenRowSource {
  const cache = new Map<string, Float32Array | string>();
  const lookup = (query: TokenRowQuery): Float32Array | string => {
    const k = key(query);
    let row = cache.get(k);
    if (row === undefined) {
      const answer = answerTokenRow(result, query);
      row = 'row' in answer ? answer.row : answer.error;
      cache.set(k, row);
    }
    return row;
  };
  return {
    index: tokenRowsIndex(result),
    row: (query) => {
      const row = lookup(query);
      return typeof row === 'string' ? null : row;
    },
    // Rows not stored are the view's own note (missingRowsNote), not a failure.
    failureOf: () => null,
  };
}

/** How the host source reaches the channel. */
export interface RowChannel {
  /** Sends a `tokenRow` request in `lane` (superseding the lane's earlier one); its id. */
  request(query: TokenRowQuery, lane: string): number;
  isLatest(lane: string, requestId: number): boolean;
}

/** Rows fetched from the host one at a time; `receive` takes its replies. */
export class HostRowSource implements TokenRowSource {
  /** Rows that arrived, or why a request failed, by query. */
  private readonly rows = new Map<string, Float32Array | string>();
  private readonly pending = new Map<number, { query: TokenRowQuery; lane: string }>();

  constructor(
    readonly index: TokenRowsIndex,
    private readonly channel: RowChannel,
    private readonly onArrive: () => void,
  ) {}

  row(query: TokenRowQuery): RowLookup {
    // Nothing to ask for: rows not stored, or a head or layer the result does not have.
    const [L, Hh] = this.index.shape;
    if (this.index.stored[query.run][query.stage] === null) return null;
    if (query.layer >= L || (query.head !== 'mean' && query.head >= Hh)) return null;
    const k = key(query);
    const known = this.rows.get(k);
    if (known !== undefined) return typeof known === 'string' ? null : known;
    const lane = rowLane(query);
    // Already asked, and that request is still its lane's latest: wait for it.
    for (const [id, p] of this.pending) {
      if (key(p.query) === k && this.channel.isLatest(p.lane, id)) return undefined;
    }
    const requestId = this.channel.request(query, lane);
    this.pending.set(requestId, { query, lane });
    return undefined;
  }

  /** A reply: the row (checked to be N values) or the host's reason; stale replies are dropped. */
  receive(requestId: number, answer: { row: Float32Array } | { message: string }): void {
    const asked = this.pending.get(requestId);
    this.pending.delete(requestId);
    // A superseded request (a newer head was clicked in its lane) never paints.
    if (asked === undefined || !this.channel.isLatest(asked.lane, requestId)) return;
    const N = this.index.shape[2];
    const k = key(asked.query);
    if ('message' in answer) {
      this.rows.set(k, `The host could not send the token row: ${answer.message}.`);
    } else if (answer.row.length !== N) {
      this.rows.set(
        k,
        `Dropped a token row of ${answer.row.length} values (the result has ${N} positions).`,
      );
    } else {
      this.rows.set(k, answer.row);
    }
    this.onArrive();
  }

  failureOf(query: TokenRowQuery): string | null {
    const known = this.rows.get(key(query));
    return typeof known === 'string' ? known : null;
  }
}
