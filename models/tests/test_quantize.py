"""realexport.quantize: block quantization, the MatMulNBits packing and the graph rewrite.

The layout facts (onnxruntime's ContribOperators.md, com.microsoft::MatMulNBits): B uint8
[N, n_blocks, block_size·bits/8], codes along K packed low bits first; scales [N·n_blocks];
uint8 zero points [N·ceil(n_blocks·bits/8)], packed the same way per column; the default zero
point is 2^(bits−1); W = (code − zero_point)·scale. onnxruntime-node reading the rewritten
miniature is the golden tier's test/golden/quantizedMiniature.test.ts.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from realexport import quantize as q
from realexport.readers import ExportError


def test_two_block_example_by_hand() -> None:
    # K = 32, block 16: two blocks per column. Column 0: block 0 = 0, 0.5, …, 7.5 (lo 0, hi 7.5:
    # scale 7.5/15 = 0.5, zero point 0, codes 0…15); block 1 = 7, 6, …, −8 (lo −8, hi 7:
    # scale 1, zero point 8, codes 15…0). Column 1: zeros (scale 1, zero point 0, codes 0).
    w = np.zeros((32, 2), np.float32)
    w[:16, 0] = np.arange(16) * 0.5
    w[16:, 0] = 7 - np.arange(16)
    t = q.operator_tensors(w, bits=4, block_size=16)
    assert t["B"].shape == (2, 2, 8) and t["B"].dtype == np.uint8
    # byte i of a block: code 2i in the low nibble, code 2i + 1 in the high nibble
    assert list(t["B"][0, 0]) == [0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE]
    assert list(t["B"][0, 1]) == [0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01]
    assert list(t["B"][1].ravel()) == [0] * 16
    assert list(t["scales"]) == [0.5, 1.0, 1.0, 1.0]          # index n · n_blocks + b
    assert list(t["zero_points"]) == [0x80, 0x00]             # column 0: zp 0 low, zp 8 high
    np.testing.assert_array_equal(t["deq"], w)                # all values on the grid: exact
    back = q.dequantize(t["B"], t["scales"], t["zero_points"], 32, 2, 4, 16)
    np.testing.assert_array_equal(back, w)


def test_symmetric_example_uses_the_default_zero_point() -> None:
    # block absmax 7 → scale 7/7 = 1, code = w + 8 (the operator's default zero point for 4 bits)
    w = np.array([[-7.0], [-1.0], [0.0], [7.0]] + [[0.0]] * 12, np.float32)
    t = q.operator_tensors(w, bits=4, block_size=16, symmetric=True)
    assert "zero_points" not in t
    # codes 1, 7, 8, 15 → bytes 1 | 7 << 4, 8 | 15 << 4; the zero rows code 8 → 0x88
    assert list(t["B"][0, 0]) == [0x71, 0xF8] + [0x88] * 6
    assert list(t["scales"]) == [1.0]
    np.testing.assert_array_equal(q.dequantize(t["B"], t["scales"], None, 16, 1, 4, 16), w)


def test_zero_points_of_an_odd_block_count_start_each_column_on_a_new_byte() -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(48, 3)).astype(np.float32)            # 3 blocks of 16 per column
    t = q.operator_tensors(w, bits=4, block_size=16)
    assert t["zero_points"].shape == (3 * 2,)                  # ceil(3 · 4 / 8) = 2 bytes each
    _, _, zp, _ = q.quantize_weight(w, 4, 16)
    for n in range(3):
        b0, b1 = t["zero_points"][2 * n: 2 * n + 2]
        assert [b0 & 15, b0 >> 4, b1 & 15, b1 >> 4] == [*zp[n], 0]


@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("symmetric", [False, True])
def test_dequantize_of_quantize_is_within_the_block_step(bits: int, symmetric: bool) -> None:
    rng = np.random.default_rng(bits)
    k, n, bs = 100, 70, 32                                     # K padded to 4 blocks
    w = (rng.normal(size=(k, n)) * rng.uniform(0.01, 2, size=(1, n))).astype(np.float32)
    w[:5, 0] = 0                                               # partly zero blocks
    w[:, 1] = 0                                                # an all-zero column
    t = q.operator_tensors(w, bits, bs, symmetric)
    n_blocks = 4
    assert t["B"].shape == (n, n_blocks, bs * bits // 8)
    back = q.dequantize(t["B"], t["scales"], t.get("zero_points"), k, n, bits, bs)
    np.testing.assert_array_equal(back, t["deq"])
    step = np.repeat(t["scales"].reshape(n, n_blocks).T, bs, axis=0)[:k]
    err = np.abs(back - w)
    # half a step, except (asymmetric) where two rounding ties meet the top code: one step
    assert np.all(err <= step * (1 + 1e-6))
    assert np.mean(err <= step / 2 * (1 + 1e-5)) > 0.999
    assert np.all(back[:, 1] == 0)
    if not symmetric:
        assert np.all(back[w == 0] == 0)                      # zero is on the grid


def test_bad_bits_or_block_size_are_errors() -> None:
    w = np.ones((64, 64), np.float32)
    with pytest.raises(ExportError, match="bits"):
        q.operator_tensors(w, bits=3)
    with pytest.raises(ExportError, match="block-size"):
        q.operator_tensors(w, block_size=24)
    with pytest.raises(ExportError, match="block-size"):
        q.operator_tensors(w, block_size=8)


def test_quantize_model_rewrites_large_float_matmuls_only(tmp_path) -> None:
    rng = np.random.default_rng(2)
    big = rng.normal(size=(64, 96)).astype(np.float32)
    small = rng.normal(size=(96, 8)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
             helper.make_node("MatMul", ["x", "W"], ["h2"]),           # shared weight
             helper.make_node("Add", ["h", "h2"], ["s"]),
             helper.make_node("MatMul", ["s", "V"], ["y"]),            # below min_dim
             helper.make_node("Transpose", ["W"], ["wt"], perm=[1, 0])]  # W read elsewhere too
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 8]),
         helper.make_tensor_value_info("wt", TensorProto.FLOAT, [96, 64])],
        [numpy_helper.from_array(big, "W"), numpy_helper.from_array(small, "V")])
    src = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), src)
    dst = str(tmp_path / "q.onnx")
    info = q.quantize_model(src, dst, bits=4, block_size=32)
    assert info["matmuls"] == 2 and info["weights"] == 1
    assert os.path.exists(dst + ".data")
    m = onnx.load(dst)
    ops = [n.op_type for n in m.graph.node]
    assert ops == ["MatMulNBits", "MatMulNBits", "Add", "MatMul", "Transpose"]
    nb = m.graph.node[0]
    attrs = {a.name: helper.get_attribute_value(a) for a in nb.attribute}
    assert nb.domain == "com.microsoft"
    assert attrs == {"K": 64, "N": 96, "bits": 4, "block_size": 32, "accuracy_level": 0}
    assert any(o.domain == "com.microsoft" and o.version == 1 for o in m.opset_import)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    assert "W" in inits and "V" in inits                      # W still read by the Transpose
    b, s, z = (inits[x] for x in nb.input[1:])
    assert b.shape == (96, 2, 16) and s.shape == (96 * 2,) and z.shape == (96,)
    back = q.dequantize(b, s, z, 64, 96, 4, 32)
    assert np.max(np.abs(back - big)) <= s.max()


def test_quantize_model_drops_a_weight_only_matmuls_read(tmp_path) -> None:
    w = np.random.default_rng(3).normal(size=(64, 64)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
        [numpy_helper.from_array(w, "W")])
    src, dst = str(tmp_path / "m.onnx"), str(tmp_path / "q.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), src)
    info = q.quantize_model(src, dst, bits=8, block_size=16, symmetric=True)
    m = onnx.load(dst)
    assert [i.name for i in m.graph.initializer] == ["W__q", "W__scales"]
    assert info["weight_bytes_after"] == 64 * 64 + 64 * 4 * 4
    with pytest.raises(ExportError, match="cannot load"):
        q.quantize_model(str(tmp_path / "missing.onnx"), dst)
