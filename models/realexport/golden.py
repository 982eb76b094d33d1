"""The exported miniature and its PyTorch goldens (models/fixtures/realexport/).

`python3 -m realexport.golden [out-dir]` generates the miniature of the real files in a
temporary folder, exports it with the transcript as a slot (contract 1.1's `sentencepiece`
tokenizer kind, the model's tokenizer.model beside it) and writes, next to the model,
`<stem>.golden.json`: inputs rebuilt from mosear.fixture's xorshift32 recipe, each with a
transcript and the prompt ids the exporter gives it (one with FaceMAE/VideoMAE feature vectors,
the others with the features' default, zeros), the exporter's own PyTorch outputs for
several control settings, and the prompt ids of more transcripts (`tokenizer_cases`, non-ASCII
included). test/golden/realExportMiniature.test.ts runs the ONNX file through onnxruntime-node on
the same inputs and compares, and checks the TypeScript tokenizer gives the same ids.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from mosear.fixture import xorshift32
from mosear.model import Controls

from .export import FEATURE_INPUTS, example_inputs, export, run_outputs
from .miniature import generate
from .model import EmotionLlama, Options, Sources
from .prompt import segments

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "realexport")
STEM = "emotion-llama-mini"
TRANSCRIPT = "I can't believe you did this to me again"
TOLERANCE = 2e-4
#: (name, xorshift32 seed, audio samples, transcript: None = the slot's default, feature seed:
#: None = the FaceMAE/VideoMAE inputs at their default, zeros)
INPUTS: List[Tuple[str, int, int, Optional[str], Optional[int]]] = [
    ("a", 1, 24000, None, None), ("b", 2, 40000, "Ça va? Je suis très fâché — 我很好!", None),
    ("f", 1, 24000, None, 7)]
#: transcripts whose prompt ids the golden records (the TS tokenizer must give the same)
TOKENIZER_CASES: List[str] = [
    "", TRANSCRIPT, "Ça va? Je suis très fâché — 我很好!", "  two  spaces, a <s> and </s> 😀 ",
    "happy sad neutral angry worried surprise fear contempt doubt"]
#: (case, input, ar_mode, ratio kind, alpha, pai alpha)
CASES: List[Tuple[str, str, int, int, float, float]] = [
    ("a/off", "a", 0, 2, 0.0, 0.0), ("a/ar-share-alpha0.5", "a", 1, 2, 0.5, 0.0),
    ("a/ar-share-alpha0", "a", 1, 2, 0.0, 0.0), ("a/pai", "a", 2, 2, 0.0, 0.5),
    ("b/ar-raw-alpha1", "b", 1, 0, 1.0, 0.0), ("f/off", "f", 0, 2, 0.0, 0.0),
    ("f/ar-share-alpha0.5", "f", 1, 2, 0.5, 0.0)]


def recipe(seed: int, size: int, samples: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """frames [1, 1, 3, size, size] then audio [1, S] from one xorshift32 stream (as
    mosear.fixture.make_input)."""
    n_frame = 3 * size * size
    states = xorshift32(seed, n_frame + samples)
    frames = ((states[:n_frame] >> 24).astype(np.float64) / 255.0).astype(np.float32)
    audio = ((states[n_frame:] >> 8).astype(np.float64) / 16777216.0 - 0.5) * 0.5
    return (torch.from_numpy(frames.reshape(1, 1, 3, size, size)),
            torch.from_numpy(audio.astype(np.float32).reshape(1, samples)))


def feature_vectors(model: EmotionLlama, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Seeded FaceMAE and VideoMAE vectors [1, D] (stored in the golden as float32 values)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, model.feature_dims[0], generator=g),
            torch.randn(1, model.feature_dims[1], generator=g))


def controls(model: EmotionLlama, mode: int, kind: int, alpha: float, pai: float) -> Controls:
    L, H = model.cfg.num_hidden_layers, model.cfg.num_attention_heads
    cfg = type("LH", (), {"layers": L, "heads": H})()
    return Controls.make(cfg, mode=mode, kind=kind, alpha=alpha, pai_alpha=pai,  # type: ignore
                         tau=[0.0] * L, margin=0.0)


def build(miniature: Dict[str, str], mose: bool = False,
          **kw: Any) -> Tuple[EmotionLlama, Sources]:
    sources = Sources(miniature["llama"], miniature["eva"], miniature["hubert"],
                      miniature["mosear" if mose else "checkpoint"],
                      None if mose else miniature["minigptv2"])
    opts = Options(adapter="mose" if mose else "lora", lora_rank=8, **kw)
    return EmotionLlama(sources, opts), sources


def transcript_ids(model: EmotionLlama, transcript: str) -> List[int]:
    """The prompt ids of every text segment with this transcript (what a run feeds)."""
    segs, _ = segments(model.tokenizer, model.opts.assembly, transcript)
    return [i for s in segs for i in s.ids]


def golden_cases(model: EmotionLlama) -> Dict[str, Any]:
    size = model.opts.image_size
    inputs: Dict[str, Any] = {}
    tensors: Dict[str, Tuple[torch.Tensor, torch.Tensor]] = {}
    features: Dict[str, Tuple[torch.Tensor, torch.Tensor]] = {}
    for name, seed, samples, transcript, feature_seed in INPUTS:
        tensors[name] = recipe(seed, size, samples)
        ids = (model.default_prompt_ids() if transcript is None
               else transcript_ids(model, transcript))
        inputs[name] = {"generator": {"kind": "xorshift32", "seed": seed},
                        "frames_shape": [1, 1, 3, size, size], "audio_shape": [1, samples],
                        "transcript": transcript, "prompt_ids": ids}
        if feature_seed is not None:
            features[name] = feature_vectors(model, feature_seed)
            inputs[name]["features"] = {
                key: [float(x) for x in t.reshape(-1).numpy()]
                for key, t in zip(FEATURE_INPUTS, features[name])}
    cases = []
    for case, inp, mode, kind, alpha, pai in CASES:
        ctl = controls(model, mode, kind, alpha, pai)
        args = example_inputs(model, ctl=ctl, prompt_ids=inputs[inp]["prompt_ids"],
                              features=features.get(inp))
        args[0], args[1] = tensors[inp]
        outs = run_outputs(model, args)
        cases.append({
            "name": case, "input": inp,
            "controls": {"ar_mode": mode, "ar_tau": ctl.ar_tau.tolist(), "ar_ratio_kind": kind,
                         "ar_head_margin": 0.0, "ar_alpha": alpha, "pai_alpha": pai,
                         "ar_layers": ctl.ar_layers.tolist(),
                         "ar_head_override": ctl.ar_head_override.tolist()},
            "expected": {k: {"shape": list(v.shape),
                             "data": [float(f"{x:.9g}") for x in v.reshape(-1)]}
                         for k, v in outs.items()}})
    tokenizer_cases = [{"transcript": t, "prompt_ids": transcript_ids(model, t)}
                       for t in TOKENIZER_CASES]
    return {"tolerance": TOLERANCE, "inputs": inputs, "cases": cases,
            "tokenizer_cases": tokenizer_cases}


def write(out_dir: str = FIXTURES, work: Optional[str] = None) -> str:
    torch.set_num_threads(2)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        mini = generate(os.path.join(tmp, "mini"))
        model, sources = build(mini, transcript=TRANSCRIPT)
        out = os.path.join(out_dir, STEM + ".onnx")
        export(model, sources, out, "Emotion-LLaMA miniature (random weights)")
        golden = golden_cases(model)
    os.remove(os.path.join(out_dir, STEM + ".check_original.py"))  # a copy of the source
    path = os.path.join(out_dir, STEM + ".golden.json")
    with open(path, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    return out


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else FIXTURES))
