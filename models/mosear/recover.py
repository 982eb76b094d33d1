"""Recover a checkpoint's PyTorch state dict from its ONNX file, and prove the recovery.

Usage (from models/, with OPENBLAS_NUM_THREADS=1):
  python3 -m mosear.recover recover checkpoints/<name>.onnx checkpoints/<name>.pt
  python3 -m mosear.recover verify checkpoints/<name>.pt fixtures/v1/<name>.onnx
  python3 -m mosear.recover verify --contract 1.2 checkpoints/<name>.pt checkpoints/<name>.onnx

`recover` reads the initializers, maps each back to the module's parameter or buffer and undoes
what the export folded; `verify` re-exports the .pt with mosear.export and compares the result
with the ONNX file node by node and initializer by initializer (exit status 1 on a difference).

How the names are found: a model with the same config and distinct random weights is exported
the same way (the template); the exporter names the same initializers the same way, so each
initializer of the template tells, by value, which parameter it came from and how: under its own
name (`model.<key>`), transposed (`onnx::MatMul_*`: a bias-free Linear, LoRA/MoSE A and B), one
row (`modality_emb[i]`), or the visual position table. The export folds frame + row + col
embeddings into one [Nv, d] table; their split is not recoverable, so the .pt carries the table as
`visual.pos_table` (MoSEARModel uses it instead of the sum) and a least-squares split of it as
`frame_emb`, `row_emb`, `col_emb` (equal to the table within float32 rounding, unused while the
table is present).

The .pt is a plain dict (tensors, strings, numbers; torch 1.13 and 2.x load it, also with
weights_only=True): {"config": ModelConfig fields, "state": state dict, "meta": the metadata the
exporter writes (name, description, training data, version, AR defaults, τ sweep) and
`recovered_from` (file, sha256)}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import warnings
from dataclasses import asdict
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .export import CONTRACT_1_1, CONTRACT_1_2, CONTRACT_VERSION, export, load_checkpoint
from .model import ModelConfig, MoSEARModel

#: Initializers of the template that are a function of several parameters, by what they hold.
POS_TABLE = "visual.pos_table"
#: What each template initializer holds: (state key, how to get the parameter from the array).
Source = Tuple[str, str]


def graph_values(proto: onnx.ModelProto) -> Dict[str, np.ndarray]:
    """Initializers by name, plus the outputs of Identity nodes on them (the exporter keeps one
    copy of equal initializers and aliases the others)."""
    values = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values


def node_by_name(proto: onnx.ModelProto, name: str) -> onnx.NodeProto:
    for node in proto.graph.node:
        if node.name == name:
            return node
    raise KeyError(f"no node {name!r} in the graph")


def constant_of(proto: onnx.ModelProto, output: str) -> Optional[np.ndarray]:
    for node in proto.graph.node:
        if node.op_type == "Constant" and node.output[0] == output:
            return numpy_helper.to_array(node.attribute[0].t)
    return None


def recover_config(proto: onnx.ModelProto) -> ModelConfig:
    """ModelConfig from the contract metadata and the graph's shapes and constants."""
    meta = {p.key: p.value for p in proto.metadata_props}
    arch = json.loads(meta["mosear.architecture"])
    frames = json.loads(meta["mosear.frames"])
    audio = json.loads(meta["mosear.audio"])
    grid = json.loads(meta["mosear.token_layout"])["segments"][0]["grid"]
    values = graph_values(proto)
    basis, mel = values["model.audio.logmel.basis"], values["model.audio.logmel.mel"]
    conv = node_by_name(proto, "/audio/logmel/Conv")
    hop = [a.ints[0] for a in conv.attribute if a.name == "strides"][0]
    w1 = values[node_by_name(proto, "/layers.0/w1/MatMul").input[1]]
    cfg: Dict[str, Any] = {
        "layers": arch["layers"], "heads": arch["heads"], "d_model": arch["d_model"],
        "ffn_hidden": int(w1.shape[1]), "frames": frames["count"], "height": frames["height"],
        "width": frames["width"], "patch": frames["height"] // grid["rows"],
        "visual_front": "conv" if "model.visual.conv.0.weight" in values else "patch",
        "sample_rate_hz": audio["sample_rate_hz"], "audio_samples": audio["samples"],
        "n_fft": int(basis.shape[-1]), "hop": int(hop), "n_mels": int(mel.shape[0]),
        "prompt": json.loads(meta["mosear.prompt"])["default"], "adapter": arch["adapter"],
    }
    if arch["adapter"] != "none":
        cfg["lora_rank"] = arch["lora_rank"]
        # The adapter's scale α/r multiplies its output: the constant of the Mul whose result
        # is added to the base projection's.
        base = node_by_name(proto, "/layers.0/q/base/MatMul").output[0]
        add = [n for n in proto.graph.node if n.op_type == "Add" and base in n.input][0]
        other = [i for i in add.input if i != base][0]
        producer = {o: n for n in proto.graph.node for o in n.output}[other]
        scale = [constant_of(proto, i) for i in producer.input]
        scale_value = [float(s) for s in scale if s is not None and s.size == 1]
        if len(scale_value) != 1:
            raise RuntimeError("cannot find the adapter scale in /layers.0/q")
        cfg["lora_alpha"] = scale_value[0] * arch["lora_rank"]
    if arch["adapter"] == "mose":
        cfg["mose_eps"] = arch["mose_eps"]
    return ModelConfig(**cfg)


def recover_meta(proto: onnx.ModelProto, path: str) -> Dict[str, Any]:
    """The .pt metadata that makes mosear.export write the same metadata_props again."""
    meta = {p.key: p.value for p in proto.metadata_props}
    ckpt = json.loads(meta["mosear.checkpoint"])
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {
        "name": ckpt["name"], "description": ckpt["description"],
        "training_data": ckpt["training_data"], "version": ckpt["version"],
        "ar_defaults": json.loads(meta["mosear.ar_defaults"]),
        "tau_sweep": json.loads(meta["mosear.tau_sweep"]),
        "recovered_from": {"file": os.path.basename(path), "sha256": digest},
    }


def export_proto(model: MoSEARModel, meta: Dict[str, Any],
                 contract: str = CONTRACT_VERSION) -> onnx.ModelProto:
    """mosear.export's output for `model`, loaded back (contract 1.1: with `head_gate` and
    `layer_logits`; 1.2: also `audio_repeat`, as the shipped checkpoints are since issue 18)."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on the model's Python branches
        out = os.path.join(tmp, "model.onnx")
        extras = contract in (CONTRACT_1_1, CONTRACT_1_2)
        export(model, meta, out, contract, head_gate=extras, layer_logits=extras,
               audio_repeat=contract == CONTRACT_1_2)
        return onnx.load(out)


def template_sources(cfg: ModelConfig) -> Dict[str, Source]:
    """Export a model with distinct random weights; tell each initializer's origin by value."""
    torch.manual_seed(0)
    model = MoSEARModel(cfg)
    state = model.state_dict()
    gen = torch.Generator().manual_seed(1)
    marked = {k: torch.randn(v.shape, generator=gen) for k, v in state.items()}
    model.load_state_dict(marked)
    model.eval()
    values = graph_values(export_proto(model, {}))
    arrays = {k: v.numpy() for k, v in marked.items()}
    vis = model.visual
    with torch.no_grad():
        pos = vis.positions().numpy()
    sources: Dict[str, Source] = {}
    for name, value in values.items():
        if name.startswith("model.") and name[6:] in arrays:
            if not np.array_equal(value, arrays[name[6:]]):
                raise RuntimeError(f"{name} does not hold the parameter of that name")
            sources[name] = (name[6:], "same")
            continue
        found = _match(value, arrays)
        if found is None and value.shape == pos.shape and np.array_equal(value, pos):
            found = (POS_TABLE, "same")
        if found is None:
            raise RuntimeError(f"initializer {name} {value.shape} matches no parameter")
        sources[name] = found
    return sources


def _match(value: np.ndarray, arrays: Dict[str, np.ndarray]) -> Optional[Source]:
    for key, arr in arrays.items():
        if arr.shape == value.shape and np.array_equal(arr, value):
            return key, "same"
        if arr.ndim == 2 and arr.T.shape == value.shape and np.array_equal(arr.T, value):
            return key, "transposed"
        if arr.ndim == 2 and value.shape == arr.shape[1:]:
            rows = [i for i in range(arr.shape[0]) if np.array_equal(arr[i], value)]
            if rows:
                return key, f"row {rows[0]}"
    return None


def split_positions(table: np.ndarray, cfg: ModelConfig) -> Dict[str, np.ndarray]:
    """Least-squares frame/row/col embeddings whose broadcast sum is `table` (within float32
    rounding): frame = mean over (row, col); row and col centred."""
    t = table.astype(np.float64).reshape(cfg.frames, cfg.grid_rows, cfg.grid_cols, cfg.d_model)
    mu = t.mean((0, 1, 2))
    return {"visual.frame_emb": t.mean((1, 2)).astype(np.float32),
            "visual.row_emb": (t.mean((0, 2)) - mu).astype(np.float32),
            "visual.col_emb": (t.mean((0, 1)) - mu).astype(np.float32)}


INVERSE: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "same": lambda a: a, "transposed": lambda a: a.T,
}


def recover(onnx_path: str) -> Dict[str, Any]:
    """The .pt blob ({"config", "state", "meta"}) of an exported checkpoint."""
    proto = onnx.load(onnx_path)
    cfg = recover_config(proto)
    values = graph_values(proto)
    sources = template_sources(cfg)
    missing = sorted(set(sources) - set(values))
    extra = sorted(set(values) - set(sources))
    if missing or extra:
        raise RuntimeError(f"initializers differ from the template: missing {missing}, "
                           f"extra {extra}")
    expected = MoSEARModel(cfg).state_dict()
    state: Dict[str, np.ndarray] = {}
    rows: Dict[str, Dict[int, np.ndarray]] = {}
    for name, (key, how) in sources.items():
        value = values[name]
        if how.startswith("row "):
            rows.setdefault(key, {})[int(how[4:])] = value
            continue
        arr = np.ascontiguousarray(INVERSE[how](value))
        if key in state and not np.array_equal(state[key], arr):
            raise RuntimeError(f"{key}: two initializers disagree")
        state[key] = arr
    for key, parts in rows.items():
        shape = tuple(expected[key].shape)
        if sorted(parts) != list(range(shape[0])):
            raise RuntimeError(f"{key}: rows {sorted(parts)} of {shape[0]} in the graph")
        state[key] = np.stack([parts[i] for i in range(shape[0])])
    if POS_TABLE in state:
        state.update(split_positions(state[POS_TABLE], cfg))
    left = sorted(set(expected) - set(state))
    if left:
        raise RuntimeError(f"not recovered: {left}")
    for key, ref in expected.items():
        if tuple(ref.shape) != state[key].shape:
            raise RuntimeError(f"{key}: shape {state[key].shape}, expected {tuple(ref.shape)}")
    tensors = {k: torch.from_numpy(state[k].astype(np.float32)) for k in
               list(expected) + ([POS_TABLE] if POS_TABLE in state else [])}
    return {"config": asdict(cfg), "state": tensors, "meta": recover_meta(proto, onnx_path)}


# ---------------------------------------------------------------------------------------------
# Comparing two exports


def diff_models(a: onnx.ModelProto, b: onnx.ModelProto) -> Dict[str, Any]:
    """Compare two ONNX models as functions. Constants (initializers and Constant nodes) are
    compared by value wherever they are used; every other node must match in order, name, op,
    attributes and edges, up to a consistent renaming of the values between them; graph
    inputs, outputs, metadata and model fields must be equal. Returns {"problems": [...],
    "renamed": [(name in a, name in b)], "constant_nodes_moved": n, "byte_identical": bool}."""
    problems: List[str] = []
    rename: Dict[str, str] = {}
    taken: Dict[str, str] = {}

    def constants(m: onnx.ModelProto) -> Dict[str, str]:
        out = {}
        for t in m.graph.initializer:
            out[t.name] = _token(numpy_helper.to_array(t))
        for n in m.graph.node:
            if n.op_type == "Constant":
                out[n.output[0]] = _token(numpy_helper.to_array(n.attribute[0].t))
        return out

    const_a, const_b = constants(a), constants(b)

    def same(x: str, y: str) -> bool:
        if x in const_a or y in const_b:
            same_value = const_a.get(x) == const_b.get(y)
            if same_value:
                rename[x] = y
            return same_value
        return rename.setdefault(x, y) == y and taken.setdefault(y, x) == x

    for what in ("input", "output"):
        xs = [(v.name, str(v.type)) for v in getattr(a.graph, what)]
        ys = [(v.name, str(v.type)) for v in getattr(b.graph, what)]
        if xs != ys:
            problems.append(f"graph {what}s differ")
    nodes_a = [n for n in a.graph.node if n.op_type != "Constant"]
    nodes_b = [n for n in b.graph.node if n.op_type != "Constant"]
    if len(nodes_a) != len(nodes_b):
        problems.append(f"{len(nodes_a)} vs {len(nodes_b)} nodes (besides constants)")
    for na, nb in zip(nodes_a, nodes_b):
        if (na.op_type, na.name, na.domain) != (nb.op_type, nb.name, nb.domain):
            problems.append(f"node {na.name} ({na.op_type}) vs {nb.name} ({nb.op_type})")
            break
        if [x.SerializeToString() for x in na.attribute] != \
                [y.SerializeToString() for y in nb.attribute]:
            problems.append(f"node {na.name}: attributes differ")
        if len(na.input) != len(nb.input) or len(na.output) != len(nb.output):
            problems.append(f"node {na.name}: arity differs")
            continue
        for x, y in list(zip(na.input, nb.input)) + list(zip(na.output, nb.output)):
            if not same(x, y):
                problems.append(f"node {na.name}: {x} vs {y}")
    if sorted(const_a.values()) != sorted(const_b.values()) and \
            sorted(set(const_a.values())) != sorted(set(const_b.values())):
        problems.append("the sets of constant values differ")
    meta_a = [(p.key, p.value) for p in a.metadata_props]
    meta_b = [(p.key, p.value) for p in b.metadata_props]
    if meta_a != meta_b:
        problems.append("metadata_props differ")
    for field in ("ir_version", "producer_name", "producer_version", "doc_string"):
        if getattr(a, field) != getattr(b, field):
            problems.append(f"{field}: {getattr(a, field)!r} vs {getattr(b, field)!r}")
    if [(o.domain, o.version) for o in a.opset_import] != \
            [(o.domain, o.version) for o in b.opset_import]:
        problems.append("opset imports differ")
    order_a = [n.name for n in a.graph.node if n.op_type == "Constant"]
    order_b = [n.name for n in b.graph.node if n.op_type == "Constant"]
    inits = {t.name for t in a.graph.initializer}
    renamed = sorted((x, y) for x, y in rename.items() if x != y)
    return {"problems": problems, "renamed": renamed,
            "renamed_initializers": sum(1 for x, _ in renamed if x in inits),
            "constant_nodes_moved": sorted(set(order_a) ^ set(order_b)),
            "initializers": (len(a.graph.initializer), len(b.graph.initializer)),
            "byte_identical": a.SerializeToString() == b.SerializeToString()}


def _token(arr: np.ndarray) -> str:
    """A constant's identity: dtype, shape and a hash of its bytes."""
    digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
    return f"{arr.dtype}{list(arr.shape)}:{digest}"


def verify(pt_path: str, onnx_path: str, contract: str = CONTRACT_VERSION) -> Dict[str, Any]:
    """Re-export a recovered .pt (as contract `contract`) and compare it with an ONNX file."""
    model, meta = load_checkpoint(pt_path)
    ours = export_proto(model, meta, contract)
    return diff_models(onnx.load(onnx_path), ours)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recover", help="ONNX → .pt")
    r.add_argument("onnx")
    r.add_argument("out")
    v = sub.add_parser("verify", help="re-export a .pt and compare it with an ONNX file")
    v.add_argument("pt")
    v.add_argument("onnx")
    v.add_argument("--contract", choices=(CONTRACT_VERSION, CONTRACT_1_1, CONTRACT_1_2),
                   default=CONTRACT_VERSION,
                   help="1.1: re-export with head_gate and layer_logits; 1.2: also "
                        "audio_repeat (the shipped files)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    if a.cmd == "recover":
        blob = recover(a.onnx)
        torch.save(blob, a.out)
        n = sum(t.numel() for t in blob["state"].values())
        print(f"wrote {a.out}: {len(blob['state'])} tensors, {n} values, "
              f"{os.path.getsize(a.out) / 1e6:.2f} MB")
        return
    report = verify(a.pt, a.onnx, a.contract)
    summary = {k: v for k, v in report.items() if k != "renamed"}
    summary["renamed_values"] = len(report["renamed"])
    print(json.dumps(summary))
    if report["problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
