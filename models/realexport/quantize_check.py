"""The measured effect of `realexport quantize` through the product's own path:
`python3 -m realexport.quantize_check [--model M.onnx …] [--clips C.mp4 …]` (run from models/;
needs `node scripts/test.mjs build` first, for dist/cli/main.js, and onnxruntime-node).

For each model (default: the committed miniature export and the shipped mosear-tiny) it writes
int4 and int8 copies (asymmetric, block 32) to a temporary folder, analyses every clip (default
models/samples/*.mp4) with `mosear-lens analyze <clip> --model … --mode ar --ep cpu --json` for
the float32 model and each copy, and prints a Markdown table: file size (the .onnx plus its
external data), the label logits' largest absolute difference from float32 (over the AR run and
the baseline run of every clip), how many predictions agree, and how many AR head flags agree.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

import numpy as np

from .quantize import quantize_model

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(MODELS_DIR)
CLI = os.path.join(ROOT, "dist", "cli", "main.js")
DEFAULT_MODELS = [os.path.join(MODELS_DIR, "fixtures", "realexport", "emotion-llama-mini.onnx"),
                  os.path.join(MODELS_DIR, "checkpoints", "mosear-tiny.onnx")]


def size_on_disk(path: str) -> int:
    data = path + ".data"
    return os.path.getsize(path) + (os.path.getsize(data) if os.path.exists(data) else 0)


def analyze(clip: str, model: str, node: str = "node") -> Dict:
    out = subprocess.run([node, CLI, "analyze", clip, "--model", model, "--mode", "ar",
                          "--ep", "cpu", "--no-thumbnails", "--no-sidecar", "--quiet",
                          "--json", "-"], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"analyze {clip} --model {model} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def compare(ref: List[Dict], other: List[Dict]) -> Dict:
    diff, preds, pred_total, flags, flag_total, flagged = 0.0, 0, 0, 0, 0, 0
    for a, b in zip(ref, other):
        for run in ("intervention", "baseline"):
            ra, rb = a[run], b[run]
            diff = max(diff, float(np.max(np.abs(np.array(ra["logits"]) - np.array(rb["logits"])))))
            preds += int(ra["prediction"]["index"] == rb["prediction"]["index"])
            pred_total += 1
        fa = np.array(a["intervention"]["arFlags"]).ravel()
        fb = np.array(b["intervention"]["arFlags"]).ravel()
        flags += int((fa == fb).sum())
        flag_total += int(fa.size)
        flagged += int(fa.sum())
    return {"max_logit_diff": diff, "predictions": f"{preds}/{pred_total}",
            "flags": f"{flags}/{flag_total} ({flagged} flagged in float32)"}


def measure(models: List[str], clips: List[str], node: str = "node",
            variants=((4, 32), (8, 32))) -> List[Dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            stem = os.path.splitext(os.path.basename(model))[0]
            ref = [analyze(c, model, node) for c in clips]
            rows.append({"model": stem, "variant": "float32", "bytes": size_on_disk(model),
                         "matmuls": "", "max_logit_diff": 0.0,
                         "predictions": "—", "flags": "—"})
            for bits, block in variants:
                out = os.path.join(tmp, f"{stem}-int{bits}.onnx")
                info = quantize_model(model, out, bits=bits, block_size=block)
                res = [analyze(c, out, node) for c in clips]
                rows.append({"model": stem, "variant": f"int{bits} block {block}",
                             "bytes": size_on_disk(out), "matmuls": info["matmuls"],
                             **compare(ref, res)})
    return rows


def table(rows: List[Dict], clips: int) -> str:
    lines = [f"| model | weights | size (bytes) | MatMuls → MatMulNBits | max abs Δ label logit "
             f"| predictions agree ({clips} clips × AR, baseline) | AR flags agree |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['variant']} | {r['bytes']:,} | {r['matmuls']} | "
                     f"{r['max_logit_diff']:.2g} | {r['predictions']} | {r['flags']} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m realexport.quantize_check",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help="float32 contract model (repeatable)")
    ap.add_argument("--clips", nargs="*", default=None)
    ap.add_argument("--node", default="node")
    ap.add_argument("--json", default=None, help="also write the rows as JSON")
    a = ap.parse_args(argv)
    if not os.path.exists(CLI):
        print(f"error: {CLI} is missing; run `node scripts/test.mjs build` first", file=sys.stderr)
        return 2
    clips = a.clips or sorted(glob.glob(os.path.join(MODELS_DIR, "samples", "*.mp4")))
    rows = measure(a.model or DEFAULT_MODELS, clips, a.node)
    print(table(rows, len(clips)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
