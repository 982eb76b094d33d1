"""golden.py on the recovered checkpoints reproduces models/golden (one input, both models)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mosear import golden
from mosear.export import load_checkpoint
from mosear.model import contract_outputs

from conftest import CHECKPOINTS, path

INPUT = "sample-consistent-happy"
#: The golden tier's own tolerance; under the BLAS that wrote models/golden (OpenBLAS, Haswell
#: kernels) the outputs are bit-identical, under others they differ by ~3e-6.
TOLERANCE = 1e-4


def cases(name: str):
    with open(path("golden", f"{name}.json")) as f:
        doc = json.load(f)
    return doc, [c for c in doc["cases"] if c["input"] == INPUT]


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_golden_cases_reproduce(name):
    model, _ = load_checkpoint(path("checkpoints", f"{name}.pt"))
    doc, expected = cases(name)
    frames, audio = golden.read_input(path("golden", "inputs", INPUT), model.cfg)
    prompt = torch.tensor([model.cfg.prompt_ids()], dtype=torch.int64)
    assert expected
    for case in expected:
        out = contract_outputs(model, frames, audio, prompt,
                               golden.make_controls(model.cfg, case["controls"]))
        assert sorted(out) == sorted(case["expected"])
        for key, want in case["expected"].items():
            got = out[key]
            assert list(got.shape) == want["shape"], (case["name"], key)
            err = np.abs(got.reshape(-1) - np.array(want["data"], np.float64)).max()
            assert err <= TOLERANCE, (case["name"], key, err)


def test_golden_build_matches_on_one_input(tmp_path):
    name = "mosear-tiny"
    model, _ = load_checkpoint(path("checkpoints", f"{name}.pt"))
    doc = golden.build(model, name, [path("golden", "inputs", INPUT)], str(tmp_path),
                       f"../checkpoints/{name}.onnx")
    shipped, expected = cases(name)
    assert [c["name"] for c in doc["cases"]] == [c["name"] for c in expected]
    for ours, theirs in zip(doc["cases"], expected):
        assert ours["checks"]["prediction"] == theirs["checks"]["prediction"]
        assert ours["checks"]["flagged"] == theirs["checks"]["flagged"]
        for key, want in theirs["expected"].items():
            err = np.abs(np.array(ours["expected"][key]["data"]) - np.array(want["data"])).max()
            assert err <= TOLERANCE, (ours["name"], key, err)
    assert {k: v for k, v in doc.items() if k not in ("cases", "inputs")} == \
        {k: v for k, v in shipped.items() if k not in ("cases", "inputs")}
