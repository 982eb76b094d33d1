"""The PyTorch route of `npm run bench` (issue 16, "The record"): what a researcher would run
instead of the tool, driven by bench/record.ts over stdin/stdout (one JSON object per line).

The same weights as the ONNX files (the recovered state dict of the shipped checkpoint, the
full-shape fixture's seeded builder), the same decoded tensors (raw float32 files the harness
wrote from the project's decoder), one forward per new setting with the baseline (ar_mode 0)
kept from the first run, the answer row only (the models' in-graph probes read the last row),
`torch.inference_mode()`, OPENBLAS_NUM_THREADS=1 and the better of 1 and 2 threads.

Usage (from the repository root, Debian's /usr/bin/python3 with python3-torch):
  OPENBLAS_NUM_THREADS=1 python3 bench/torch_route.py serve
  OPENBLAS_NUM_THREADS=1 python3 bench/torch_route.py analyze CLIP   (a cold analyze, tiny)
  python3 bench/torch_route.py variant OUT.onnx (the ~1000-position model: new metadata)
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mosear.decode import DecodeSpec, decode_clip  # noqa: E402
from mosear.export import load_checkpoint  # noqa: E402
from mosear.fullshape import FullShapeConfig  # noqa: E402
from mosear.model import Controls  # noqa: E402

TINY = os.path.join(ROOT, "models", "checkpoints", "mosear-tiny.pt")
FIXTURE = os.path.join(ROOT, "models", "fixtures", "emotion-llama-fullshape.onnx")
#: The ~1000-position variant's transcript cap (bench/record.ts sends 711 words: N = 1,031).
N1000_WORDS = 720


def load(kind: str) -> Tuple[torch.nn.Module, Any]:
    """(model in eval mode, its config) for `tiny`, `fixture` or `n1000`."""
    if kind == "tiny":
        model, _ = load_checkpoint(TINY)
        return model, model.cfg
    from mosear.fixture import build_model
    # The ~1000-position variant has the fixture's weights; only its transcript cap differs.
    cfg = FullShapeConfig(transcript_max_tokens=N1000_WORDS if kind == "n1000" else 64)
    model = build_model(cfg)
    return model, cfg


def controls(cfg: Any, c: Dict[str, Any]) -> Controls:
    return Controls.make(cfg, mode=c["mode"], tau=c["tau"], kind=c["ratioKind"],
                         margin=c["headMargin"], alpha=c["alpha"], pai_alpha=c["paiAlpha"],
                         layers=c["layers"], override=np.array(c["headOverride"], np.float64))


def forward(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...], ctl: Controls
            ) -> Dict[str, torch.Tensor]:
    """One forward: the logits and the answer row's probes (what the analysis reads)."""
    with torch.inference_mode():
        out = model.run(*inputs, ctl)
    logits, probes = out[0], out[1]
    ps = [p for p in probes if p is not None]
    return {"logits": logits[0], "mass": torch.stack([p.mass_after[0] for p in ps]),
            "flags": torch.stack([p.flags[0] for p in ps]),
            "row": torch.stack([p.row_after[0] for p in ps])}


def read_inputs(cfg: Any, kind: str, frames: str, audio: Optional[str],
                prompt_ids: List[int]) -> Tuple[torch.Tensor, ...]:
    fr = torch.from_numpy(np.fromfile(frames, dtype="<f4"))
    au = torch.from_numpy(np.fromfile(audio, dtype="<f4")) if audio else None
    if kind == "tiny":
        fr = fr.reshape(1, cfg.frames, 3, cfg.height, cfg.width)
        au = au if au is not None else torch.zeros(cfg.audio_samples)
        return fr, au.reshape(1, -1), torch.tensor([prompt_ids], dtype=torch.int64)
    fr = fr.reshape(1, 1, 3, cfg.frame_px, cfg.frame_px)
    au = au if au is not None else torch.zeros(cfg.min_audio_samples)
    return fr, au.reshape(1, -1), torch.tensor([prompt_ids], dtype=torch.int64)


class Route:
    """The researcher's notebook: a loaded model, decoded clips, kept baselines."""

    def __init__(self) -> None:
        self.model: Optional[torch.nn.Module] = None
        self.cfg: Any = None
        self.kind = ""
        self.inputs: Dict[str, Tuple[torch.Tensor, ...]] = {}
        self.baselines: Dict[str, Dict[str, torch.Tensor]] = {}

    def baseline(self, key: str) -> Dict[str, torch.Tensor]:
        if key not in self.baselines:
            off = {"mode": 0, "tau": [0.0] * self.cfg.layers, "ratioKind": 2, "headMargin": 0.0,
                   "alpha": 0.0, "paiAlpha": 0.0, "layers": [1.0] * self.cfg.layers,
                   "headOverride": [[0.0] * self.cfg.heads] * self.cfg.layers}
            self.baselines[key] = forward(self.model, self.inputs[key], controls(self.cfg, off))
        return self.baselines[key]

    def handle(self, req: Dict[str, Any]) -> Dict[str, Any]:
        op = req["op"]
        if op == "load":
            torch.set_num_threads(int(req.get("threads", 1)))
            if req["kind"] != self.kind:
                self.model, self.cfg = load(req["kind"])
                self.kind = req["kind"]
                self.inputs.clear()
                self.baselines.clear()
            return {"threads": torch.get_num_threads(), "torch": torch.__version__}
        if op == "threads":
            torch.set_num_threads(int(req["threads"]))
            return {"threads": torch.get_num_threads()}
        if op == "inputs":
            self.inputs[req["key"]] = read_inputs(self.cfg, self.kind, req["frames"],
                                                  req.get("audio"), req["promptIds"])
            self.baselines.pop(req["key"], None)
            started = time.perf_counter()
            self.baseline(req["key"])
            return {"baselineMs": (time.perf_counter() - started) * 1e3}
        if op == "rerun":
            # One forward with new settings per key (a sweep step passes every clip's key).
            started = time.perf_counter()
            logits = []
            for key in req["keys"]:
                self.baseline(key)
                out = forward(self.model, self.inputs[key], controls(self.cfg, req["controls"]))
                logits.append(out["logits"].tolist())
            return {"ms": (time.perf_counter() - started) * 1e3, "logits": logits}
        if op == "analyze":
            # A full analyze warm: the Python decoder, then the baseline and the AR run.
            started = time.perf_counter()
            out = analyze_clip(self.model, self.cfg, req["clip"], req["controls"],
                               req.get("promptIds"))
            return {"ms": (time.perf_counter() - started) * 1e3, "logits": out}
        if op == "evaluate":
            # Evaluation with decode: the Python decoder (one process for all frames) and the
            # evaluation's three settings per clip (off, AR, PAI-style), tiny model.
            started = time.perf_counter()
            L, H = self.cfg.layers, self.cfg.heads
            off = {"mode": 0, "tau": [0.0] * L, "ratioKind": 2, "headMargin": 0.0, "alpha": 0.3,
                   "paiAlpha": 0.5, "layers": [1.0] * L, "headOverride": [[0.0] * H] * L}
            settings = [controls(self.cfg, dict(off, mode=m)) for m in (0, 1, 2)]
            for clip in req["clips"]:
                frames, audio, _ = decode_clip(clip, spec_of(self.cfg, self.kind))
                au = audio if audio is not None else np.zeros(self.cfg.audio_samples, np.float32)
                inputs = (torch.from_numpy(frames[None]), torch.from_numpy(au[None]),
                          torch.tensor([self.cfg.prompt_ids()], dtype=torch.int64))
                for ctl in settings:
                    forward(self.model, inputs, ctl)
            return {"ms": (time.perf_counter() - started) * 1e3}
        raise ValueError(f"unknown op {op}")


def spec_of(cfg: Any, kind: str) -> DecodeSpec:
    if kind == "tiny":
        return DecodeSpec(frames=cfg.frames, height=cfg.height, width=cfg.width,
                          samples=cfg.audio_samples)
    return DecodeSpec(frames=1, height=cfg.frame_px, width=cfg.frame_px, frame_times="first",
                      resize="squash", scale_flags="bicubic", audio_window="from-start",
                      audio_length="variable", samples=cfg.max_audio_samples,
                      min_samples=cfg.min_audio_samples)


def analyze_clip(model: torch.nn.Module, cfg: Any, clip: str, ctl: Dict[str, Any],
                 prompt_ids: Optional[List[int]] = None) -> List[float]:
    """Decode (the Python decoder) and run the baseline and the AR setting: a full analyze."""
    frames, audio, _ = decode_clip(clip, spec_of(cfg, "tiny"))
    au = audio if audio is not None else np.zeros(cfg.audio_samples, np.float32)
    ids = prompt_ids if prompt_ids is not None else cfg.prompt_ids()
    inputs = (torch.from_numpy(frames[None]), torch.from_numpy(au[None]),
              torch.tensor([ids], dtype=torch.int64))
    off = dict(ctl, mode=0)
    forward(model, inputs, controls(cfg, off))
    return forward(model, inputs, controls(cfg, ctl))["logits"].tolist()


def serve() -> None:
    route = Route()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = route.handle(json.loads(line))
        except Exception as error:  # the harness reports it and stops
            reply = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def cold_analyze(clip: str) -> None:
    """A fresh process: import torch, load the shipped checkpoint, decode, two forwards."""
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    model, cfg = load("tiny")
    L, H = cfg.layers, cfg.heads
    ctl = {"mode": 1, "tau": [0.0] * L, "ratioKind": 2, "headMargin": 0.0, "alpha": 0.3,
           "paiAlpha": 0.5, "layers": [1.0] * L, "headOverride": [[0.0] * H] * L}
    print(json.dumps(analyze_clip(model, cfg, clip, ctl)))


def export_variant(out_path: str) -> None:
    """The fixture at ~1000 positions: the same graph and weights (its prompt axis is dynamic), with
    metadata that lets the transcript slot hold N1000_WORDS words, so a long transcript gives
    N = 320 + its words. No re-export: tracing at N ~1000 would need ~16 GB."""
    import onnx

    proto = onnx.load(FIXTURE)
    for prop in proto.metadata_props:
        if prop.key == "mosear.prompt":
            value = json.loads(prop.value)
            value["slots"]["transcript"]["max_tokens"] = N1000_WORDS
            prop.value = json.dumps(value)
        elif prop.key == "mosear.checkpoint":
            value = json.loads(prop.value)
            value["name"] = "emotion-llama-fullshape-n1000"
            prop.value = json.dumps(value)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    onnx.save(proto, out_path)
    print(out_path)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "serve":
        serve()
    elif command == "analyze" and len(sys.argv) == 3:
        cold_analyze(sys.argv[2])
    elif command == "variant" and len(sys.argv) == 3:
        export_variant(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
