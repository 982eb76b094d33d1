"""The real-checkpoint exporter (models/realexport): readers, key checks, building blocks against
their published definitions, the prompt, the export and the float16 copy — on a miniature of the
real files generated into a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from typing import Dict

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F

from realexport import blocks, golden, miniature, prompt, readers
from realexport.export import FEATURE_INPUTS, example_inputs, export, run_outputs
from realexport.model import EmotionLlama, Options, Sources
from realexport.readers import ExportError, Ledger

MODELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    return miniature.generate(str(tmp_path_factory.mktemp("mini")))


def copy_mini(mini: Dict[str, str], tmp_path) -> Dict[str, str]:
    root = os.path.dirname(mini["llama"])
    dst = str(tmp_path / "copy")
    shutil.copytree(root, dst)
    return {k: os.path.join(dst, os.path.relpath(v, root)) for k, v in mini.items()}


def sources(m: Dict[str, str], mose: bool = False) -> Sources:
    return Sources(m["llama"], m["eva"], m["hubert"], m["mosear" if mose else "checkpoint"],
                   None if mose else m["minigptv2"])


@pytest.fixture(scope="module")
def model(mini: Dict[str, str]) -> EmotionLlama:
    return EmotionLlama(sources(mini), Options(lora_rank=8))


# -- readers -----------------------------------------------------------------------------------


def test_safetensors_layout_and_round_trip(tmp_path) -> None:
    # safetensors: u64 little-endian header length, JSON header, raw little-endian data
    path = str(tmp_path / "t.safetensors")
    a = np.arange(6, dtype=np.float16).reshape(2, 3)
    b = np.array([1.5, -2.0], dtype=np.float32)
    readers.write_safetensors(path, {"a": a, "b": b})
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["a"] == {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]}
    assert (8 + n) % 8 == 0
    got = readers.read_safetensors(path)
    assert got["a"].dtype == torch.float16 and got["a"].tolist() == a.tolist()
    assert got["b"].tolist() == [1.5, -2.0]


def test_safetensors_bf16_is_widened(tmp_path) -> None:
    path = str(tmp_path / "bf.safetensors")
    bits = (np.array([1.0, -3.5], dtype=np.float32).view(np.uint32) >> 16).astype("<u2")
    head = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + bits.tobytes())
    t = readers.read_safetensors(path)["w"]
    assert t.dtype == torch.bfloat16 and t.float().tolist() == [1.0, -3.5]


def test_truncated_safetensors_names_the_file(tmp_path) -> None:
    path = str(tmp_path / "t.safetensors")
    readers.write_safetensors(path, {"a": np.zeros((4, 4), np.float32)})
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[:-10])
    with pytest.raises(ExportError, match="t.safetensors.*tensor a.*truncated"):
        readers.read_safetensors(path)
    open(path, "wb").write(b"\x00" * 4)
    with pytest.raises(ExportError, match="not a safetensors file"):
        readers.read_safetensors(path)


def test_sharded_folder_and_missing_shard(mini: Dict[str, str], tmp_path) -> None:
    tensors, files = readers.read_weights(mini["llama"])
    assert len({os.path.basename(f) for f in files.values()}) == 2
    assert tensors["model.embed_tokens.weight"].dtype == torch.float16
    m = copy_mini(mini, tmp_path)
    os.remove(os.path.join(m["llama"], "model-00002-of-00002.safetensors"))
    with pytest.raises(ExportError, match="model-00002-of-00002.safetensors, which is missing"):
        readers.read_weights(m["llama"])


def test_empty_folder_and_non_state_dict(tmp_path) -> None:
    with pytest.raises(ExportError, match="no weights found"):
        readers.read_weights(str(tmp_path))
    p = str(tmp_path / "x.pth")
    torch.save([1, 2, 3], p)
    with pytest.raises(ExportError, match="holds no state dict"):
        readers.read_torch(p)
    open(p, "wb").write(b"not a pickle")
    with pytest.raises(ExportError, match="cannot be read as a torch checkpoint"):
        readers.read_torch(p)


def test_training_checkpoint_is_read_with_the_full_unpickler(mini: Dict[str, str]) -> None:
    sd = readers.read_torch(mini["checkpoint"])  # {"model": …, "optimizer": …, "epoch": …}
    assert "llama_proj.weight" in sd and "epoch" not in sd
    assert any(k.endswith("q_proj.lora_A.weight") for k in sd)


def test_ledger_names_key_and_file() -> None:
    tensors = {"a": torch.zeros(2, 3), "b": torch.zeros(1), "n": torch.zeros(2).long()}
    led = Ledger("test", tensors, {"a": "f1", "b": "f2", "n": "f3"}, [("b", "why")])
    assert led.take("a", [2, 4]) is None
    assert led.take("n") is None
    assert led.take("c", [1]) is None
    with pytest.raises(ExportError) as e:
        led.finish()
    msg = str(e.value)
    assert "a in f1: shape [2, 3], expected [2×4]" in msg
    assert "n in f3: dtype torch.int64" in msg and "missing, e.g. c" in msg
    led2 = Ledger("t2", {"a": torch.zeros(1), "x": torch.zeros(1)}, {"a": "f", "x": "f"})
    led2.take("a", [1])
    with pytest.raises(ExportError, match="1 keys were not used .* e.g. x"):
        led2.finish()


# -- building blocks against their published definitions ----------------------------------------


def test_rope_is_rotate_half_with_base_from_config() -> None:
    # HF LLaMA: rotate_half(x) = cat(−x2, x1); inv_freq = 1 / base^(2i/d); q·cos + rot(q)·sin
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert blocks.rotate_half(x).tolist() == [-3.0, -4.0, 1.0, 2.0]
    inv = blocks.rope_inv_freq(8, 500000.0)
    assert torch.allclose(inv, torch.tensor([500000.0 ** (-i / 8) for i in (0, 2, 4, 6)]))
    # the score depends only on the position difference
    inv = blocks.rope_inv_freq(8, 10000.0)
    q, k = torch.randn(8), torch.randn(8)
    cos, sin = blocks.rope_cos_sin(torch.arange(12.0), inv)

    def score(i: int, j: int) -> float:
        return float(blocks.apply_rope(q, cos[i], sin[i]) @ blocks.apply_rope(k, cos[j], sin[j]))
    assert abs(score(5, 2) - score(10, 7)) < 1e-4


def test_rms_norm_eps_and_rope_base_come_from_config(mini: Dict[str, str], tmp_path) -> None:
    m = copy_mini(mini, tmp_path)
    cfg_path = os.path.join(m["llama"], "config.json")
    cfg = json.load(open(cfg_path))
    cfg.update(rms_norm_eps=1e-6, rope_theta=500000.0)
    json.dump(cfg, open(cfg_path, "w"))
    model = EmotionLlama(sources(m), Options(lora_rank=8))
    assert model.layers[0].norm1.eps == 1e-6 and model.norm.eps == 1e-6
    assert torch.allclose(model.inv_freq, blocks.rope_inv_freq(16, 500000.0))
    x = torch.randn(3, 64)
    w = model.norm.weight
    want = x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-6) * w
    assert torch.allclose(model.norm(x), want, atol=1e-6)


def test_lora_scaling_merged_equals_applied() -> None:
    # peft 0.2 LoRA: y = W x + (α / r) · B A x
    w, a, b = torch.randn(6, 5), torch.randn(3, 5), torch.randn(6, 3)
    x = torch.randn(2, 4, 5)
    applied = blocks.AdaptedProjection(w, "lora", a, b, scale=16 / 3)
    merged = blocks.AdaptedProjection(w, "lora", a, b, scale=16 / 3, merged=True)
    want = x @ w.t() + (16 / 3) * (x @ a.t() @ b.t())
    assert torch.allclose(applied(x), want, atol=1e-4)
    assert torch.allclose(merged(x), want, atol=1e-4)
    assert merged.kind == "none"


def test_whole_model_merged_equals_applied(mini: Dict[str, str], model: EmotionLlama) -> None:
    applied = EmotionLlama(sources(mini), Options(lora_rank=8, lora_merged=False))
    args = example_inputs(model)
    a, b = run_outputs(model, args), run_outputs(applied, args)
    assert np.abs(a["logits"] - b["logits"]).max() < 1e-4
    assert np.abs(a["token_attention"] - b["token_attention"]).max() < 1e-5
    # the LoRA changes the function (α / r = 16 / 8)
    plain = EmotionLlama(sources(mini), Options(lora_rank=8))
    for layer in plain.layers:
        layer.q.weight.data = layer.q.weight.data * 0 + applied.layers[layer.index].q.weight.data
    assert np.abs(run_outputs(plain, args)["logits"] - a["logits"]).max() > 1e-3


def test_eva_has_q_and_v_bias_but_no_k_bias(model: EmotionLlama) -> None:
    # eva_vit.py Attention: qkv_bias = cat(q_bias, zeros_like(v_bias), v_bias)
    blk = model.eva.blocks[0]
    d = model.eva.d
    assert blk.qkv_bias[d:2 * d].abs().max() == 0
    assert blk.qkv_bias[:d].abs().max() > 0 and blk.qkv_bias[2 * d:].abs().max() > 0
    assert model.eva.heads == d // 88 and model.eva.depth == 2  # one stored block unused


def test_eva_pos_embed_interpolation() -> None:
    # interpolate_pos_embed: CLS row kept, the square grid resized bicubically (align_corners
    # False); 16 × 16 (224 px) → 32 × 32 (448 px)
    pos = torch.randn(1, 1 + 16 * 16, 5)
    out = blocks.interpolate_pos_embed(pos, 32)
    assert out.shape == (1, 1 + 32 * 32, 5) and torch.equal(out[:, 0], pos[:, 0])
    grid = pos[:, 1:].reshape(1, 16, 16, 5).permute(0, 3, 1, 2)
    want = F.interpolate(grid, size=(32, 32), mode="bicubic", align_corners=False)
    assert torch.allclose(out[:, 1:], want.permute(0, 2, 3, 1).reshape(1, -1, 5))
    assert blocks.interpolate_pos_embed(pos, 16) is pos
    with pytest.raises(ExportError, match="not a square grid"):
        blocks.interpolate_pos_embed(torch.randn(1, 1 + 15, 5), 4)


def test_hubert_weight_norm_matches_torch() -> None:
    # HuBERT's pos_conv: weight_norm(conv, name="weight", dim=2) → w = g · v / ‖v‖ over dims 0, 1
    conv = torch.nn.Conv1d(8, 8, 6, padding=3, groups=2)
    conv = torch.nn.utils.weight_norm(conv, name="weight", dim=2)
    with torch.no_grad():
        conv.weight_g.uniform_(0.5, 1.5)
    conv(torch.randn(1, 8, 10))  # recompute weight from g and v
    got = blocks.weight_norm_weight(conv.weight_g.detach(), conv.weight_v.detach())
    assert torch.allclose(got, conv.weight.detach(), atol=1e-6)


@pytest.mark.parametrize("norm", ["group", "layer"])
def test_hubert_feature_extractor_norm(norm: str) -> None:
    # feat_extract_norm "group": GroupNorm(C, C) after the first conv only; "layer": LayerNorm
    # over channels after every conv (HF HubertGroupNormConvLayer / HubertLayerNormConvLayer)
    cfg = miniature.hubert_config()
    cfg.update(feat_extract_norm=norm, do_stable_layer_norm=norm == "layer")
    state = miniature.hubert_state(cfg, torch.Generator().manual_seed(0))
    has_norm = [f"feature_extractor.conv_layers.{i}.layer_norm.weight" in state for i in range(7)]
    assert has_norm == ([True] * 7 if norm == "layer" else [True] + [False] * 6)
    led = Ledger("h", state, {k: "f" for k in state}, blocks.HUBERT_IGNORE)
    hub = blocks.Hubert(led, blocks.HubertConfig.from_json(cfg, "config.json"))
    led.finish()
    kinds = [type(n).__name__ for n in hub.conv_norms]
    assert kinds == (["LayerNorm"] * 7 if norm == "layer" else ["GroupNorm"] + ["Identity"] * 6)
    x = torch.randn(1, 4000)
    c0 = F.conv1d(x[:, None], state["feature_extractor.conv_layers.0.conv.weight"],
                  state["feature_extractor.conv_layers.0.conv.bias"], stride=5)
    w, b = (state[f"feature_extractor.conv_layers.0.layer_norm.{n}"] for n in ("weight", "bias"))
    want = (F.group_norm(c0, c0.shape[1], w, b) if norm == "group"
            else F.layer_norm(c0.transpose(1, 2), (c0.shape[1],), w, b).transpose(1, 2))
    assert torch.allclose(hub.conv_norms[0](c0) if norm == "group" else
                          hub.conv_norms[0](c0.transpose(1, 2)).transpose(1, 2), want, atol=1e-5)
    states = hub(x)
    frames = states[-1].shape[1]
    assert len(states) == cfg["num_hidden_layers"] + 1 and frames == (4000 - 400) // 320 + 1


def test_hubert_normalisation_and_pooling() -> None:
    # Wav2Vec2FeatureExtractor do_normalize: (x − mean) / sqrt(var + 1e-7)
    x = torch.randn(1, 1000) * 3 + 1
    want = (x.numpy() - x.numpy().mean()) / np.sqrt(x.numpy().var() + 1e-7)
    assert np.allclose(blocks.zero_mean_unit_var(x).numpy(), want, atol=1e-5)
    states = [torch.full((1, 3, 2), float(i)) for i in range(6)]
    assert blocks.pool_hubert(states, "last-mean").flatten().tolist() == [5.0, 5.0]
    assert blocks.pool_hubert(states, "last4-sum-mean").flatten().tolist() == [14.0, 14.0]
    with pytest.raises(ExportError, match="unknown HuBERT pooling"):
        blocks.pool_hubert(states, "first")


# -- prompt ------------------------------------------------------------------------------------


def test_prompt_assemblies(mini: Dict[str, str]) -> None:
    tok = prompt.Tokenizer(os.path.join(mini["llama"], "tokenizer.model"))
    assert (tok.sp.unk_id(), tok.sp.bos_id(), tok.sp.eos_id()) == (0, 1, 2)
    ctx, gaps = prompt.segments(tok, "context", "Ça va, 我很高兴")
    assert gaps == ["video_block"] and ctx[0].ids[:2] == [1, 1]  # two BOS
    assert "FeatureHere" in "".join(tok.piece_of(i) for i in ctx[1].ids)  # left as text
    wrap, gaps = prompt.segments(tok, "wrap", "Ça va, 我很高兴")
    assert gaps == ["patches", "features"] and wrap[0].ids[0] == 1 and wrap[0].ids[1] != 1
    assert "FeatureHere" not in "".join(tok.piece_of(i) for s in wrap for i in s.ids)
    # each run is encoded on its own with SentencePiece's dummy prefix
    assert ctx[1].ids == tok.sp.EncodeAsIds(ctx[1].runs[0].text)
    firsts = tok.label_first_tokens(prompt.LABELS)
    assert len(set(firsts)) == 9
    with pytest.raises(ExportError, match="start with the same token"):
        tok.label_first_tokens(["happy", "happy"])


def test_layout_differs_between_assemblies(mini: Dict[str, str], model: EmotionLlama) -> None:
    wrap = EmotionLlama(sources(mini), Options(lora_rank=8, assembly="wrap"))
    assert [n for n, _, _ in model.layout()] == ["prefix", "eva_patches", "face_mae", "video_mae",
                                                 "hubert", "eva_cls", "prompt"]
    assert [n for n, _, _ in wrap.layout()] == ["prefix", "eva_patches", "between", "face_mae",
                                                "video_mae", "hubert", "eva_cls", "prompt"]
    args = example_inputs(wrap)
    out = run_outputs(wrap, args)
    assert out["token_attention"].shape[2] == len(wrap.default_prompt_ids()) + 260


# -- export ------------------------------------------------------------------------------------


def test_export_metadata_and_template(mini: Dict[str, str], model: EmotionLlama,
                                      tmp_path) -> None:
    out = str(tmp_path / "el.onnx")
    values = export(model, sources(mini), out, "mini")
    assert os.path.isfile(out + ".data") and os.path.isfile(str(tmp_path / "el.tokenizer.model"))
    assert os.path.isfile(str(tmp_path / "el.check_original.py"))
    proto = onnx.load(out, load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer
               if len(t.dims) > 1 and np.prod(t.dims) > 256)
    assert proto.opset_import[0].version >= 17
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["mosear.contract"] == "1.1"
    outs = [o.name for o in proto.graph.output]
    assert outs[-3:] == ["layer_logits", "label_probability", "greedy_token"]
    p = values["mosear.prompt"]
    assert p["tokenizer"]["kind"] == "sentencepiece"
    assert p["tokenizer"]["sha256"] == model.tokenizer.sha256
    # the template, joined per segment with the slot at its default, gives default_ids
    tok = model.tokenizer
    ids = []
    for name in ("prefix", "prompt"):
        text = ""
        for piece in p["template"][name]:
            if piece["kind"] == "special":
                ids += tok.encode(text) + [tok.special_ids[piece["token"]]]
                text = ""
            else:
                text += piece["text"] if piece["kind"] == "text" else p["slots"]["transcript"][
                    "default"]
        ids += tok.encode(text)
    assert ids == p["default_ids"]
    layout = values["mosear.token_layout"]
    assert layout["total"] is None and layout["segments"][-1]["count"] is None
    grid = layout["segments"][1]["grid"]
    assert (grid["rows"], grid["cols"], grid["cell_px"]) == (32, 8, {"width": 56, "height": 14})
    assert values["mosear.audio"]["min_samples"] == 400


def test_feature_inputs_default_to_the_demos_zeros(mini: Dict[str, str], model: EmotionLlama,
                                                   tmp_path) -> None:
    """FaceMAE / VideoMAE as optional inputs [1, D] (CONTRACT.md §1b), D the input width of
    feats_llama_proj1 / 2 (1024 in the real checkpoint): zeros give exactly the forward without
    features (the demo's, what the export baked in before), features change the answer."""
    assert model.feature_dims[:2] == [model.feat_projs[0].in_features,
                                      model.feat_projs[1].in_features]
    args = example_inputs(model)
    ctl = golden.controls(model, 1, 2, 0.5, 0.0)
    with torch.no_grad():
        plain = model.run(args[0], args[1], args[2], ctl)
        zeros = model.run(args[0], args[1], args[2], ctl, None, (args[-2], args[-1]))
        fed = model.run(args[0], args[1], args[2], ctl, None,
                        golden.feature_vectors(model, 7))
    assert torch.equal(plain.logits, zeros.logits)
    assert torch.equal(plain.vocab_logits, zeros.vocab_logits)
    assert all(torch.equal(a.row_after, b.row_after) for a, b in zip(plain.probes, zeros.probes))
    assert (fed.logits - plain.logits).abs().max() > 1e-4
    out = str(tmp_path / "el.onnx")
    values = export(model, sources(mini), out, "mini")
    proto = onnx.load(out, load_external_data=False)
    shapes = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
              for i in proto.graph.input}
    assert [i.name for i in proto.graph.input][-2:] == FEATURE_INPUTS
    assert shapes["face_mae_features"] == [1, model.feature_dims[0]]
    assert shapes["video_mae_features"] == [1, model.feature_dims[1]]
    assert values["mosear.export"]["feature_dims"] == dict(zip(FEATURE_INPUTS,
                                                               model.feature_dims[:2]))


def test_mosear_layout_exports_mose_gate(mini: Dict[str, str], tmp_path) -> None:
    m = EmotionLlama(sources(mini, mose=True), Options(adapter="mose", lora_rank=8))
    out = run_outputs(m, example_inputs(m))
    assert out["mose_gate"].shape == (2,)
    assert np.all(np.abs(out["mose_gate"] - 0.5) <= 0.1)
    values = export(m, sources(mini, mose=True), str(tmp_path / "m.onnx"), "m")
    assert values["mosear.architecture"]["mose"] and values["mosear.architecture"]["mose_eps"]
    bad = json.load(open(Options().mapping))
    del bad["gate_bias"]
    path = str(tmp_path / "map.json")
    json.dump(bad, open(path, "w"))
    with pytest.raises(ExportError, match="lacks gate_bias"):
        EmotionLlama(sources(mini, mose=True), Options(adapter="mose", lora_rank=8,
                                                       mapping=path))


def test_wrong_and_incomplete_folders(mini: Dict[str, str], tmp_path) -> None:
    with pytest.raises(ExportError, match="not a Hugging Face LLaMA folder"):
        EmotionLlama(sources({**mini, "llama": mini["hubert"] + "/.."}), Options(lora_rank=8))
    with pytest.raises(ExportError, match="not a LLaMA config.json"):
        EmotionLlama(sources({**mini, "llama": mini["hubert"]}), Options(lora_rank=8))
    with pytest.raises(ExportError, match="no patch_embed.proj.weight"):
        EmotionLlama(sources({**mini, "eva": mini["checkpoint"]}), Options(lora_rank=8))
    with pytest.raises(ExportError, match="lora_A.weight in .*shape"):
        EmotionLlama(sources(mini), Options(lora_rank=4))
    m = copy_mini(mini, tmp_path)
    sd = torch.load(m["checkpoint"])
    sd["model"]["llama_model.base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight"] = \
        torch.zeros(8, 64)
    del sd["model"]["cls_tk_llama_proj.bias"]  # (llama_proj.bias would come from MiniGPT-v2)
    torch.save(sd, m["checkpoint"])
    with pytest.raises(ExportError, match="missing, e.g. cls_tk_llama_proj.bias"):
        EmotionLlama(sources(m), Options(lora_rank=8))
    sd["model"]["cls_tk_llama_proj.bias"] = torch.zeros(64)
    torch.save(sd, m["checkpoint"])
    with pytest.raises(ExportError, match="not used.*mlp.gate_proj.lora_A"):
        EmotionLlama(sources(m), Options(lora_rank=8))


def test_ignore_lists_cover_the_real_extras(mini: Dict[str, str], model: EmotionLlama) -> None:
    eva = readers.read_torch(mini["eva"])
    assert "blocks.2.attn.qkv.weight" in eva  # the unused extra block is in the file
    ckpt = readers.read_torch(mini["checkpoint"])
    assert any(k.startswith("attention.") for k in ckpt)  # the unused fusion module
    assert any(k.endswith("rotary_emb.inv_freq") for k in readers.read_weights(mini["llama"])[0])
    hub = readers.read_torch(os.path.join(mini["hubert"], "pytorch_model.bin"))
    assert "masked_spec_embed" in hub


def test_cli_help_and_error_exit(mini: Dict[str, str], tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": MODELS, "OPENBLAS_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "realexport", "--help"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "trusted" in r.stdout
    r = subprocess.run([sys.executable, "-m", "realexport", "export", "--llama", str(tmp_path),
                        "--eva", mini["eva"], "--hubert", mini["hubert"], "--checkpoint",
                        mini["checkpoint"], "--out", str(tmp_path / "x.onnx")], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "error:" in r.stderr and "config.json" in r.stderr


def test_fp16_copy(tmp_path) -> None:
    from realexport.fp16 import convert
    src = os.path.join(MODELS, "fixtures", "realexport", "emotion-llama-mini.onnx")
    dst = str(tmp_path / "half.onnx")
    info = convert(src, dst)
    assert info["converted"] > 50 and info["max_abs_rounding"] < 1e-2
    assert os.path.getsize(dst + ".data") < 0.6 * os.path.getsize(src + ".data")
    proto = onnx.load(dst, load_external_data=False)
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in proto.graph.initializer)
    assert [i.name for i in proto.graph.input] == [i.name for i in onnx.load(
        src, load_external_data=False).graph.input]


def test_committed_miniature_golden_reproduces(mini: Dict[str, str]) -> None:
    """The generator is deterministic and the forward unchanged: a fresh miniature gives the
    committed golden's prompt and outputs (the golden tier checks the ONNX file against them)."""
    g = json.load(open(os.path.join(MODELS, "fixtures", "realexport",
                                    "emotion-llama-mini.golden.json")))
    m, _ = golden.build(mini, transcript=golden.TRANSCRIPT)
    assert m.default_prompt_ids() == g["inputs"]["a"]["prompt_ids"]
    case = g["cases"][0]
    ctl = golden.controls(m, 0, 2, 0.0, 0.0)
    args = example_inputs(m, ctl=ctl)
    args[0], args[1] = golden.recipe(1, 448, 24000)
    out = run_outputs(m, args)
    for name in ("logits", "modality_mass", "label_probability"):
        assert np.abs(out[name].reshape(-1) - np.array(case["expected"][name]["data"])).max() < 1e-5


def test_relocating_per_tensor_external_files(tmp_path) -> None:
    """Above 2 GB torch writes one file per tensor beside the traced graph; the exporter moves
    them into <stem>.weights/ without loading them (simulated here with onnx's per-tensor
    layout)."""
    from realexport.export import relocate_external
    src = os.path.join(MODELS, "fixtures", "realexport", "emotion-llama-mini.onnx")
    full = onnx.load(src)
    want = {t.name: onnx.numpy_helper.to_array(t) for t in full.graph.initializer}
    trace = tmp_path / "trace"
    trace.mkdir()
    onnx.save_model(full, str(trace / "graph.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=False, size_threshold=1024)
    proto = onnx.load(str(trace / "graph.onnx"), load_external_data=False)
    assert relocate_external(proto, str(trace), str(tmp_path / "m.weights"))
    shutil.rmtree(trace)
    onnx.save_model(proto, str(tmp_path / "m.onnx"))
    onnx.checker.check_model(str(tmp_path / "m.onnx"))
    back = {t.name: onnx.numpy_helper.to_array(t)
            for t in onnx.load(str(tmp_path / "m.onnx")).graph.initializer}
    assert back.keys() == want.keys()
    assert all(np.array_equal(back[k], want[k]) for k in want)
    assert not relocate_external(onnx.load(src), str(tmp_path), str(tmp_path / "none"))
