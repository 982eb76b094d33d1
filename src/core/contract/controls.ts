// Checks AR controls against the checkpoint before they reach the graph.
import type { ArControls, ContractMetadata } from '../../protocol/contract';
import { ContractError } from './contractError';

/** Rejects controls the graph must never see (CONTRACT.md §1), naming the graph input at fault. */
export function validateControls(meta: ContractMetadata, c: ArControls): void {
  const { layers: L, heads: Hh } = meta.architecture;
  const bad = (input: string, what: string): never => {
    throw new ContractError(`${input}: ${what}`);
  };
  if (![0, 1, 2].includes(c.mode)) bad('ar_mode', `must be 0, 1 or 2, got ${String(c.mode)}`);
  if (![0, 1, 2].includes(c.ratioKind)) {
    bad('ar_ratio_kind', `must be 0, 1 or 2, got ${String(c.ratioKind)}`);
  }
  if (!Number.isFinite(c.alpha) || c.alpha < 0 || c.alpha > 1) {
    bad('ar_alpha', `must be in [0, 1], got ${c.alpha}`);
  }
  if (!Number.isFinite(c.headMargin)) bad('ar_head_margin', `must be finite, got ${c.headMargin}`);
  if (!Number.isFinite(c.paiAlpha)) bad('pai_alpha', `must be finite, got ${c.paiAlpha}`);
  const vector = (input: string, values: number[]): void => {
    if (values.length !== L) bad(input, `needs ${L} values (one per layer), got ${values.length}`);
    values.forEach((v, i) => {
      if (Number.isNaN(v)) bad(input, `value ${i} is NaN`);
    });
  };
  vector('ar_tau', c.tau);
  vector('ar_layers', c.layers);
  if (c.headOverride.length !== L) {
    bad('ar_head_override', `needs ${L} rows (one per layer), got ${c.headOverride.length}`);
  }
  c.headOverride.forEach((row, l) => {
    if (row.length !== Hh)
      bad('ar_head_override', `row ${l} needs ${Hh} values, got ${row.length}`);
    row.forEach((v, h) => {
      if (Number.isNaN(v)) bad('ar_head_override', `[${l}][${h}] is NaN`);
    });
  });
}
