"""Head-gate golden cases: contract-1.1 outputs (with `layer_logits`) computed by PyTorch with a
`head_gate` fed, for the golden tier's knockout checks on the shipped checkpoints
(models/golden/<name>.gate.json; models/golden/README.md).

Usage (from models/): python3 -m mosear.gate_golden <checkpoint.pt> <name> [--out golden]
The cases reuse the controls of models/golden/<name>.json (whose thresholds are already nudged
away from every statistic): for its "off" and "ar-share-tau0-alpha0.5" cases on two inputs, the
gate all ones, one head knocked out (layer 0 head 1, layer 2 head 3) and every head flagged in
that case knocked out at once.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Dict, List

import numpy as np
import torch

from .export import load_checkpoint
from .golden import MIN_DISTANCE, make_controls, read_input, threshold_distance
from .model import MoSEARModel, contract_outputs

INPUTS = ("sample-audio-aligned-surprise", "sample-consistent-happy")
CASES = ("off", "ar-share-tau0-alpha0.5")
SINGLE_HEADS = ((0, 1), (2, 3))


def gates(model: MoSEARModel, flags: np.ndarray) -> List[tuple]:
    """(suffix, gate [L][Hh]) for one golden case."""
    L, H = model.cfg.layers, model.cfg.heads
    out = [("gate-ones", np.ones((L, H), np.float32))]
    for layer, head in SINGLE_HEADS:
        g = np.ones((L, H), np.float32)
        g[layer, head] = 0
        out.append((f"knockout-L{layer}.H{head}", g))
    if flags.sum() > 0:
        out.append(("knockout-flagged", (flags < 0.5).astype(np.float32)))
    return out


def build(model: MoSEARModel, name: str, golden_dir: str) -> Dict[str, Any]:
    with open(os.path.join(golden_dir, f"{name}.json")) as f:
        base = json.load(f)
    doc: Dict[str, Any] = {"checkpoint": name, "model": base["model"],
                           "generated_by": "models/mosear/gate_golden.py", "tolerance": 1e-4,
                           "inputs": {k: base["inputs"][k] for k in INPUTS}, "cases": []}
    prompt = torch.tensor([model.cfg.prompt_ids()], dtype=torch.int64)
    for iid in INPUTS:
        frames, audio = read_input(os.path.join(golden_dir, "inputs", iid), model.cfg)
        for cname in CASES:
            case = next(c for c in base["cases"] if c["name"] == f"{iid}/{cname}")
            ctl = case["controls"]
            flags = np.array(case["expected"]["ar_flags"]["data"], np.float32).reshape(
                model.cfg.layers, model.cfg.heads)
            for suffix, gate in gates(model, flags):
                out = contract_outputs(model, frames, audio, prompt,
                                       make_controls(model.cfg, ctl), torch.from_numpy(gate),
                                       layer_logits=True)
                if ctl["ar_mode"] == 1:
                    dist = threshold_distance(out["modality_mass"], ctl, model.cfg)
                    if dist < MIN_DISTANCE:
                        raise RuntimeError(f"{iid}/{cname}/{suffix}: a statistic sits within "
                                           f"{dist} of its threshold")
                doc["cases"].append({
                    "name": f"{iid}/{cname}/{suffix}", "input": iid,
                    "prompt_ids": case["prompt_ids"], "controls": ctl,
                    "head_gate": gate.tolist(),
                    "expected": {k: {"shape": list(v.shape), "data": v.reshape(-1).tolist()}
                                 for k, v in out.items()},
                    "checks": {"prediction": int(np.argmax(out["logits"])),
                               "knocked_out": int((gate == 0).sum())},
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
    with open(os.path.join(a.out, f"{a.name}.gate.json"), "w") as f:
        json.dump(doc, f)
    for c in doc["cases"]:
        print(c["name"], json.dumps(c["checks"]))


if __name__ == "__main__":
    main()
