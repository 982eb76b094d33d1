"""Contract 1.2's `audio_repeat` in the reference model: k = 1 in the graph is the graph
without the input, bit for bit; k > 1 in the graph is research.evaluate's duplication probe
(the audio token repeated k times, consecutive positions, |A| = k); the 1.2 export declares the
input and its cap."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from mosear import export
from mosear.export import load_checkpoint
from mosear.model import AUDIO_REPEAT_MAX, Controls, contract_outputs

from conftest import CHECKPOINTS, path
from test_contract11 import assert_same, tiny_case


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_k1_is_bit_identical_to_no_input(name):
    model, _, frames, audio, prompt = tiny_case(name)
    ar = Controls.make(model.cfg, mode=1, alpha=0.5, kind=1)
    for ctl in (Controls.make(model.cfg, mode=0), ar):
        gate = torch.ones(model.cfg.layers, model.cfg.heads)
        plain = contract_outputs(model, frames, audio, prompt, ctl, gate, True)
        k1 = contract_outputs(model, frames, audio, prompt, ctl, gate, True, audio_repeat=1)
        assert_same(plain, k1)


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_k_in_the_graph_is_the_research_probe(name):
    model, _, frames, audio, prompt = tiny_case(name)
    cfg = model.cfg
    for k in (2, 5):
        out = contract_outputs(model, frames, audio, prompt, Controls.make(cfg, mode=0),
                               audio_repeat=k)
        n = cfg.n_visual + k + cfg.n_text
        assert out["token_attention"].shape == (cfg.layers, cfg.heads, n)
        with torch.no_grad():
            logits, probes = model.decode(model.embed(frames, audio, prompt, audio_repeat=k),
                                          None)
        assert np.allclose(out["logits"], logits.numpy(), atol=1e-5)
        # The audio mass is the sum over all k copies.
        row = out["token_attention_before"]
        audio_mass = row[..., cfg.n_visual: cfg.n_visual + k].sum(-1)
        assert np.allclose(out["modality_mass"][..., 1], audio_mass, atol=1e-6)


def test_contract_1_2_export_declares_audio_repeat(tmp_path):
    model, meta = load_checkpoint(path("checkpoints", "emotion-llama-tiny.pt"))
    out = str(tmp_path / "m.onnx")
    export.export(model, meta, out, export.CONTRACT_1_2, head_gate=True, layer_logits=True,
                  audio_repeat=True)
    proto = onnx.load(out)
    inputs = {i.name: (i.type.tensor_type.elem_type,
                       [d.dim_value for d in i.type.tensor_type.shape.dim])
              for i in proto.graph.input}
    assert inputs["audio_repeat"] == (onnx.TensorProto.INT64, [])
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["mosear.contract"] == "1.2"
    assert json.loads(props["mosear.audio"])["repeat_max"] == AUDIO_REPEAT_MAX
    dims = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output}
    assert dims["token_attention"] == [model.cfg.layers, model.cfg.heads, "N"]
    with pytest.raises(ValueError):
        export.export(model, meta, out, export.CONTRACT_1_1, head_gate=True, audio_repeat=True)
