"""Trace an EmotionLlama (model.py) into a contract-1.1 ONNX model with external weights.

Outputs: the contract's (CONTRACT.md §2, §2a: `logits`, the probes, `mose_gate` for MoSE,
`layer_logits`) and two more that readers ignore (§2: other outputs are ignored):
`label_probability` [1] — the labels' first tokens' total probability under the full vocabulary
at the answer position — and `greedy_token` int64 [1] — the vocabulary's argmax there — so a
softmax over the 9 labels never hides that the model would have answered something else.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, List, Optional, Tuple

import onnx
import torch
import torch.nn as nn

from mosear.export import OPSET, default_tau_sweep, fix_output_dims, metadata_props
from mosear.model import INPUT_NAMES, Controls, probe_outputs

from .blocks import POOLINGS
from .model import EmotionLlama, Sources, describe_sources
from .prompt import ASSEMBLIES, DEFAULT_TRANSCRIPT, INSTRUCTION, Tokenizer

EXTRA_OUTPUTS = ["label_probability", "greedy_token"]
#: Contract 1.2's optional feature inputs (CONTRACT.md §1b): pre-extracted FaceMAE and VideoMAE
#: vectors [1, D], D the input width of feats_llama_proj1 / 2; fed zeros they are the demo's.
FEATURE_INPUTS = ["face_mae_features", "video_mae_features"]
SAMPLE_RATE = 16000
#: The longest audio an export accepts (the whole clip up to this cap; contract §6 step 5).
AUDIO_CAP_SECONDS = 30
TRANSCRIPT_MAX_TOKENS = 128
SEGMENT_LABELS = {"eva_patches": "EVA-CLIP patches", "face_mae": "FaceMAE",
                  "video_mae": "VideoMAE", "hubert": "HuBERT", "eva_cls": "EVA CLS",
                  "prefix": "prompt (before the video)",
                  "between": "prompt (between video and features)", "prompt": "prompt"}


class ExportGraph(nn.Module):
    """Contract inputs (+ head_gate) → contract outputs + layer_logits + the two extras."""

    def __init__(self, model: EmotionLlama) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
                ar_mode: torch.Tensor, ar_tau: torch.Tensor, ar_ratio_kind: torch.Tensor,
                ar_head_margin: torch.Tensor, ar_alpha: torch.Tensor, pai_alpha: torch.Tensor,
                ar_layers: torch.Tensor, ar_head_override: torch.Tensor,
                head_gate: torch.Tensor, face_mae_features: torch.Tensor,
                video_mae_features: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        ctl = Controls(ar_mode, ar_tau, ar_ratio_kind, ar_head_margin, ar_alpha, pai_alpha,
                       ar_layers, ar_head_override)
        run = self.model.run(frames, audio, prompt_ids, ctl, head_gate,
                             (face_mae_features, video_mae_features))
        outs = probe_outputs(run.logits, list(run.probes))
        if self.model.mapping is not None:
            outs.append(torch.cat([p.gate for p in run.probes if p.gate is not None]))
        outs.append(torch.cat(run.readouts, dim=0))
        probs = torch.softmax(run.vocab_logits, dim=-1)
        outs.append(probs[:, self.model.label_index].sum(dim=-1))
        outs.append(torch.argmax(run.vocab_logits, dim=-1))
        return tuple(outs)


def output_names(model: EmotionLlama) -> List[str]:
    return (["logits", "modality_mass", "modality_mass_after", "ar_flags",
             "token_attention_before", "token_attention"]
            + (["mose_gate"] if model.mapping is not None else [])
            + ["layer_logits"] + EXTRA_OUTPUTS)


def example_inputs(model: EmotionLlama, audio_seconds: float = 2.0,
                   prompt_ids: Optional[List[int]] = None, seed: int = 0,
                   ctl: Optional[Controls] = None,
                   features: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                   ) -> List[torch.Tensor]:
    """The graph's inputs in order; `features` None: zeros (the demo's FaceMAE and VideoMAE)."""
    g = torch.Generator().manual_seed(seed)
    size = model.opts.image_size
    L, H = model.cfg.num_hidden_layers, model.cfg.num_attention_heads
    frames = torch.rand(1, 1, 3, size, size, generator=g)
    audio = torch.randn(1, int(SAMPLE_RATE * audio_seconds), generator=g) * 0.1
    ids = torch.tensor([prompt_ids or model.default_prompt_ids()], dtype=torch.int64)
    cfg = type("LH", (), {"layers": L, "heads": H})()
    ctl = ctl or Controls.make(cfg, mode=1, alpha=0.3)  # type: ignore[arg-type]
    return [frames, audio, ids, ctl.ar_mode, ctl.ar_tau, ctl.ar_ratio_kind, ctl.ar_head_margin,
            ctl.ar_alpha, ctl.pai_alpha, ctl.ar_layers, ctl.ar_head_override,
            torch.ones(L, H)] + list(features or zero_features(model))


def zero_features(model: EmotionLlama) -> Tuple[torch.Tensor, torch.Tensor]:
    """The feature inputs' default: zero vectors [1, D] of each projection's input width."""
    return (torch.zeros(1, model.feature_dims[0]), torch.zeros(1, model.feature_dims[1]))


def run_outputs(model: EmotionLlama, args: List[torch.Tensor]) -> Dict[str, Any]:
    with torch.no_grad():
        outs = ExportGraph(model)(*args)
    return {n: o.numpy() for n, o in zip(output_names(model), outs)}


def tokenizer_meta(tok: Tokenizer, file_name: str) -> Dict[str, Any]:
    return {"kind": "sentencepiece", "unk": "<unk>",
            "ref": f"{file_name} sha256:{tok.sha256}", "file": file_name, "sha256": tok.sha256,
            "segment_encoding": "joined",
            "rule": "special pieces are single ids; a segment's other pieces (text and slot "
                    "values) are joined into one string, split at the literal special tokens "
                    "<s>, </s>, <unk>, and each run is encoded by SentencePiece with its dummy "
                    "prefix (transformers 4.30's slow LlamaTokenizer on get_context_emb's / "
                    "prompt_wrap's prompt pieces)"}


def template(model: EmotionLlama) -> Dict[str, List[Dict[str, str]]]:
    """The prompt template by text segment, with the transcript as the slot."""
    marker = "\x00TRANSCRIPT\x00"
    out: Dict[str, List[Dict[str, str]]] = {}
    from .prompt import segments
    segs, _ = segments(model.tokenizer, model.opts.assembly, marker)
    for seg in segs:
        pieces: List[Dict[str, str]] = []
        for run in seg.runs:
            if run.kind == "special":
                pieces.append({"kind": "special", "token": run.text})
                continue
            before, sep, after = run.text.partition(marker)
            if before:
                pieces.append({"kind": "text", "text": before})
            if sep:
                pieces.append({"kind": "slot", "slot": "transcript"})
            if after:
                pieces.append({"kind": "text", "text": after})
        out[seg.name] = pieces
    return out


def layout_segments(model: EmotionLlama, fixed_prompt: bool) -> Tuple[List[Dict[str, Any]],
                                                                      Optional[int]]:
    g, patch = model.eva.grid, model.eva.patch
    last = len(model.text_segments[-1].ids) if fixed_prompt else None
    segs: List[Dict[str, Any]] = []
    start: Optional[int] = 0
    for name, modality, count in model.layout(last):
        seg: Dict[str, Any] = {"name": name, "label": SEGMENT_LABELS[name],
                               "modality": modality, "start": start, "count": count}
        if name == "eva_patches":
            seg["grid"] = {"frames": 1, "rows": g, "cols": g // 4, "order": "frame,row,col",
                           "frame_index": [0], "cell_px": {"width": 4 * patch, "height": patch},
                           "patches": {"rows": g, "cols": g,
                                       "size_px": {"width": patch, "height": patch},
                                       "per_cell": {"rows": 1, "cols": 4}}}
        segs.append(seg)
        start = None if start is None or count is None else start + count
    return segs, start


def contract_metadata(model: EmotionLlama, sources: Sources, name: str, fixed_prompt: bool,
                      tokenizer_file: str) -> Dict[str, Any]:
    cfg, opts, tok = model.cfg, model.opts, model.tokenizer
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    mose = model.mapping is not None
    segs, total = layout_segments(model, fixed_prompt)
    ids = model.default_prompt_ids()
    pieces = [tok.piece_of(i) for i in ids]
    if fixed_prompt:
        # Contract 1.1's word-level kind over the SentencePiece vocabulary: every text position
        # is a special piece holding the exact SentencePiece id (a fixed transcript).
        tmpl = {s.name: [{"kind": "special", "token": tok.piece_of(i)} for i in s.ids]
                for s in model.text_segments}
        prompt = {"tokenizer": {"kind": "word-level", "unk": None,
                                "ref": tokenizer_meta(tok, tokenizer_file)["ref"]},
                  "vocab": tok.vocab(), "template": tmpl, "slots": {},
                  "default": pieces, "default_ids": ids}
    else:
        prompt = {"tokenizer": tokenizer_meta(tok, tokenizer_file), "vocab": tok.vocab(),
                  "template": template(model),
                  "slots": {"transcript": {"default": opts.transcript,
                                           "max_tokens": TRANSCRIPT_MAX_TOKENS,
                                           "description": "what the person in the clip says"}},
                  "default": pieces, "default_ids": ids}
    adapter = "mose" if mose else "lora"
    family = "mosear" if mose else "emotion-llama"
    desc = (f"{'MoSEAR' if mose else 'Emotion-LLaMA'} exported from the user's files: LLaMA "
            f"{L} layers × {H} heads, d {cfg.hidden_size}, vocab {cfg.vocab_size}; "
            f"{'MoSE' if mose else 'LoRA'} rank {opts.lora_rank}, α {opts.lora_alpha:g} on "
            f"{', '.join(model.mapping['targets'] if mose else ['q_proj', 'v_proj'])}; "
            f"EVA ViT width {model.eva.d} × {model.eva.depth} blocks on the first frame "
            f"({opts.image_size} px, squashed); HuBERT {model.hubert_cfg.hidden_size} × "
            f"{model.hubert_cfg.num_hidden_layers} ({opts.pooling}); FaceMAE and VideoMAE zeros "
            f"(as the public demo) unless fed as the inputs {' and '.join(FEATURE_INPUTS)}; "
            f"prompt assembled as {ASSEMBLIES[opts.assembly]}.")
    values: Dict[str, Any] = {
        "mosear.checkpoint": {"name": name, "description": desc, "training_data": None,
                              "version": "export-1"},
        "mosear.labels": list(opts.labels),
        "mosear.architecture": {
            "family": family, "layers": L, "heads": H, "d_model": cfg.hidden_size,
            "adapter": adapter, "mose": mose, "lora_rank": opts.lora_rank,
            "mose_eps": float(model.mapping["eps"]) if mose else None,
            "position_encoding": "rope"},
        "mosear.token_layout": {"segments": segs, "total": total},
        "mosear.answer_positions": [-1],
        "mosear.frames": {"count": 1, "height": opts.image_size, "width": opts.image_size,
                          "dynamic_count": False, "channels": "rgb", "range": [0, 1]},
        "mosear.audio": {"sample_rate_hz": SAMPLE_RATE,
                         "samples": SAMPLE_RATE * AUDIO_CAP_SECONDS,
                         "window_seconds": AUDIO_CAP_SECONDS, "optional": True, "tokens": 1,
                         "length": "variable",
                         "min_samples": model.hubert_cfg.receptive_field()},
        "mosear.prompt": prompt,
        "mosear.decode": {"spec": "mosear-decode-1", "frame_times": "first", "resize": "squash",
                          "scale_flags": "bicubic", "audio_window": "from-start",
                          "audio_pad": "zeros-at-end"},
        "mosear.ar_defaults": {"mode": 1, "ratio_kind": 2, "tau": [0.0] * L,
                               "head_margin": 0.0, "alpha": 0.3, "pai_alpha": 0.5,
                               "layers": [1.0] * L},
        "mosear.tau_sweep": default_tau_sweep(),
        "mosear.export": {
            "assembly": opts.assembly, "assembly_description": ASSEMBLIES[opts.assembly],
            "instruction": INSTRUCTION, "transcript_default": DEFAULT_TRANSCRIPT,
            "pooling": opts.pooling, "pooling_description": POOLINGS[opts.pooling],
            "features": "FaceMAE and VideoMAE tokens are the projections of the optional "
                        "inputs face_mae_features and video_mae_features (CONTRACT.md §1b); fed "
                        "zeros (the engine's default) they are the public demo's",
            "feature_dims": {"face_mae_features": model.feature_dims[0],
                             "video_mae_features": model.feature_dims[1]},
            "lora": {"rank": opts.lora_rank, "alpha": opts.lora_alpha,
                     "scaling": opts.lora_alpha / opts.lora_rank,
                     "merged": opts.lora_merged and not mose},
            "label_first_tokens": {label: {"id": i, "piece": tok.piece_of(i)}
                                   for label, i in zip(opts.labels, model.label_ids)},
            "label_tokens": "logits are the next-token logits of each label's first token; "
                            "labels of several tokens are scored by their first token only",
            "extra_outputs": {"label_probability": "the labels' first tokens' total softmax "
                                                   "probability over the whole vocabulary",
                              "greedy_token": "the vocabulary's argmax at the answer position"},
            "precision": "float32 throughout (the original runs EVA and LLaMA in float16)",
            "hubert_normalize": model.do_normalize,
            "eva": {"width": model.eva.d, "depth": model.eva.depth, "heads": model.eva.heads,
                    "patch": model.eva.patch},
            "sources": describe_sources(sources),
            "tokenizer_sha256": tok.sha256,
        },
    }
    return values


def export(model: EmotionLlama, sources: Sources, out_path: str, name: str,
           fixed_prompt: bool = False) -> Dict[str, Any]:
    """Write `out_path` with its weights as external data and a copy of tokenizer.model. Returns
    the metadata values.

    Below protobuf's 2 GB the traced graph holds its weights; they are written to one file,
    `<out>.data`. Above it (a 7B model) torch writes one file per tensor next to the traced
    graph; those files are moved into `<stem>.weights/` and the graph is saved without loading
    them again, so the weights are never held twice in Python (`relocate_external`)."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.basename(out_path)
    stem = base[:-5] if base.endswith(".onnx") else base
    tok_file = stem + ".tokenizer.model"
    shutil.copyfile(model.tokenizer.path, os.path.join(out_dir, tok_file))
    shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_original.py"),
                    os.path.join(out_dir, stem + ".check_original.py"))
    values = contract_metadata(model, sources, name, fixed_prompt, tok_file)
    args = example_inputs(model)
    inputs = INPUT_NAMES + ["head_gate"] + FEATURE_INPUTS
    outputs = output_names(model)
    dynamic: Dict[str, Dict[int, str]] = {"audio": {1: "samples"}}
    if not fixed_prompt:
        dynamic.update({"prompt_ids": {1: "prompt"}, "token_attention_before": {2: "tokens"},
                        "token_attention": {2: "tokens"}})
    tmp_dir = os.path.join(out_dir, f".{stem}.trace")
    os.makedirs(tmp_dir, exist_ok=True)
    tmp = os.path.join(tmp_dir, "graph.onnx")
    graph = ExportGraph(model)
    weights_dir = os.path.join(out_dir, stem + ".weights")
    try:
        torch.onnx.export(graph, tuple(args), tmp, input_names=inputs, output_names=outputs,
                          opset_version=OPSET, do_constant_folding=True, dynamic_axes=dynamic)
        proto = onnx.load(tmp, load_external_data=False)
        external = relocate_external(proto, tmp_dir, weights_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    fix_output_dims(graph, args, proto, outputs, dynamic)
    present = [i.name for i in proto.graph.input]
    missing = [n for n in inputs if n not in present]
    if missing:
        raise RuntimeError(f"exporter dropped inputs {missing}: every input must reach an output")
    del proto.metadata_props[:]
    for k, v in metadata_props("1.1", values).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    proto.producer_name = "mosear-lens/realexport"
    proto.doc_string = f"MoSEAR contract v1.1: {name}"
    data = stem + ".onnx.data"
    if os.path.exists(os.path.join(out_dir, data)):
        os.remove(os.path.join(out_dir, data))
    if external:
        onnx.save_model(proto, out_path)
    else:
        onnx.save_model(proto, out_path, save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data, size_threshold=1024)
    onnx.checker.check_model(out_path)
    return values


def relocate_external(proto: onnx.ModelProto, src_dir: str, weights_dir: str) -> bool:
    """Move the per-tensor files of `proto`'s external initializers from `src_dir` into
    `weights_dir` (a sibling of the final model) and point their locations there. False when
    every initializer is inline."""
    external = [t for t in proto.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    if not external:
        return False
    shutil.rmtree(weights_dir, ignore_errors=True)
    os.makedirs(weights_dir)
    folder = os.path.basename(weights_dir)
    for t in external:
        for entry in t.external_data:
            if entry.key == "location":
                os.replace(os.path.join(src_dir, entry.value),
                           os.path.join(weights_dir, entry.value))
                entry.value = folder + "/" + entry.value
    return True


def metadata_json(values: Dict[str, Any]) -> str:
    return json.dumps(values, indent=1)
