// The contract's float switches (`ar_layers`, `ar_flags`, `head_override`, `mose_expert_mask`)
// carry 0/1 (or −1/0/1) as floats; CONTRACT.md reads them with a 0.5 threshold, written once here.

/** A switch value that means on (> 0.5). */
export function isOn(value: number): boolean {
  return value > 0.5;
}

/** A `head_override` value that forces the head off (< −0.5). */
export function isForcedOff(value: number): boolean {
  return value < -0.5;
}
