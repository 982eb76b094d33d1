"""Build the full-shape fixture: a contract-1.1 ONNX model with Emotion-LLaMA's geometry and its
golden cases (models/fixtures/README.md).

Usage (from models/): OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m mosear.fixture --out fixtures
Deterministic: the weights come from torch's generator seeded with SEED, the inputs from the
xorshift32 recipe below (which the TypeScript tests reproduce bit for bit), the outputs from
PyTorch (mosear.fullshape) on those inputs.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from .export import CONTRACT_1_1, default_tau_sweep, metadata_props, write_model
from .fullshape import (DEFAULT_TRANSCRIPT, FullShapeConfig, FullShapeGraph, FullShapeModel,
                        PromptToken, contract_metadata, run_outputs, template_segments)
from .golden import MIN_DISTANCE, base_controls, make_controls, threshold_distance
from .model import HEAD_GATE_INPUT, INPUT_NAMES, LAYER_LOGITS_OUTPUT, OUTPUT_NAMES

NAME = "emotion-llama-fullshape"
VERSION = "1"
SEED = 15
#: The golden inputs: xorshift32 seed, audio length in samples (16 kHz), transcript.
INPUTS: Dict[str, Tuple[int, int, str]] = {
    "short": (1, 48000, DEFAULT_TRANSCRIPT),
    "long": (2, 116000, "Well honestly I expected something completely different from all "
                        "of you today, and nobody told me"),
}
#: The (layer, head) rows of token_attention(_before) each case stores in full.
ROWS: List[Tuple[int, int]] = [(0, 0), (0, 31), (15, 16), (31, 0), (31, 31)]
GATED: List[Tuple[int, int]] = [(0, 3)] + [(16, h) for h in range(16)]
DYNAMIC_AXES = {"audio": {1: "audio_samples"}, "prompt_ids": {1: "prompt_tokens"},
                "token_attention_before": {2: "tokens"}, "token_attention": {2: "tokens"}}


def build_model(cfg: Optional[FullShapeConfig] = None) -> FullShapeModel:
    """The fixture's model: FullShapeModel with weights drawn from torch's generator at SEED."""
    torch.manual_seed(SEED)
    model = FullShapeModel(cfg or FullShapeConfig())
    model.eval()
    return model


def xorshift32(seed: int, count: int) -> np.ndarray:
    """`count` successive states of xorshift32 (13, 17, 5) from `seed`, as uint32."""
    out = np.empty(count, dtype=np.uint32)
    x = seed & 0xFFFFFFFF
    for i in range(count):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x
    return out


def make_input(cfg: FullShapeConfig, seed: int, samples: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """frames [1, 1, 3, H, W] then audio [1, S] from one xorshift32 stream: a frame value is
    (x >>> 24) / 255, an audio sample ((x >>> 8) / 2^24 − 0.5) · 0.5 (float64, then float32)."""
    n_frame = 3 * cfg.frame_px * cfg.frame_px
    states = xorshift32(seed, n_frame + samples)
    frames = ((states[:n_frame] >> 24).astype(np.float64) / 255.0).astype(np.float32)
    audio = (((states[n_frame:] >> 8).astype(np.float64) / 16777216.0 - 0.5) * 0.5)
    return (torch.from_numpy(frames.reshape(1, 1, 3, cfg.frame_px, cfg.frame_px)),
            torch.from_numpy(audio.astype(np.float32).reshape(1, samples)))


def run_layout(cfg: FullShapeConfig, prompt: List[PromptToken]) -> Dict[str, Any]:
    """The layout of one run (CONTRACT.md §3.1 "the run's layout"): every segment's start and
    count, N, and each text position's token and kind."""
    n_text_fixed = sum(c or 0 for _, m, c in cfg.segment_counts() if m == "text")
    segments, start = [], 0
    for seg in template_segments(cfg):
        n = seg["count"] if seg["count"] is not None else len(prompt) - n_text_fixed
        segments.append({**seg, "start": start, "count": n})
        start += n
    text_positions = [p for s in segments if s["modality"] == "text"
                      for p in range(s["start"], s["start"] + s["count"])]
    text = []
    for pos, tok in zip(text_positions, prompt):
        entry: Dict[str, Any] = {"position": pos, "id": tok.id, "token": tok.token,
                                 "text": tok.text, "kind": tok.kind}
        if tok.slot is not None:
            entry["slot"] = tok.slot
        text.append(entry)
    return {"segments": segments, "total": start, "text": text}


def case_specs(cfg: FullShapeConfig) -> List[Tuple[str, Dict[str, Any], bool]]:
    """(name, controls, gated) of each case; τ and margins are nudged by `settle`."""
    L, H = cfg.layers, cfg.heads
    ov = [[0.0] * H for _ in range(L)]
    ov[1][0], ov[1][1], ov[0][2] = 1.0, -1.0, 1.0  # force on, force off, in a disabled layer
    some = [0.0] + [1.0] * (L - 1)
    return [
        ("off", base_controls(cfg), False),
        ("ar-share-alpha0", base_controls(cfg, ar_mode=1, ar_alpha=0.0), False),
        ("ar-share-alpha0.5", base_controls(cfg, ar_mode=1, ar_alpha=0.5), False),
        ("ar-density-overrides", base_controls(cfg, ar_mode=1, ar_ratio_kind=1, ar_alpha=0.6,
                                               ar_layers=some, ar_head_override=ov), False),
        ("pai-0.5", base_controls(cfg, ar_mode=2, pai_alpha=0.5, ar_layers=some), False),
        ("off-head-gate", base_controls(cfg), True),
    ]


def head_gate(cfg: FullShapeConfig, gated: bool) -> Optional[torch.Tensor]:
    """The knockout gate (zeros at GATED) or None (no head_gate fed: all ones)."""
    if not gated:
        return None
    gate = torch.ones(cfg.layers, cfg.heads)
    for layer, head in GATED:
        gate[layer, head] = 0.0
    return gate


def settle(model: FullShapeModel, frames: torch.Tensor, audio: torch.Tensor, ids: torch.Tensor,
           ctl: Dict[str, Any], gate: Optional[torch.Tensor]
           ) -> Tuple[Dict[str, Any], Dict[str, np.ndarray], float]:
    """Nudge the head margin (and τ) until no statistic sits within MIN_DISTANCE of a threshold."""
    cfg = model.cfg
    ctl = json.loads(json.dumps(ctl))
    for _ in range(60):
        out = run_outputs(model, frames, audio, ids, make_controls(cfg, ctl), gate)  # type: ignore
        if ctl["ar_mode"] != 1:
            return ctl, out, float("inf")
        dist = threshold_distance(out["modality_mass"], ctl, cfg)  # type: ignore[arg-type]
        if dist >= MIN_DISTANCE:
            return ctl, out, dist
        ctl["ar_head_margin"] = round(ctl["ar_head_margin"] + 0.013, 6)
    raise RuntimeError("could not move the thresholds away from the statistics")


def compact(value: float) -> float:
    """8 significant digits: far inside the 1e-4 tolerance, half the characters."""
    return float(f"{value:.8g}")


def expected_outputs(out: Dict[str, np.ndarray]) -> Dict[str, Any]:
    """Small outputs in full; of the [L, Hh, N] rows the ROWS and the sum over (layer, head)."""
    doc: Dict[str, Any] = {}
    for key, value in out.items():
        entry: Dict[str, Any] = {"shape": list(value.shape)}
        if value.ndim == 3 and key.startswith("token_attention"):
            entry["rows"] = [list(r) for r in ROWS]
            entry["data"] = [compact(x) for r in ROWS for x in value[r[0], r[1]]]
            entry["sum_over_layers_heads"] = [compact(x) for x in
                                              value.astype(np.float64).sum((0, 1))]
        else:
            entry["data"] = [compact(x) for x in value.reshape(-1)]
        doc[key] = entry
    return doc


def golden(model: FullShapeModel, model_file: str) -> Dict[str, Any]:
    cfg = model.cfg
    doc: Dict[str, Any] = {
        "checkpoint": NAME, "model": model_file, "contract": CONTRACT_1_1,
        "generated_by": "models/mosear/fixture.py", "tolerance": 1e-4,
        "inputs": {}, "cases": [],
    }
    for iid, (seed, samples, transcript) in INPUTS.items():
        frames, audio = make_input(cfg, seed, samples)
        prompt = cfg.prompt(transcript)
        ids = torch.tensor([[t.id for t in prompt]], dtype=torch.int64)
        doc["inputs"][iid] = {
            "generator": {"kind": "xorshift32", "seed": seed},
            "frames_shape": list(frames.shape), "audio_shape": list(audio.shape),
            "transcript": transcript, "prompt_ids": [t.id for t in prompt],
            "layout": run_layout(cfg, prompt),
        }
        plain: Optional[int] = None
        for cname, spec, gated in case_specs(cfg):
            if cname == "ar-share-alpha0" and iid != "short":
                continue
            gate = head_gate(cfg, gated)
            ctl, out, dist = settle(model, frames, audio, ids, spec, gate)
            flags = out["ar_flags"]
            pred = int(np.argmax(out["logits"]))
            plain = pred if cname == "off" else plain
            case: Dict[str, Any] = {"name": f"{iid}/{cname}", "input": iid, "controls": ctl}
            if gate is not None:
                case[HEAD_GATE_INPUT] = gate.tolist()
            case["expected"] = expected_outputs(out)
            case["checks"] = {
                "flagged": int(flags.sum()), "layers_acting": int((flags.sum(1) > 0).sum()),
                "mixed_layers": int(sum(1 for f in flags if 0 < f.sum() < cfg.heads)),
                "prediction": pred, "prediction_changes_vs_mode0": plain is not None
                and cname != "off" and pred != plain,
                "min_threshold_distance": None if dist == float("inf") else dist,
            }
            doc["cases"].append(case)
    return doc


def export_fixture(model: FullShapeModel, out_path: str) -> None:
    """Write the contract-1.1 ONNX file: dynamic audio length and prompt length."""
    cfg = model.cfg
    frames, audio = make_input(cfg, 1, INPUTS["short"][1])
    ids = torch.tensor([[t.id for t in cfg.prompt(DEFAULT_TRANSCRIPT)]], dtype=torch.int64)
    c = make_controls(cfg, base_controls(cfg, ar_mode=1, ar_alpha=0.3))  # type: ignore[arg-type]
    args = [frames, audio, ids, c.ar_mode, c.ar_tau, c.ar_ratio_kind, c.ar_head_margin,
            c.ar_alpha, c.pai_alpha, c.ar_layers, c.ar_head_override,
            torch.ones(cfg.layers, cfg.heads)]
    values = contract_metadata(cfg, NAME, VERSION)
    values["mosear.tau_sweep"] = default_tau_sweep()
    write_model(FullShapeGraph(model), args, INPUT_NAMES + [HEAD_GATE_INPUT],
                OUTPUT_NAMES + [LAYER_LOGITS_OUTPUT], metadata_props(CONTRACT_1_1, values),
                f"MoSEAR contract v{CONTRACT_1_1}: {NAME} (random weights)", out_path,
                DYNAMIC_AXES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="fixtures")
    ap.add_argument("--no-golden", action="store_true", help="write only the .onnx file")
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    model = build_model()
    onnx_path = os.path.join(a.out, f"{NAME}.onnx")
    export_fixture(model, onnx_path)
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path) / 1e6:.2f} MB)")
    if a.no_golden:
        return
    doc = golden(model, f"{NAME}.onnx")
    golden_path = os.path.join(a.out, f"{NAME}.golden.json")
    with open(golden_path, "w") as f:
        json.dump(doc, f)
    for c in doc["cases"]:
        print(c["name"], json.dumps(c["checks"]))
    print(f"wrote {golden_path} ({os.path.getsize(golden_path) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
