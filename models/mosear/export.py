"""Export a trained model to ONNX under contract 1, 1.1 or 1.2 (models/CONTRACT.md).

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m mosear.export <checkpoint.pt> <out.onnx>
[--contract 1.1|1.2 [--head-gate] [--layer-logits] [--audio-repeat]] (run from models/;
--audio-repeat needs 1.2). The .pt holds {"config":
ModelConfig fields, "state": state_dict, "meta": checkpoint metadata (name, description, training
data, ar defaults, tau sweep)}. Contract 1 (the default) is what the shipped checkpoints are.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import onnx
import torch

from .model import (AUDIO_REPEAT_INPUT, AUDIO_REPEAT_MAX, HEAD_GATE_INPUT, INPUT_NAMES, LABELS,
                    VOCAB, ContractGraph, Controls, ModelConfig, MoSEARModel, output_names)

CONTRACT_VERSION = "1"
#: The contract revision with named segments, variable prompts and optional inputs/outputs.
CONTRACT_1_1 = "1.1"
#: 1.1 plus the optional `audio_repeat` input (CONTRACT.md §1c).
CONTRACT_1_2 = "1.2"
CONTRACT_VERSIONS = (CONTRACT_VERSION, CONTRACT_1_1, CONTRACT_1_2)
OPSET = 17


def load_checkpoint(path: str) -> "tuple[MoSEARModel, Dict[str, Any]]":
    """Load a training checkpoint (.pt) → (model in eval mode, its metadata dict)."""
    blob = torch.load(path, map_location="cpu")
    cfg = ModelConfig(**blob["config"])
    model = MoSEARModel(cfg)
    model.load_state_dict(blob["state"])
    model.eval()
    return model, blob.get("meta", {})


def default_tau_sweep() -> Dict[str, Any]:
    return {
        "raw": {"min": 0.001, "max": 1000.0, "steps": 25, "scale": "log"},
        "density": {"min": 0.01, "max": 10000.0, "steps": 25, "scale": "log"},
        "share": {"min": 0.0, "max": 1.0, "steps": 21, "scale": "linear"},
    }


ADAPTERS = {
    "none": "no adapter (the backbone itself)",
    "lora": "plain LoRA (rank {rank} on q/k/v/o) — the Emotion-LLaMA-style baseline",
    "mose": "MoSE (rank {rank}: shared A; global, visual and non-visual B; gate λ in "
            "[{lo:g}, {hi:g}]) — apply AR at inference for full MoSEAR",
}
VISUAL_FRONTS = {
    "patch": "an MLP on each 16×16 patch",
    "conv": "a small CNN per frame, pretrained to name the face's emotion and then frozen",
}


def checkpoint_identity(cfg: ModelConfig, meta: Dict[str, Any]) -> Dict[str, str]:
    """mosear.checkpoint's description and training data, derived from the training record
    unless the metadata states them."""
    adapter = ADAPTERS[cfg.adapter].format(rank=cfg.lora_rank, lo=0.5 - cfg.mose_eps,
                                           hi=0.5 + cfg.mose_eps)
    description = (f"Toy-scale MoSEAR replication ({cfg.layers}-layer LLaMA-style decoder, "
                   f"{cfg.heads} heads, d {cfg.d_model}; visual front end: "
                   f"{VISUAL_FRONTS[cfg.visual_front]}; one audio token): frozen backbone + "
                   f"{adapter}.")
    mix = meta.get("mix")
    training = ("CA-MER-synth (synthetic faces and voices, six MER2023 labels), rendered on the "
                f"fly from seed {meta.get('seed', '?')}")
    if mix:
        training += "; fine-tuning mix " + ", ".join(f"{k} {v:.0%}" for k, v in mix.items())
    if meta.get("steps"):
        training += f", {meta['steps']} steps"
    training += "; AR defaults chosen on the validation split. See models/RESULTS.md."
    return {"description": meta.get("description") or description,
            "training_data": meta.get("training_data") or training}


def contract_metadata(cfg: ModelConfig, meta: Dict[str, Any],
                      contract: str = CONTRACT_VERSION,
                      audio_repeat: bool = False) -> Dict[str, str]:
    """The metadata_props of a contract-1, -1.1 or -1.2 model: JSON values except
    mosear.contract. 1.1 describes the same model with named segments, cell sizes and a prompt
    template; 1.2 is 1.1 and, with `audio_repeat`, declares that input's cap."""
    L = cfg.layers
    ar = meta.get("ar_defaults") or {
        "mode": 1, "ratio_kind": 2, "tau": [0.0] * L, "head_margin": 0.0, "alpha": 0.3,
        "pai_alpha": 0.5, "layers": [1.0] * L,
    }
    layout = {
        "segments": [
            {"modality": "visual", "start": 0, "count": cfg.n_visual,
             "grid": {"frames": cfg.frames, "rows": cfg.grid_rows, "cols": cfg.grid_cols,
                      "order": "frame,row,col"}},
            {"modality": "audio", "start": cfg.n_visual, "count": cfg.n_audio},
            {"modality": "text", "start": cfg.n_visual + cfg.n_audio, "count": cfg.n_text},
        ],
        "total": cfg.n_tokens,
    }
    values: Dict[str, Any] = {
        "mosear.checkpoint": {
            "name": meta.get("name", "untitled"),
            **checkpoint_identity(cfg, meta),
            "version": meta.get("version", "0"),
        },
        "mosear.labels": LABELS,
        "mosear.architecture": {
            "family": "llama-tiny", "layers": L, "heads": cfg.heads, "d_model": cfg.d_model,
            "adapter": cfg.adapter, "mose": cfg.adapter == "mose",
            "lora_rank": cfg.lora_rank if cfg.adapter != "none" else 0,
            "mose_eps": cfg.mose_eps if cfg.adapter == "mose" else None,
        },
        "mosear.token_layout": layout,
        "mosear.answer_positions": [cfg.n_tokens - 1],
        "mosear.frames": {"count": cfg.frames, "height": cfg.height, "width": cfg.width,
                          "dynamic_count": False, "channels": "rgb", "range": [0, 1]},
        "mosear.audio": {"sample_rate_hz": cfg.sample_rate_hz, "samples": cfg.audio_samples,
                         "window_seconds": cfg.audio_samples / cfg.sample_rate_hz,
                         "optional": True, "tokens": cfg.n_audio},
        "mosear.prompt": {"vocab": VOCAB, "default": cfg.prompt,
                          "default_ids": cfg.prompt_ids()},
        "mosear.decode": {"spec": "mosear-decode-1", "frame_times": "midpoints",
                          "resize": "cover-center-crop", "scale_flags": "area",
                          "audio_window": "centered", "audio_pad": "zeros-at-end"},
        "mosear.ar_defaults": ar,
        "mosear.tau_sweep": meta.get("tau_sweep", default_tau_sweep()),
    }
    if contract in (CONTRACT_1_1, CONTRACT_1_2):
        upgrade_to_1_1(cfg, values)
        if audio_repeat:
            values["mosear.audio"]["repeat_max"] = AUDIO_REPEAT_MAX
    elif contract != CONTRACT_VERSION:
        raise ValueError(f"unknown contract version {contract!r}")
    return metadata_props(contract, values)


def metadata_props(contract: str, values: Dict[str, Any]) -> Dict[str, str]:
    """mosear.contract as a plain string, every other value as JSON."""
    props = {"mosear.contract": contract}
    props.update({k: json.dumps(v) for k, v in values.items()})
    return props


def upgrade_to_1_1(cfg: ModelConfig, values: Dict[str, Any]) -> None:
    """Rewrite v1 metadata values of the toy model as contract 1.1 (CONTRACT.md §3.1)."""
    names = {"visual": "patches", "audio": "audio", "text": "prompt"}
    for seg in values["mosear.token_layout"]["segments"]:
        seg["name"] = names[seg["modality"]]
        if "grid" in seg:
            seg["grid"]["frame_index"] = list(range(cfg.frames))
            seg["grid"]["cell_px"] = {"width": cfg.patch, "height": cfg.patch}
    values["mosear.architecture"]["position_encoding"] = "rope"
    values["mosear.audio"]["length"] = "fixed"
    prompt = values["mosear.prompt"]
    words = cfg.prompt
    pieces: List[Dict[str, str]] = []
    for w in words:
        if w.startswith("<"):
            pieces.append({"kind": "special", "token": w})
        elif pieces and pieces[-1]["kind"] == "text":
            pieces[-1]["text"] += " " + w
        else:
            pieces.append({"kind": "text", "text": w})
    prompt.update({"tokenizer": {"kind": "word-level", "unk": None, "ref": None},
                   "template": {"prompt": pieces}, "slots": {}})


def fix_output_dims(graph: torch.nn.Module, args: Sequence[torch.Tensor],
                    proto: onnx.ModelProto, outputs: List[str],
                    dynamic_axes: Dict[str, Dict[int, str]]) -> None:
    """With dynamic axes the exporter names every output dimension it cannot prove constant;
    declare the contract's fixed ones (as the traced run has them) so validators see [L, Hh, N]
    with only N symbolic."""
    with torch.no_grad():
        traced = graph(*args)
    shapes = {name: list(t.shape) for name, t in zip(outputs, traced)}
    for value in proto.graph.output:
        dynamic = dynamic_axes.get(value.name, {})
        for i, dim in enumerate(value.type.tensor_type.shape.dim):
            if i in dynamic:
                dim.dim_param = dynamic[i]
            else:
                dim.dim_value = shapes[value.name][i]


def write_model(graph: torch.nn.Module, args: Sequence[torch.Tensor], input_names: List[str],
                outputs: List[str], props: Dict[str, str], doc: str, out_path: str,
                dynamic_axes: Optional[Dict[str, Dict[int, str]]] = None) -> None:
    """Trace `graph` on `args`, check that no input was dropped, add the metadata, write."""
    tmp = out_path + ".tmp"
    torch.onnx.export(graph, tuple(args), tmp, input_names=input_names, output_names=outputs,
                      opset_version=OPSET, do_constant_folding=True, dynamic_axes=dynamic_axes)
    proto = onnx.load(tmp)
    os.remove(tmp)
    if dynamic_axes:
        fix_output_dims(graph, args, proto, outputs, dynamic_axes)
    present = [i.name for i in proto.graph.input]
    missing = [n for n in input_names if n not in present]
    if missing:
        raise RuntimeError(f"exporter dropped inputs {missing}: every input must reach an output")
    del proto.metadata_props[:]
    for k, v in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.producer_name = "mosear-lens/models"
    proto.doc_string = doc
    onnx.checker.check_model(proto)
    onnx.save(proto, out_path)


def export(model: MoSEARModel, meta: Dict[str, Any], out_path: str,
           contract: str = CONTRACT_VERSION, head_gate: bool = False,
           layer_logits: bool = False, audio_repeat: bool = False) -> None:
    """Trace the contract graph at batch 1 and write it with its metadata. `head_gate` and
    `layer_logits` (contract 1.1 or later) add that optional input and output; `audio_repeat`
    (1.2, with `head_gate`) the input repeating the audio token, traced at k = 2 so the
    sequence length stays symbolic."""
    if contract not in CONTRACT_VERSIONS:
        raise ValueError(f"unknown contract version {contract!r}")
    if contract == CONTRACT_VERSION and (head_gate or layer_logits):
        raise ValueError("head_gate and layer_logits need contract 1.1")
    if audio_repeat and (contract != CONTRACT_1_2 or not head_gate):
        raise ValueError("audio_repeat needs contract 1.2 and head_gate")
    cfg = model.cfg
    model.eval()
    frames = torch.rand(1, cfg.frames, 3, cfg.height, cfg.width)
    audio = torch.randn(1, cfg.audio_samples) * 0.1
    prompt = torch.tensor([cfg.prompt_ids()], dtype=torch.int64)
    ctl = Controls.make(cfg, mode=1, alpha=0.3)
    args = [frames, audio, prompt, ctl.ar_mode, ctl.ar_tau, ctl.ar_ratio_kind,
            ctl.ar_head_margin, ctl.ar_alpha, ctl.pai_alpha, ctl.ar_layers,
            ctl.ar_head_override]
    inputs = list(INPUT_NAMES)
    if head_gate:
        args.append(torch.ones(cfg.layers, cfg.heads))
        inputs.append(HEAD_GATE_INPUT)
    outputs = output_names(cfg.adapter, layer_logits)
    dynamic: Optional[Dict[str, Dict[int, str]]] = None
    if audio_repeat:
        args.append(torch.tensor(2, dtype=torch.int64))
        inputs.append(AUDIO_REPEAT_INPUT)
        # N is the one symbolic dimension of the outputs that have it.
        dynamic = {"token_attention_before": {2: "N"}, "token_attention": {2: "N"}}
    write_model(ContractGraph(model, layer_logits), args, inputs, outputs,
                contract_metadata(cfg, meta, contract, audio_repeat),
                f"MoSEAR contract v{contract}: {meta.get('name', 'untitled')}", out_path,
                dynamic)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--contract", choices=CONTRACT_VERSIONS, default=CONTRACT_VERSION)
    ap.add_argument("--head-gate", action="store_true", help="add the head_gate input (1.1)")
    ap.add_argument("--layer-logits", action="store_true",
                    help="add the layer_logits output (1.1)")
    ap.add_argument("--audio-repeat", action="store_true",
                    help="add the audio_repeat input (1.2, with --head-gate)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    model, meta = load_checkpoint(a.checkpoint)
    export(model, meta, a.out, a.contract, a.head_gate, a.layer_logits, a.audio_repeat)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
