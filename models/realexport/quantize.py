"""Weight-only int4 / int8 copy of an exported model for CPU, through onnxruntime's contrib
operator `com.microsoft::MatMulNBits` (`python3 -m realexport quantize IN OUT`).

Every `MatMul` whose second input B is a 2-D float32 initializer with both sides ≥ `min_dim`
(default 64) becomes `MatMulNBits(A, B_q, scales[, zero_points])` with attributes K, N, bits,
block_size and accuracy_level. Everything else (activations, the graph's inputs and outputs,
small matmuls, attention's activation-by-activation matmuls) stays float32, so the contract is
unchanged. An initializer that another node also reads is kept in float32 for that node.

Layout (onnxruntime's ContribOperators.md, MatMulNBits): the ONNX weight W is [K, N] (Y = A·W);
MatMulNBits stores it transposed and blocked along K:
- `B` uint8 [N, n_blocks, blob_size], n_blocks = ceil(K / block_size), blob_size =
  block_size · bits / 8; column n, block b holds the codes of W[b·bs : (b+1)·bs, n] in K order,
  packed low bits first (4 bits: element 2i in the low nibble, 2i+1 in the high nibble of byte i);
  K is padded to a whole block with codes equal to the zero point (they dequantize to 0 and meet
  no element of A).
- `scales` float32 [N · n_blocks] (column-major over blocks: index n · n_blocks + b).
- `zero_points` uint8 [N · ceil(n_blocks · bits / 8)], each column's block zero points packed
  like B (4 bits: two blocks per byte, low nibble first; a column starts on a new byte). Absent
  in the symmetric scheme, where the operator's default zero point 2^(bits−1) applies.
- Dequantized weight: (code − zero_point) · scale.

Schemes (`--scheme`):
- `asymmetric` (default): per block, lo = min(0, min W), hi = max(0, max W),
  scale = (hi − lo) / (2^bits − 1), zero_point = round(−lo / scale), code = clip(round(W / scale)
  + zero_point, 0, 2^bits − 1). 0 is represented exactly; |dequant − W| ≤ scale / 2 except where
  two rounding ties meet the top code (then ≤ scale).
- `symmetric`: scale = max |W| / (2^(bits−1) − 1), code = round(W / scale) + 2^(bits−1), no
  zero_points input; |dequant − W| ≤ scale / 2. One code (0) is unused.
A block of zeros gets scale 1 (codes at the zero point).
"""

from __future__ import annotations

import os
from typing import Dict, Optional, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .readers import ExportError

MS_DOMAIN = "com.microsoft"


def _check(bits: int, block_size: int) -> None:
    if bits not in (4, 8):
        raise ExportError(f"--bits must be 4 or 8 (got {bits})")
    if block_size < 16 or block_size & (block_size - 1):
        raise ExportError(f"--block-size must be a power of two ≥ 16 (got {block_size})")


def quantize_weight(w: np.ndarray, bits: int = 4, block_size: int = 32,
                    symmetric: bool = False
                    ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray], np.ndarray]:
    """W [K, N] float → (codes uint8 [N, n_blocks, block_size] unpacked, scales float32
    [N, n_blocks], zero points uint8 [N, n_blocks] or None (symmetric), dequantized W [K, N])."""
    _check(bits, block_size)
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 2:
        raise ExportError(f"quantize_weight: W must be 2-D (got shape {w.shape})")
    k, n = w.shape
    n_blocks = -(-k // block_size)
    padded = np.zeros((n_blocks * block_size, n), np.float32)
    padded[:k] = w
    blocks = padded.T.reshape(n, n_blocks, block_size).astype(np.float64)
    qmax = (1 << bits) - 1
    if symmetric:
        half = 1 << (bits - 1)
        amax = np.abs(blocks).max(axis=2)
        scales = amax / (half - 1)
        scales[scales == 0] = 1.0
        zp = np.full((n, n_blocks), half, np.int64)
    else:
        lo = np.minimum(blocks.min(axis=2), 0.0)
        hi = np.maximum(blocks.max(axis=2), 0.0)
        scales = (hi - lo) / qmax
        scales[scales == 0] = 1.0
        zp = np.clip(np.round(-lo / scales), 0, qmax).astype(np.int64)
    scales = scales.astype(np.float32)
    s = scales.astype(np.float64)[:, :, None]
    codes = np.clip(np.round(blocks / s) + zp[:, :, None], 0, qmax).astype(np.uint8)
    deq = ((codes.astype(np.float64) - zp[:, :, None]) * s).astype(np.float32)
    deq_w = deq.reshape(n, n_blocks * block_size).T[:k]
    return codes, scales, (None if symmetric else zp.astype(np.uint8)), np.ascontiguousarray(deq_w)


def pack(values: np.ndarray, bits: int) -> np.ndarray:
    """Pack the last axis of uint8 `values` (each < 2^bits) low bits first into bytes; the last
    axis is padded with zeros to a whole byte. 8 bits: unchanged."""
    v = np.asarray(values, dtype=np.uint8)
    if bits == 8:
        return v.copy()
    per = 8 // bits
    pad = (-v.shape[-1]) % per
    if pad:
        v = np.concatenate([v, np.zeros(v.shape[:-1] + (pad,), np.uint8)], axis=-1)
    v = v.reshape(v.shape[:-1] + (-1, per)).astype(np.uint16)
    out = np.zeros(v.shape[:-1], np.uint16)
    for i in range(per):
        out |= v[..., i] << (bits * i)
    return out.astype(np.uint8)


def unpack(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of `pack` along the last axis, keeping `count` values."""
    p = np.asarray(packed, dtype=np.uint8)
    if bits == 8:
        return p[..., :count].copy()
    per = 8 // bits
    mask = (1 << bits) - 1
    parts = [(p >> (bits * i)) & mask for i in range(per)]
    return np.stack(parts, axis=-1).reshape(p.shape[:-1] + (-1,))[..., :count]


def operator_tensors(w: np.ndarray, bits: int = 4, block_size: int = 32,
                     symmetric: bool = False) -> Dict[str, np.ndarray]:
    """The MatMulNBits inputs for W [K, N] in the operator's layout (module docstring):
    B [N, n_blocks, blob_size], scales [N·n_blocks], zero_points (asymmetric) and, for checks,
    the dequantized weight `deq` [K, N]."""
    codes, scales, zp, deq = quantize_weight(w, bits, block_size, symmetric)
    n, n_blocks, _ = codes.shape
    out = {"B": pack(codes, bits), "scales": scales.reshape(n * n_blocks), "deq": deq}
    if zp is not None:
        out["zero_points"] = pack(zp, bits).reshape(-1)
    return out


def dequantize(b: np.ndarray, scales: np.ndarray, zero_points: Optional[np.ndarray], k: int,
               n: int, bits: int, block_size: int) -> np.ndarray:
    """W [K, N] from the operator's tensors, as the operator's definition reads them."""
    n_blocks = -(-k // block_size)
    codes = unpack(b.reshape(n, n_blocks, -1), bits, block_size).astype(np.float64)
    if zero_points is None:
        zp = np.full((n, n_blocks), 1 << (bits - 1), np.float64)
    else:
        zp = unpack(zero_points.reshape(n, -1), bits, n_blocks).astype(np.float64)
    s = scales.reshape(n, n_blocks).astype(np.float64)
    w = (codes - zp[:, :, None]) * s[:, :, None]
    return w.reshape(n, n_blocks * block_size).T[:k].astype(np.float32)


def quantize_model(src: str, dst: str, bits: int = 4, block_size: int = 32,
                   symmetric: bool = False, min_dim: int = 64, accuracy_level: int = 0) -> dict:
    """Write `dst` (+ `dst`.data, external data) from `src`. Returns counts, sizes and the
    largest weight error."""
    _check(bits, block_size)
    try:
        model = onnx.load(src)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"{src}: cannot load the ONNX model ({e})") from e
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    readers: Dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for out in graph.output:
        readers[out.name] = readers.get(out.name, 0) + 1
    done: Dict[str, Tuple[str, ...]] = {}
    new_inits = []
    replaced: Dict[str, int] = {}
    worst, count, weights_before, weights_after = 0.0, 0, 0, 0
    nodes = []
    for node in graph.node:
        b_name = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
        init = inits.get(b_name) if b_name else None
        if (init is None or init.data_type != TensorProto.FLOAT or len(init.dims) != 2
                or min(init.dims) < min_dim):
            nodes.append(node)
            continue
        k, n = (int(d) for d in init.dims)
        if b_name not in done:
            w = numpy_helper.to_array(init)
            t = operator_tensors(w, bits, block_size, symmetric)
            worst = max(worst, float(np.max(np.abs(t["deq"] - w))))
            names = [b_name + "__q", b_name + "__scales"]
            new_inits.append(numpy_helper.from_array(t["B"], names[0]))
            new_inits.append(numpy_helper.from_array(t["scales"], names[1]))
            if "zero_points" in t:
                names.append(b_name + "__zp")
                new_inits.append(numpy_helper.from_array(t["zero_points"], names[2]))
            done[b_name] = tuple(names)
            weights_before += w.nbytes
            weights_after += sum(t[x].nbytes for x in ("B", "scales", "zero_points") if x in t)
        replaced[b_name] = replaced.get(b_name, 0) + 1
        nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0], *done[b_name]], list(node.output),
            name=(node.name or b_name) + "__nbits", domain=MS_DOMAIN, K=k, N=n, bits=bits,
            block_size=block_size, accuracy_level=accuracy_level))
        count += 1
    kept = [i for i in graph.initializer
            if i.name not in replaced or readers.get(i.name, 0) > replaced[i.name]]
    del graph.initializer[:]
    graph.initializer.extend(kept + new_inits)
    del graph.node[:]
    graph.node.extend(nodes)
    if count and not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    scheme = "symmetric" if symmetric else "asymmetric"
    model.doc_string = ((model.doc_string or "") + f" (weight-only int{bits} MatMulNBits, "
                        f"block {block_size}, {scheme}; float32 activations)")
    out_dir = os.path.dirname(os.path.abspath(dst))
    data = os.path.basename(dst) + ".data"
    if os.path.exists(os.path.join(out_dir, data)):
        os.remove(os.path.join(out_dir, data))
    onnx.save_model(model, dst, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data, size_threshold=1024)
    onnx.checker.check_model(dst)
    return {"matmuls": count, "weights": len(done), "bits": bits, "block_size": block_size,
            "scheme": scheme, "weight_bytes_before": weights_before,
            "weight_bytes_after": weights_after, "max_abs_weight_error": worst}
