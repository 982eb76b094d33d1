"""State dicts recovered from the shipped ONNX files (mosear.recover) and their re-export."""

from __future__ import annotations

import hashlib
import json
import pickletools
import zipfile

import numpy as np
import onnx
import pytest
import torch

from mosear import export, recover
from mosear.export import load_checkpoint
from mosear.model import ModelConfig

from conftest import CHECKPOINTS, path


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_committed_pt_is_what_recover_writes(name, recovered, committed):
    fresh, saved = recovered[name], committed[name]
    assert fresh["config"] == saved["config"]
    assert fresh["meta"] == saved["meta"]
    assert list(fresh["state"]) == list(saved["state"])
    for key, value in fresh["state"].items():
        assert value.dtype == torch.float32
        assert torch.equal(value, saved["state"][key]), key


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_pt_belongs_to_the_shipped_onnx(name, committed):
    with open(path("fixtures", "v1", f"{name}.onnx"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert committed[name]["meta"]["recovered_from"] == {"file": f"{name}.onnx",
                                                         "sha256": digest}


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_pt_pickles_no_custom_class(name):
    """Only tensors, dicts, lists, strings and numbers: what torch 2.x's weights_only=True
    loader accepts (torch 1.13's early version of it refuses floats, so check the pickle)."""
    with zipfile.ZipFile(path("checkpoints", f"{name}.pt")) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
        assert len(pkl) == 1
        ops = list(pickletools.genops(z.read(pkl[0])))
    globals_ = {arg for op, arg, _ in ops if op.name in ("GLOBAL", "INST")}
    assert globals_ <= {"torch._utils _rebuild_tensor_v2", "torch FloatStorage",
                        "collections OrderedDict"}, globals_
    if tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 0):
        blob = torch.load(path("checkpoints", f"{name}.pt"), map_location="cpu",
                          weights_only=True)
        ModelConfig(**blob["config"])


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_reexport_is_the_same_function(name):
    report = recover.verify(path("checkpoints", f"{name}.pt"),
                            path("fixtures", "v1", f"{name}.onnx"))
    assert report["problems"] == []
    assert report["initializers"][0] == report["initializers"][1]


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_export_metadata_is_the_shipped_metadata(name):
    model, meta = load_checkpoint(path("checkpoints", f"{name}.pt"))
    shipped = onnx.load(path("fixtures", "v1", f"{name}.onnx"))
    props = {p.key: p.value for p in shipped.metadata_props}
    assert export.contract_metadata(model.cfg, meta) == props
    assert props["mosear.contract"] == export.CONTRACT_VERSION
    assert json.loads(props["mosear.checkpoint"])["name"] == name


def test_position_table_and_its_split(committed):
    blob = committed["mosear-tiny"]
    cfg = ModelConfig(**blob["config"])
    state = blob["state"]
    table = state["visual.pos_table"]
    assert tuple(table.shape) == (cfg.n_visual, cfg.d_model)
    split = (state["visual.frame_emb"][:, None, None, :] + state["visual.row_emb"][None, :, None, :]
             + state["visual.col_emb"][None, None, :, :]).reshape(cfg.n_visual, cfg.d_model)
    assert float((split - table).abs().max()) < 1e-6
    model, _ = load_checkpoint(path("checkpoints", "mosear-tiny.pt"))
    assert torch.equal(model.visual.positions(), table)


def test_trained_models_have_no_position_table():
    from mosear.model import MoSEARModel
    model = MoSEARModel(ModelConfig())
    assert "visual.pos_table" not in model.state_dict()
    assert model.visual.pos_table is None


def test_diff_models_sees_a_changed_weight():
    shipped = onnx.load(path("fixtures", "v1", "emotion-llama-tiny.onnx"))
    changed = onnx.load(path("fixtures", "v1", "emotion-llama-tiny.onnx"))
    init = changed.graph.initializer[0]
    arr = onnx.numpy_helper.to_array(init).copy()
    arr.flat[0] = np.nextafter(arr.flat[0], np.float32(np.inf))
    init.CopyFrom(onnx.numpy_helper.from_array(arr, init.name))
    assert recover.diff_models(shipped, shipped)["problems"] == []
    assert recover.diff_models(shipped, changed)["problems"]


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_shipped_checkpoint_is_the_contract_12_export(name):
    """models/checkpoints/<name>.onnx is the .pt exported as contract 1.2 with head_gate,
    audio_repeat and layer_logits (the golden tier shows its contract outputs bit-identical to
    the v1 file with k = 1)."""
    report = recover.verify(path("checkpoints", f"{name}.pt"),
                            path("checkpoints", f"{name}.onnx"), export.CONTRACT_1_2)
    assert report["problems"] == []
    shipped = onnx.load(path("checkpoints", f"{name}.onnx"))
    assert [i.name for i in shipped.graph.input][-2:] == ["head_gate", "audio_repeat"]
    assert [o.name for o in shipped.graph.output][-1] == "layer_logits"
