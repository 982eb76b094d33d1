"""Shared fixtures of the python tier (run from models/: python3 -m pytest tests)."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Tuple

import pytest
import torch

MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if MODELS not in sys.path:
    sys.path.insert(0, MODELS)

from mosear import recover  # noqa: E402 (needs models/ on the path)

CHECKPOINTS = ["emotion-llama-tiny", "mosear-tiny"]

torch.set_num_threads(2)


def path(*parts: str) -> str:
    return os.path.join(MODELS, *parts)


@pytest.fixture(scope="session")
def recovered() -> Dict[str, Dict[str, Any]]:
    """Each v1 ONNX file (shipped until contract 1.1, models/fixtures/v1) recovered afresh (one
    template export per checkpoint)."""
    return {name: recover.recover(path("fixtures", "v1", f"{name}.onnx")) for name in CHECKPOINTS}


@pytest.fixture(scope="session")
def committed() -> Dict[str, Dict[str, Any]]:
    """The committed .pt files."""
    return {name: torch.load(path("checkpoints", f"{name}.pt"), map_location="cpu")
            for name in CHECKPOINTS}


def sample(name: str) -> Tuple[str, str]:
    return path("golden", "inputs", name), path("samples", name)
