"""Audio-repeat golden cases: contract-1.2 outputs (with `head_gate` all ones and
`layer_logits`) computed by PyTorch with `audio_repeat` k fed, for the golden tier's check of the
token-imbalance probe on the shipped checkpoints (models/golden/<name>.repeat.json;
models/golden/README.md).

Usage (from models/): python3 -m mosear.repeat_golden <checkpoint.pt> <name> [--out golden]
The cases reuse the controls of models/golden/<name>.json ("off", and AR with the share
statistic, which does not depend on |A|) on two inputs, at k = 2 and 8: the sequence has
Nv + k + P positions and |A| = k (CONTRACT.md §1c).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Dict

import numpy as np
import torch

from .export import load_checkpoint
from .golden import MIN_DISTANCE, make_controls, read_input, threshold_distance
from .model import MoSEARModel, contract_outputs

INPUTS = ("sample-audio-aligned-surprise", "sample-consistent-happy")
CASES = ("off", "ar-share-tau0-alpha0.5")
REPEATS = (2, 8)


def build(model: MoSEARModel, name: str, golden_dir: str) -> Dict[str, Any]:
    with open(os.path.join(golden_dir, f"{name}.json")) as f:
        base = json.load(f)
    doc: Dict[str, Any] = {"checkpoint": name, "model": base["model"],
                           "generated_by": "models/mosear/repeat_golden.py", "tolerance": 1e-4,
                           "inputs": {k: base["inputs"][k] for k in INPUTS}, "cases": []}
    prompt = torch.tensor([model.cfg.prompt_ids()], dtype=torch.int64)
    for iid in INPUTS:
        frames, audio = read_input(os.path.join(golden_dir, "inputs", iid), model.cfg)
        for cname in CASES:
            case = next(c for c in base["cases"] if c["name"] == f"{iid}/{cname}")
            ctl = case["controls"]
            for k in REPEATS:
                out = contract_outputs(model, frames, audio, prompt,
                                       make_controls(model.cfg, ctl), layer_logits=True,
                                       audio_repeat=k)
                if ctl["ar_mode"] == 1:
                    dist = threshold_distance(out["modality_mass"], ctl, model.cfg)
                    if dist < MIN_DISTANCE:
                        raise RuntimeError(f"{iid}/{cname}/k{k}: a statistic sits within "
                                           f"{dist} of its threshold")
                doc["cases"].append({
                    "name": f"{iid}/{cname}/k{k}", "input": iid,
                    "prompt_ids": case["prompt_ids"], "controls": ctl, "audio_repeat": k,
                    "expected": {n: {"shape": list(v.shape), "data": v.reshape(-1).tolist()}
                                 for n, v in out.items()},
                    "checks": {"prediction": int(np.argmax(out["logits"]))},
                })
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("checkpoint")
    ap.add_argument("name")
    ap.add_argument("--out", default="golden")
    a = ap.parse_args()
    torch.set_num_threads(2)
    model, _ = load_checkpoint(a.checkpoint)
    doc = build(model, a.name, a.out)
    path = os.path.join(a.out, f"{a.name}.repeat.json")
    with open(path, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"wrote {path} ({len(doc['cases'])} cases)")


if __name__ == "__main__":
    main()
