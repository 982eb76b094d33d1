"""Contract 1.1 in the reference model: head_gate, layer_logits, the 1.1 export of the toy
checkpoints, and the invariants at 32 × 32 on the full-shape model (mosear.fullshape)."""

from __future__ import annotations

import copy
import json

import numpy as np
import onnx
import pytest
import torch

from mosear import export, fixture
from mosear.export import load_checkpoint
from mosear.fullshape import (DEFAULT_TRANSCRIPT, VOCAB, FullShapeConfig, run_outputs,
                              split_words)
from mosear.golden import base_controls, make_controls
from mosear.model import Controls, contract_outputs

from conftest import CHECKPOINTS, path

INPUT = "sample-consistent-happy"


def tiny_case(name: str):
    from mosear import golden
    model, meta = load_checkpoint(path("checkpoints", f"{name}.pt"))
    frames, audio = golden.read_input(path("golden", "inputs", INPUT), model.cfg)
    prompt = torch.tensor([model.cfg.prompt_ids()], dtype=torch.int64)
    return model, meta, frames, audio, prompt


def assert_same(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_head_gate_all_ones_is_bit_identical_to_no_gate(name):
    model, _, frames, audio, prompt = tiny_case(name)
    ctl = Controls.make(model.cfg, mode=1, alpha=0.5)
    plain = contract_outputs(model, frames, audio, prompt, ctl, layer_logits=True)
    ones = torch.ones(model.cfg.layers, model.cfg.heads)
    assert_same(plain, contract_outputs(model, frames, audio, prompt, ctl, ones, True))
    v1 = contract_outputs(model, frames, audio, prompt, ctl)
    assert_same(v1, {k: v for k, v in plain.items() if k != "layer_logits"})


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_head_gate_zero_removes_only_that_heads_output(name):
    """Gating (l, h) to 0 equals zeroing the input columns of that head in layer l's output
    projection (base and adapter), and leaves every layer up to l's attention unchanged."""
    model, _, frames, audio, prompt = tiny_case(name)
    cfg = model.cfg
    layer, head = 1, 2
    dh = cfg.d_model // cfg.heads
    ctl = Controls.make(cfg, mode=1, alpha=0.5)
    gate = torch.ones(cfg.layers, cfg.heads)
    gate[layer, head] = 0.0
    gated = contract_outputs(model, frames, audio, prompt, ctl, gate, True)
    plain = contract_outputs(model, frames, audio, prompt, ctl, layer_logits=True)
    cut = copy.deepcopy(model)
    o = cut.layers[layer].o
    with torch.no_grad():
        o.base.weight[:, head * dh:(head + 1) * dh] = 0.0
        if hasattr(o, "A"):
            o.A[:, head * dh:(head + 1) * dh] = 0.0
    surgery = contract_outputs(cut, frames, audio, prompt, ctl, layer_logits=True)
    for key in gated:
        assert np.abs(gated[key] - surgery[key]).max() <= 1e-5, key
    for key in ("modality_mass", "modality_mass_after", "ar_flags", "token_attention_before",
                "token_attention"):
        assert np.array_equal(gated[key][: layer + 1], plain[key][: layer + 1]), key
    assert not np.array_equal(gated["layer_logits"][layer], plain["layer_logits"][layer])
    assert np.array_equal(gated["layer_logits"][:layer], plain["layer_logits"][:layer])


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_last_layer_logits_are_the_logits(name):
    model, _, frames, audio, prompt = tiny_case(name)
    ctl = Controls.make(model.cfg, mode=1, alpha=0.5)
    out = contract_outputs(model, frames, audio, prompt, ctl, None, True)
    assert out["layer_logits"].shape == (model.cfg.layers, out["logits"].shape[1])
    assert np.array_equal(out["layer_logits"][-1], out["logits"][0])


def test_contract_1_1_export_of_a_toy_checkpoint(tmp_path):
    model, meta = load_checkpoint(path("checkpoints", "mosear-tiny.pt"))
    out = str(tmp_path / "m.onnx")
    export.export(model, meta, out, export.CONTRACT_1_1, head_gate=True, layer_logits=True)
    proto = onnx.load(out)
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
              for i in proto.graph.input}
    outputs = [o.name for o in proto.graph.output]
    cfg = model.cfg
    assert inputs["head_gate"] == [cfg.layers, cfg.heads]
    assert outputs[-2:] == ["mose_gate", "layer_logits"]
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["mosear.contract"] == "1.1"
    layout = json.loads(props["mosear.token_layout"])
    assert [s["name"] for s in layout["segments"]] == ["patches", "audio", "prompt"]
    assert layout["segments"][0]["grid"]["cell_px"] == {"width": cfg.patch, "height": cfg.patch}
    prompt = json.loads(props["mosear.prompt"])
    assert prompt["tokenizer"]["kind"] == "word-level"
    ids = [prompt["vocab"].index(p["token"]) if p["kind"] == "special" else None
           for p in prompt["template"]["prompt"]]
    assert ids[0] == prompt["default_ids"][0]
    v1 = export.contract_metadata(cfg, meta)
    same = [k for k in v1 if k not in ("mosear.contract", "mosear.token_layout",
                                       "mosear.architecture", "mosear.audio", "mosear.prompt")]
    assert all(props[k] == v1[k] for k in same)
    with pytest.raises(ValueError):
        export.export(model, meta, out, export.CONTRACT_VERSION, head_gate=True)


# ---------------------------------------------------------------------------------------------
# The full-shape model (32 × 32)


@pytest.fixture(scope="module")
def full():
    model = fixture.build_model()
    cfg = model.cfg
    frames, audio = fixture.make_input(cfg, 1, 24000)
    ids = torch.tensor([[t.id for t in cfg.prompt(DEFAULT_TRANSCRIPT)]], dtype=torch.int64)
    off = run_outputs(model, frames, audio, ids, Controls.make(cfg))
    return model, frames, audio, ids, off


def test_full_shape_alpha0_is_the_identity(full):
    model, frames, audio, ids, off = full
    ctl = Controls.make(model.cfg, mode=1, alpha=0.0)
    out = run_outputs(model, frames, audio, ids, ctl)
    assert out["token_attention"].shape == (32, 32, 329)
    assert out["ar_flags"].sum() > 0  # the rule still selects heads at α = 0
    assert np.array_equal(out["token_attention"], out["token_attention_before"])
    assert np.array_equal(out["modality_mass_after"], out["modality_mass"])
    for key in ("logits", "layer_logits", "token_attention_before", "modality_mass"):
        assert np.array_equal(out[key], off[key]), key


def test_full_shape_head_gate_and_layer_logits(full):
    model, frames, audio, ids, off = full
    cfg = model.cfg
    ctl = Controls.make(cfg)
    assert np.array_equal(off["layer_logits"][-1], off["logits"][0])
    ones = run_outputs(model, frames, audio, ids, ctl, torch.ones(cfg.layers, cfg.heads))
    assert_same(ones, off)
    gate = torch.ones(cfg.layers, cfg.heads)
    gate[20, 5] = 0.0
    cut = run_outputs(model, frames, audio, ids, ctl, gate)
    for key in ("token_attention", "modality_mass"):
        assert np.array_equal(cut[key][:21], off[key][:21]), key
        assert not np.array_equal(cut[key][21:], off[key][21:]), key
    assert np.array_equal(cut["layer_logits"][:20], off["layer_logits"][:20])
    assert not np.array_equal(cut["layer_logits"][20], off["layer_logits"][20])


def test_full_shape_statistics_use_every_visual_and_audio_position(full):
    model, _, _, _, off = full
    cfg = model.cfg
    assert (cfg.n_visual, cfg.n_audio) == (259, 1)
    masks = model.fixed_masks
    assert masks[0].sum() == 259 and masks[1].sum() == 1
    mass = off["modality_mass"]
    assert np.abs(mass.sum(-1) - 1).max() < 1e-5
    row = off["token_attention_before"]
    visual = np.zeros(row.shape[-1], dtype=bool)
    visual[: masks.shape[1]] = masks[0].numpy() > 0
    vis = row[:, :, visual].sum(-1)
    assert np.abs(vis - mass[..., 0]).max() < 1e-5


def test_full_shape_prompt_and_layout():
    cfg = FullShapeConfig()
    prompt = cfg.prompt(DEFAULT_TRANSCRIPT)
    layout = fixture.run_layout(cfg, prompt)
    assert layout["total"] == cfg.n_fixed + len(prompt) - 14 == 329
    assert [s["name"] for s in layout["segments"]] == [
        "prefix", "eva_patches", "between", "face_mae", "video_mae", "hubert", "eva_cls",
        "prompt"]
    assert [t["kind"] for t in layout["text"]].count("slot") == 9
    assert layout["text"][0] == {"position": 0, "id": VOCAB.index("<s>"), "token": "<s>",
                                 "text": "<s>", "kind": "special"}
    assert layout["text"][-1]["position"] == 328
    odd = cfg.prompt("Zebras can't fly, señor")
    words = [t for t in odd if t.kind == "slot"]
    assert [t.text for t in words] == ["Zebras", "can't", "fly", ",", "se", "ñ", "or"]
    assert [t.token for t in words][:2] == ["<unk>", "can't"]
    assert split_words("a[/INST]") == ["a", "[", "/", "INST", "]"]
    assert len(cfg.prompt("word " * 100)) == len(cfg.prompt("")) + cfg.transcript_max_tokens


def test_xorshift_recipe():
    # x = 1: 270369, 67634689, 2647435461 (Marsaglia's xorshift32, shifts 13, 17, 5).
    assert fixture.xorshift32(1, 3).tolist() == [270369, 67634689, 2647435461]


# ---------------------------------------------------------------------------------------------
# The committed fixture


@pytest.fixture(scope="module")
def committed_fixture():
    proto = onnx.load(path("fixtures", f"{fixture.NAME}.onnx"))
    with open(path("fixtures", f"{fixture.NAME}.golden.json")) as f:
        doc = json.load(f)
    return proto, doc


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def test_fixture_graph_follows_contract_1_1(committed_fixture):
    proto, _ = committed_fixture
    inputs = {i.name: (i.type.tensor_type.elem_type, dims(i)) for i in proto.graph.input}
    f32, i64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    assert inputs == {
        "frames": (f32, [1, 1, 3, 448, 448]), "audio": (f32, [1, "audio_samples"]),
        "prompt_ids": (i64, [1, "prompt_tokens"]), "ar_mode": (i64, []),
        "ar_tau": (f32, [32]), "ar_ratio_kind": (i64, []), "ar_head_margin": (f32, []),
        "ar_alpha": (f32, []), "pai_alpha": (f32, []), "ar_layers": (f32, [32]),
        "ar_head_override": (f32, [32, 32]), "head_gate": (f32, [32, 32]),
    }
    outputs = {o.name: (o.type.tensor_type.elem_type, dims(o)) for o in proto.graph.output}
    assert outputs == {
        "logits": (f32, [1, 9]), "modality_mass": (f32, [32, 32, 3]),
        "modality_mass_after": (f32, [32, 32, 3]), "ar_flags": (f32, [32, 32]),
        "token_attention_before": (f32, [32, 32, "tokens"]),
        "token_attention": (f32, [32, 32, "tokens"]), "layer_logits": (f32, [32, 9]),
    }
    ops = {n.op_type for n in proto.graph.node}
    assert not ops & {"If", "Loop", "Scan"}


def test_fixture_metadata_is_what_the_builder_writes(committed_fixture):
    proto, _ = committed_fixture
    props = {p.key: p.value for p in proto.metadata_props}
    values = fixture.contract_metadata(FullShapeConfig(), fixture.NAME, fixture.VERSION)
    values["mosear.tau_sweep"] = export.default_tau_sweep()
    assert props == export.metadata_props("1.1", values)
    layout = json.loads(props["mosear.token_layout"])
    assert layout["total"] is None
    assert [s["start"] for s in layout["segments"]] == [0, 7, 263, 270, 271, 272, 273, 274]
    grid = layout["segments"][1]["grid"]
    assert (grid["rows"], grid["cols"], grid["cell_px"]) == (32, 8, {"width": 56, "height": 14})
    assert json.loads(props["mosear.checkpoint"])["training_data"] is None
    prompt = json.loads(props["mosear.prompt"])
    assert len(prompt["default_ids"]) == 329 - 260
    assert [prompt["vocab"][i] for i in prompt["default_ids"]] == prompt["default"]


def test_fixture_weights_come_from_the_seed(committed_fixture):
    proto, _ = committed_fixture
    values = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    model = fixture.build_model()
    assert np.array_equal(values["model.text.weight"], model.text.weight.detach().numpy())
    assert np.array_equal(values["model.audio.conv2.weight"],
                          model.audio.conv2.weight.detach().numpy())


@pytest.mark.parametrize("case", ["short/ar-density-overrides", "long/off-head-gate"])
def test_fixture_golden_reproduces(committed_fixture, case):
    _, doc = committed_fixture
    c = next(c for c in doc["cases"] if c["name"] == case)
    inp = doc["inputs"][c["input"]]
    model = fixture.build_model()
    cfg = model.cfg
    frames, audio = fixture.make_input(cfg, inp["generator"]["seed"], inp["audio_shape"][1])
    prompt = cfg.prompt(inp["transcript"])
    assert [t.id for t in prompt] == inp["prompt_ids"]
    assert fixture.run_layout(cfg, prompt) == inp["layout"]
    ids = torch.tensor([inp["prompt_ids"]], dtype=torch.int64)
    gate = torch.tensor(c["head_gate"]) if "head_gate" in c else None
    out = run_outputs(model, frames, audio, ids, make_controls(cfg, c["controls"]), gate)
    for key, want in c["expected"].items():
        got = out[key]
        assert list(got.shape) == want["shape"], key
        if "rows" in want:
            got_rows = np.stack([got[layer, head] for layer, head in want["rows"]])
            sums = got.astype(np.float64).sum((0, 1))
            assert np.abs(sums - np.array(want["sum_over_layers_heads"])).max() <= 1e-4, key
            got = got_rows
        err = np.abs(got.reshape(-1) - np.array(want["data"], np.float64)).max()
        assert err <= doc["tolerance"], (key, err)


def test_fixture_golden_cases_cover_the_contract(committed_fixture):
    _, doc = committed_fixture
    names = [c["name"] for c in doc["cases"]]
    assert "short/ar-share-alpha0" in names and "long/off-head-gate" in names
    n = {c["input"]: c["expected"]["token_attention"]["shape"][2] for c in doc["cases"]}
    assert n["short"] == 329 and n["long"] > n["short"]
    assert all(c["checks"]["min_threshold_distance"] is None
               or c["checks"]["min_threshold_distance"] >= 1e-3 for c in doc["cases"])
    base = base_controls(FullShapeConfig())
    assert all(sorted(c["controls"]) == sorted(base) for c in doc["cases"])
