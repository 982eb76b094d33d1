// The checkpoint's default AR controls, shared by the engine, the CLI and the panels' reset.
import type { ArControls, ContractMetadata } from '../protocol/contract';

/** The checkpoint's recommended controls (`mosear.ar_defaults`) with no head overrides. */
export function defaultControls(meta: ContractMetadata): ArControls {
  const { layers: L, heads: Hh } = meta.architecture;
  const d = meta.arDefaults;
  return {
    mode: d.mode,
    ratioKind: d.ratioKind,
    tau: [...d.tau],
    headMargin: d.headMargin,
    alpha: d.alpha,
    paiAlpha: d.paiAlpha,
    layers: [...d.layers],
    headOverride: Array.from({ length: L }, () => new Array<number>(Hh).fill(0)),
  };
}
