"""How far the decoders' 448 × 448 frame is from Emotion-LLaMA's own preprocessing, and what that
does to the label logits: `python3 -m realexport.resize_check [CLIP …]` (run from models/;
needs ffmpeg and python3-pil).

Emotion-LLaMA's eval processor resizes the first frame, a PIL image, to 448 × 448 with PIL's
BICUBIC (which widens its kernel, i.e. antialiases, when downscaling), no crop, then CLIP's
mean/std. The decoders (TypeScript system ffmpeg and ffmpeg.wasm, `mosear/decode.py`) produce the
frame with the export's decode spec (contract 1.1 `frame_times` first, `resize` squash,
`scale_flags` bicubic): one swscale pass `scale=448:448:flags=bicubic` from the stream's YUV.

For each clip this script decodes the first frame at its native size as rgb24, resizes it with
PIL (the reference), and compares, after CLIP normalisation, (max and mean |Δ|):
- the project's decoder output (`mosear.decode.decode_frame` with the miniature export's
  metadata decode spec), and
- swscale variants: `bicubic+accurate_rnd+full_chroma_int`, `lanczos`, `area`, and bicubic
  applied to the rgb24 frame (`format=rgb24,scale=…`) with swscale's default kernel
  (B 0, C 0.6) and with PIL's (Keys a = −0.5: `param0=0:param1=0.5`).
Then it runs the miniature export's PyTorch module (the exporter's own forward, rebuilt from the
seeded miniature and checked against the committed golden; onnxruntime for Python is not needed)
on the PIL frame and on each decoder frame with the clip's audio, AR off, and reports the label
logits' max |Δ|, the label probabilities' max |Δ| and whether the predicted label agrees.

`--testsrc DIR` also writes ffmpeg `testsrc` clips at 1280 × 720 and 320 × 240 into DIR and checks
them (sharp synthetic edges: a worst case for filter differences). `--json FILE` writes the rows.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

import numpy as np

from mosear import decode as mdecode

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.dirname(HERE)
MODEL = os.path.join(MODELS_DIR, "fixtures", "realexport", "emotion-llama-mini.onnx")
GOLDEN = os.path.join(MODELS_DIR, "fixtures", "realexport", "emotion-llama-mini.golden.json")
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)[:, None, None]
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)[:, None, None]

#: swscale variants: name → the -vf chain (W, H substituted)
VARIANTS: List[Tuple[str, str]] = [
    ("bicubic+accurate_rnd+full_chroma_int",
     "scale={w}:{h}:flags=bicubic+accurate_rnd+full_chroma_int"),
    ("lanczos", "scale={w}:{h}:flags=lanczos"),
    ("area", "scale={w}:{h}:flags=area"),
    ("rgb24, then bicubic", "format=rgb24,scale={w}:{h}:flags=bicubic"),
    ("rgb24, then bicubic a=−0.5 (PIL's kernel), accurate_rnd",
     "format=rgb24,scale={w}:{h}:flags=bicubic+accurate_rnd:param0=0:param1=0.5"),
    ("rgb24 (accurate, bitexact), then bicubic (accurate, bitexact)",
     "scale=iw:ih:flags=bicubic+accurate_rnd+bitexact+full_chroma_int,format=rgb24,"
     "scale={w}:{h}:flags=bicubic+accurate_rnd+bitexact"),
]


def metadata(path: str) -> Dict[str, object]:
    import onnx
    m = onnx.load(path, load_external_data=False)
    return {p.key: (p.value if p.key == "mosear.contract" else json.loads(p.value))
            for p in m.metadata_props}


def decode_spec(meta: Dict[str, object]) -> mdecode.DecodeSpec:
    """The frame part of the export's decode spec (audio fields as the metadata gives them)."""
    dec, fr, au = meta["mosear.decode"], meta["mosear.frames"], meta["mosear.audio"]
    assert isinstance(dec, dict) and isinstance(fr, dict) and isinstance(au, dict)
    variable = au.get("length") == "variable"
    return mdecode.DecodeSpec(
        frames=fr["count"], height=fr["height"], width=fr["width"],
        sample_rate_hz=au["sample_rate_hz"], samples=au["samples"],
        frame_times=dec["frame_times"], resize=dec["resize"], scale_flags=dec["scale_flags"],
        audio_window=dec["audio_window"], audio_length="variable" if variable else "fixed",
        min_samples=au.get("min_samples") if variable else None)


def _rgb(args: List[str], w: int, h: int) -> np.ndarray:
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    if len(raw) < w * h * 3:
        raise RuntimeError(f"{' '.join(args)}: no frame")
    return np.frombuffer(raw[: w * h * 3], np.uint8).reshape(h, w, 3)


def native_size(path: str) -> Tuple[int, int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height", "-of", "csv=p=0", path],
                         capture_output=True, text=True, check=True).stdout
    w, h = (int(x) for x in out.strip().splitlines()[0].split(",")[:2])
    return w, h


def first_frame(path: str, vf: Optional[str], w: int, h: int) -> np.ndarray:
    """The first frame as uint8 [h, w, 3], through `vf` (None: native size)."""
    args = ["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-frames:v", "1"]
    if vf:
        args += ["-vf", vf]
    return _rgb(args + ["-pix_fmt", "rgb24", "-f", "rawvideo", "-"], w, h)


def pil_resize(native: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.fromarray(native, "RGB").resize((w, h), Image.BICUBIC))


def chw(img: np.ndarray) -> np.ndarray:
    return (img.astype(np.float32) / 255.0).transpose(2, 0, 1).copy()


def normalised_diff(a: np.ndarray, b: np.ndarray) -> Tuple[float, float]:
    """max and mean |Δ| of two [3, H, W] frames in [0, 1] after CLIP normalisation."""
    d = np.abs((a - CLIP_MEAN) / CLIP_STD - (b - CLIP_MEAN) / CLIP_STD)
    return float(d.max()), float(d.mean())


class Miniature:
    """The committed miniature export's PyTorch module (the exporter's own forward)."""

    def __init__(self, work: str) -> None:
        import torch

        from . import golden
        from .miniature import generate
        torch.set_num_threads(2)
        self.model, _ = golden.build(generate(os.path.join(work, "mini")),
                                     transcript=golden.TRANSCRIPT)
        self.ctl = golden.controls(self.model, 0, 2, 0.0, 0.0)
        with open(GOLDEN) as f:
            ref = json.load(f)
        case = next(c for c in ref["cases"] if c["name"] == "a/off")
        inp = ref["inputs"]["a"]
        frames, audio = golden.recipe(inp["generator"]["seed"], inp["frames_shape"][-1],
                                      inp["audio_shape"][-1])
        got = self.run(frames.numpy()[0, 0], audio.numpy()[0])["logits"]
        want = np.array(case["expected"]["logits"]["data"], np.float32)
        if float(np.max(np.abs(got - want))) > ref["tolerance"]:
            raise RuntimeError("the rebuilt miniature does not reproduce the committed golden")

    def run(self, frame: np.ndarray, audio: np.ndarray) -> Dict[str, np.ndarray]:
        import torch

        from .export import example_inputs, run_outputs
        args = example_inputs(self.model, ctl=self.ctl)
        args[0] = torch.from_numpy(frame[None, None].astype(np.float32))
        args[1] = torch.from_numpy(audio[None].astype(np.float32))
        out = run_outputs(self.model, args)
        return {"logits": out["logits"][0], "greedy": out["greedy_token"]}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def check_clip(path: str, spec: mdecode.DecodeSpec, mini: Optional[Miniature]) -> Dict:
    w, h = native_size(path)
    native = first_frame(path, None, w, h)
    ref = chw(pil_resize(native, spec.width, spec.height))
    pr = mdecode.probe(path)
    frames = {"decoder (" + spec.filter + ")": mdecode.decode_frame(path, 0.0, pr.duration_s,
                                                                    spec=spec)}
    for name, vf in VARIANTS:
        frames[name] = chw(first_frame(path, vf.format(w=spec.width, h=spec.height),
                                       spec.width, spec.height))
    row: Dict = {"clip": os.path.basename(path), "native": f"{w}x{h}", "frames": {}}
    base = None
    if mini is not None:
        audio = (mdecode.decode_audio(path, pr.duration_s, spec) if pr.has_audio
                 else np.zeros(spec.min_samples or spec.samples, np.float32))
        base = mini.run(ref, audio)
    for name, frame in frames.items():
        mx, mean = normalised_diff(frame, ref)
        entry: Dict = {"max_abs": mx, "mean_abs": mean}
        if mini is not None and base is not None:
            out = mini.run(frame, audio)
            entry["logit_max_abs"] = float(np.max(np.abs(out["logits"] - base["logits"])))
            entry["prob_max_abs"] = float(np.max(np.abs(softmax(out["logits"])
                                                        - softmax(base["logits"]))))
            entry["prediction_agrees"] = bool(np.argmax(out["logits"])
                                              == np.argmax(base["logits"]))
            entry["greedy_agrees"] = bool(np.array_equal(out["greedy"], base["greedy"]))
        row["frames"][name] = entry
    return row


def testsrc_clips(out_dir: str) -> List[str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for w, h in ((1280, 720), (320, 240)):
        p = os.path.join(out_dir, f"testsrc-{w}x{h}.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                        f"testsrc=size={w}x{h}:rate=10:duration=1", "-f", "lavfi", "-i",
                        "sine=frequency=440:sample_rate=16000:duration=1", "-shortest",
                        "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", p],
                       check=True)
        paths.append(p)
    return paths


def table(rows: List[Dict]) -> str:
    lines = ["| clip (native) | frame | max \\|Δ\\| | mean \\|Δ\\| | max \\|Δ logit\\| "
             "| max \\|Δ p\\| | same label |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        for name, e in r["frames"].items():
            logit = f"{e['logit_max_abs']:.3g}" if "logit_max_abs" in e else "—"
            prob = f"{e['prob_max_abs']:.3g}" if "prob_max_abs" in e else "—"
            same = ("yes" if e["prediction_agrees"] else "no") if "prediction_agrees" in e else "—"
            lines.append(f"| {r['clip']} ({r['native']}) | {name} | {e['max_abs']:.3f} | "
                         f"{e['mean_abs']:.4f} | {logit} | {prob} | {same} |")
    return "\n".join(lines)


def summary(rows: List[Dict]) -> str:
    """Per frame variant, over all clips: the largest max |Δ|, the mean of the mean |Δ|, the
    largest logit change and how many clips keep the PIL frame's label."""
    names = list(rows[0]["frames"]) if rows else []
    lines = ["| frame | max \\|Δ\\| (worst clip) | mean \\|Δ\\| (average) "
             "| max \\|Δ logit\\| | same label |", "|---|---|---|---|---|"]
    for name in names:
        es = [r["frames"][name] for r in rows]
        logit = (f"{max(e['logit_max_abs'] for e in es):.3g}" if "logit_max_abs" in es[0]
                 else "—")
        same = (f"{sum(e['prediction_agrees'] for e in es)}/{len(es)}"
                if "prediction_agrees" in es[0] else "—")
        lines.append(f"| {name} | {max(e['max_abs'] for e in es):.3f} | "
                     f"{np.mean([e['mean_abs'] for e in es]):.4f} | {logit} | {same} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m realexport.resize_check",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="*", help="default: models/samples/*.mp4")
    ap.add_argument("--model", default=MODEL, help="export whose metadata gives the decode spec")
    ap.add_argument("--testsrc", default=None, metavar="DIR",
                    help="also generate and check testsrc clips at 1280x720 and 320x240")
    ap.add_argument("--no-logits", action="store_true", help="pixels only (no model run)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    clips = a.clips or sorted(glob.glob(os.path.join(MODELS_DIR, "samples", "*.mp4")))
    if a.testsrc:
        clips += testsrc_clips(a.testsrc)
    spec = decode_spec(metadata(a.model))
    with tempfile.TemporaryDirectory(prefix="resize-check-") as work:
        mini = None if a.no_logits else Miniature(work)
        rows = [check_clip(c, spec, mini) for c in clips]
    print(table(rows))
    print()
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
