"""A float16-weights copy of an exported model (torch 1.13 cannot trace half precision on CPU and
Debian's onnx has no float16 converter, so the exported float32 weights are converted here).

Every float32 initializer of more than 16 values is stored as float16 and cast back to float32
by a `Cast` node in front of the graph: the file (and the memory a provider holds for weights
before the cast) halves, the graph's inputs, outputs and arithmetic stay float32, so every
provider runs it and the contract is unchanged. Rounding the weights to float16 is the whole
numerical difference; the original Emotion-LLaMA runs its weights in float16 too. A graph whose
arithmetic is float16 (for GPU speed) needs mixed precision — LLaMA's RMSNorm squares
activations beyond float16's range — and is not produced.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .readers import ExportError

F16_MAX = 65504.0


def convert(src: str, dst: str, min_size: int = 16) -> dict:
    """Write `dst` (+ `dst`.data) from `src`. Returns counts and the largest rounding error."""
    try:
        model = onnx.load(src)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"{src}: cannot load the ONNX model ({e})") from e
    graph = model.graph
    casts = []
    converted, overflow, worst = 0, 0, 0.0
    kept = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims or [1])) <= min_size:
            kept.append(init)
            continue
        arr = numpy_helper.to_array(init)
        overflow += int((np.abs(arr) > F16_MAX).sum())
        half = arr.astype(np.float16)
        worst = max(worst, float(np.max(np.abs(half.astype(np.float32) - arr))) if arr.size else 0)
        name16 = init.name + "__fp16"
        kept.append(numpy_helper.from_array(half, name16))
        casts.append(helper.make_node("Cast", [name16], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "__cast"))
        converted += 1
    if overflow:
        raise ExportError(f"{src}: {overflow} weights exceed float16's range; keep float32")
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    model.doc_string = (model.doc_string or "") + " (float16 weights, float32 arithmetic)"
    out_dir = os.path.dirname(os.path.abspath(dst))
    data = os.path.basename(dst) + ".data"
    if os.path.exists(os.path.join(out_dir, data)):
        os.remove(os.path.join(out_dir, data))
    onnx.save_model(model, dst, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data, size_threshold=1024)
    onnx.checker.check_model(dst)
    return {"converted": converted, "max_abs_rounding": worst}
