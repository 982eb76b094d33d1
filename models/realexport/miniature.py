"""A miniature of the real files: the same formats and key names, tiny widths, random weights.

Writes into one folder:

- `llama/`: a Hugging Face LLaMA folder — `config.json`, two safetensors shards with
  `model.safetensors.index.json`, and `tokenizer.model`, a SentencePiece BPE model trained here
  with python3-sentencepiece (LLaMA's special ids: unk 0, BOS 1, EOS 2, no pad; byte fallback;
  identity normalisation with a dummy prefix), plus `tokenizer_config.json`;
- `eva_vit_g.pth`: EVA ViT weights with create_eva_vit_g's key names, its position embedding
  stored for a 224 px input (16 × 16 patches, interpolated at load as the original does) and one
  block more than the model uses (as EVA-CLIP-g's 40th block);
- `hubert/`: `config.json` (feat_extract_norm "layer", do_stable_layer_norm, as
  chinese-hubert-large), `preprocessor_config.json`, `pytorch_model.bin` with HubertModel's key
  names (weight-normed positional conv as weight_g / weight_v);
- `minigptv2_checkpoint.pth` and `emotion_llama.pth`: training checkpoints ({"model": …,
  "optimizer": …, "epoch": …}) with llama_proj, peft 0.2 LoRA names on q_proj/v_proj
  (`llama_model.base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`), the feature
  and CLS projections and the unused fusion `attention.*` module;
- `mosear.pth`: a MoSEAR-layout checkpoint in the default mapping (mose_mapping.json).

Usage: python3 -m realexport miniature <out-folder> [--seed N]
"""

from __future__ import annotations

import io
import json
import os
from typing import Dict, List

import numpy as np
import torch

from .prompt import INSTRUCTION, LABELS
from .readers import write_safetensors

#: Sizes of the miniature (real: LLaMA d 4096 × 32 layers × 32 heads; EVA 1408 × 39 × 16;
#: HuBERT large 1024 × 24 × 16, conv 512; features 1024; LoRA r 64).
MINI = {
    "llama": {"hidden": 64, "layers": 2, "heads": 4, "ffn": 128, "rms_eps": 1e-5,
              "rope_theta": 10000.0},
    "vocab": 600,
    "eva": {"width": 176, "heads": 2, "depth": 2, "mlp": 352, "patch": 14, "stored_grid": 16},
    "hubert": {"conv": 32, "hidden": 48, "layers": 2, "heads": 2, "ffn": 96, "pos_k": 16,
               "pos_groups": 4},
    "feature_dim": 32,
    "lora_rank": 8,
}

TRANSCRIPTS = [
    "I can't believe you did this to me again", "Oh no, my phone and wallet are all in my bag",
    "Why are you looking at me like this?", "I'm not going in anymore, scared",
    "Do you believe that you push me around?", "Make him different from before",
    "That is wonderful news, thank you so much", "Leave me alone, I don't want to talk",
    "Ça va très bien, merci", "我很高兴见到你",
]


def train_tokenizer(path: str, vocab_size: int) -> None:
    """A small LLaMA-like SentencePiece model (BPE, byte fallback, unk 0 / BOS 1 / EOS 2)."""
    import sentencepiece as spm
    lines: List[str] = []
    for t in TRANSCRIPTS:
        lines.append(INSTRUCTION.format(transcript=t))
        lines.append("[INST] " + t + " [/INST]")
    for label in LABELS:
        lines += [f"{label} " * 8, f"The emotion is {label}."] * 4
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines * 4), model_writer=model, vocab_size=vocab_size,
        model_type="bpe", byte_fallback=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        character_coverage=1.0, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True, split_digits=True,
        num_threads=1, minloglevel=2)
    with open(path, "wb") as f:
        f.write(model.getvalue())


def rand(g: torch.Generator, *shape: int, std: float = 0.02) -> torch.Tensor:
    return torch.randn(*shape, generator=g) * std


def llama_folder(out: str, g: torch.Generator) -> int:
    os.makedirs(out, exist_ok=True)
    tok = os.path.join(out, "tokenizer.model")
    train_tokenizer(tok, MINI["vocab"])
    import sentencepiece as spm
    vocab = spm.SentencePieceProcessor(model_file=tok).GetPieceSize()
    c = MINI["llama"]
    d, ff, L = c["hidden"], c["ffn"], c["layers"]
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": d,
              "intermediate_size": ff, "num_hidden_layers": L, "num_attention_heads": c["heads"],
              "num_key_value_heads": c["heads"], "vocab_size": vocab, "hidden_act": "silu",
              "rms_norm_eps": c["rms_eps"], "rope_theta": c["rope_theta"],
              "max_position_embeddings": 4096, "bos_token_id": 1, "eos_token_id": 2,
              "pad_token_id": 0, "tie_word_embeddings": False, "torch_dtype": "float16",
              "initializer_range": 0.02, "pretraining_tp": 1, "rope_scaling": None}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
                   "legacy": True}, f, indent=2)
    t: Dict[str, torch.Tensor] = {"model.embed_tokens.weight": rand(g, vocab, d, std=1.0),
                                  "model.norm.weight": 1 + rand(g, d, std=0.1),
                                  "lm_head.weight": rand(g, vocab, d, std=0.3)}
    for i in range(L):
        p = f"model.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            t[p + f"self_attn.{n}.weight"] = rand(g, d, d, std=d ** -0.5)
        t[p + "self_attn.rotary_emb.inv_freq"] = 1.0 / (
            c["rope_theta"] ** (torch.arange(0, d // c["heads"], 2).float() / (d // c["heads"])))
        t[p + "mlp.gate_proj.weight"] = rand(g, ff, d, std=d ** -0.5)
        t[p + "mlp.up_proj.weight"] = rand(g, ff, d, std=d ** -0.5)
        t[p + "mlp.down_proj.weight"] = rand(g, d, ff, std=ff ** -0.5)
        t[p + "input_layernorm.weight"] = 1 + rand(g, d, std=0.1)
        t[p + "post_attention_layernorm.weight"] = 1 + rand(g, d, std=0.1)
    names = sorted(t)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map: Dict[str, str] = {}
    total = 0
    for k, shard in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        arrays = {n: t[n].half().numpy() for n in shard}  # stored as float16, like the hub
        write_safetensors(os.path.join(out, fname), arrays)
        for n in shard:
            weight_map[n] = fname
            total += arrays[n].nbytes
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    return vocab


def eva_weights(path: str, g: torch.Generator) -> None:
    c = MINI["eva"]
    d, p, mlp = c["width"], c["patch"], c["mlp"]
    t: Dict[str, torch.Tensor] = {
        "cls_token": rand(g, 1, 1, d, std=0.5),
        "pos_embed": rand(g, 1, 1 + c["stored_grid"] ** 2, d, std=0.5),
        "patch_embed.proj.weight": rand(g, d, 3, p, p, std=(3 * p * p) ** -0.5),
        "patch_embed.proj.bias": rand(g, d),
    }
    for i in range(c["depth"] + 1):  # one block more than create_eva_vit_g uses
        b = f"blocks.{i}."
        t.update({b + "norm1.weight": 1 + rand(g, d, std=0.1), b + "norm1.bias": rand(g, d),
                  b + "attn.qkv.weight": rand(g, 3 * d, d, std=d ** -0.5),
                  b + "attn.q_bias": rand(g, d, std=0.1), b + "attn.v_bias": rand(g, d, std=0.1),
                  b + "attn.proj.weight": rand(g, d, d, std=d ** -0.5),
                  b + "attn.proj.bias": rand(g, d),
                  b + "norm2.weight": 1 + rand(g, d, std=0.1), b + "norm2.bias": rand(g, d),
                  b + "mlp.fc1.weight": rand(g, mlp, d, std=d ** -0.5),
                  b + "mlp.fc1.bias": rand(g, mlp),
                  b + "mlp.fc2.weight": rand(g, d, mlp, std=mlp ** -0.5),
                  b + "mlp.fc2.bias": rand(g, d)})
    torch.save(t, path)


def hubert_config() -> Dict[str, object]:
    c = MINI["hubert"]
    return {"architectures": ["HubertModel"], "model_type": "hubert",
            "conv_dim": [c["conv"]] * 7, "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
            "conv_stride": [5, 2, 2, 2, 2, 2, 2], "conv_bias": True,
            "feat_extract_norm": "layer", "feat_extract_activation": "gelu",
            "feat_proj_layer_norm": True, "do_stable_layer_norm": True,
            "hidden_size": c["hidden"], "num_hidden_layers": c["layers"],
            "num_attention_heads": c["heads"], "intermediate_size": c["ffn"],
            "hidden_act": "gelu", "num_conv_pos_embeddings": c["pos_k"],
            "num_conv_pos_embedding_groups": c["pos_groups"], "layer_norm_eps": 1e-5}


def hubert_state(cfg: Dict[str, object], g: torch.Generator) -> Dict[str, torch.Tensor]:
    """HubertModel keys for `cfg` (feat_extract_norm "layer" or "group")."""
    conv_dim = cfg["conv_dim"]
    kernels = cfg["conv_kernel"]
    d, ff = int(cfg["hidden_size"]), int(cfg["intermediate_size"])  # type: ignore[arg-type]
    k, groups = int(cfg["num_conv_pos_embeddings"]), int(cfg["num_conv_pos_embedding_groups"])  # type: ignore[arg-type]  # noqa: E501
    t: Dict[str, torch.Tensor] = {"masked_spec_embed": torch.rand(d, generator=g)}
    c_in = 1
    for i, (c, kk) in enumerate(zip(conv_dim, kernels)):  # type: ignore[call-overload]
        p = f"feature_extractor.conv_layers.{i}."
        t[p + "conv.weight"] = rand(g, c, c_in, kk, std=(c_in * kk) ** -0.5)
        if cfg.get("conv_bias"):
            t[p + "conv.bias"] = rand(g, c, std=0.1)
        if cfg["feat_extract_norm"] == "layer" or i == 0:
            t[p + "layer_norm.weight"] = 1 + rand(g, c, std=0.1)
            t[p + "layer_norm.bias"] = rand(g, c, std=0.1)
        c_in = c
    t["feature_projection.layer_norm.weight"] = 1 + rand(g, c_in, std=0.1)
    t["feature_projection.layer_norm.bias"] = rand(g, c_in, std=0.1)
    t["feature_projection.projection.weight"] = rand(g, d, c_in, std=c_in ** -0.5)
    t["feature_projection.projection.bias"] = rand(g, d, std=0.1)
    pw = "encoder.pos_conv_embed.conv."
    t[pw + "weight_g"] = 0.5 + torch.rand(1, 1, k, generator=g)
    t[pw + "weight_v"] = rand(g, d, d // groups, k, std=1.0)
    t[pw + "bias"] = rand(g, d, std=0.1)
    t["encoder.layer_norm.weight"] = 1 + rand(g, d, std=0.1)
    t["encoder.layer_norm.bias"] = rand(g, d, std=0.1)
    for i in range(int(cfg["num_hidden_layers"])):  # type: ignore[arg-type]
        p = f"encoder.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            t[p + f"attention.{n}.weight"] = rand(g, d, d, std=d ** -0.5)
            t[p + f"attention.{n}.bias"] = rand(g, d, std=0.1)
        t[p + "layer_norm.weight"] = 1 + rand(g, d, std=0.1)
        t[p + "layer_norm.bias"] = rand(g, d, std=0.1)
        t[p + "feed_forward.intermediate_dense.weight"] = rand(g, ff, d, std=d ** -0.5)
        t[p + "feed_forward.intermediate_dense.bias"] = rand(g, ff, std=0.1)
        t[p + "feed_forward.output_dense.weight"] = rand(g, d, ff, std=ff ** -0.5)
        t[p + "feed_forward.output_dense.bias"] = rand(g, d, std=0.1)
        t[p + "final_layer_norm.weight"] = 1 + rand(g, d, std=0.1)
        t[p + "final_layer_norm.bias"] = rand(g, d, std=0.1)
    return t


def hubert_folder(out: str, g: torch.Generator) -> None:
    os.makedirs(out, exist_ok=True)
    cfg = hubert_config()
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump({"do_normalize": True, "feature_extractor_type": "Wav2Vec2FeatureExtractor",
                   "feature_size": 1, "padding_side": "right", "padding_value": 0,
                   "return_attention_mask": False, "sampling_rate": 16000}, f, indent=2)
    torch.save(hubert_state(cfg, g), os.path.join(out, "pytorch_model.bin"))


LORA_KEY = "llama_model.base_model.model.model.layers.{layer}.self_attn.{proj}"


def projections(g: torch.Generator, with_features: bool) -> Dict[str, torch.Tensor]:
    d, e, f = MINI["llama"]["hidden"], MINI["eva"]["width"], MINI["feature_dim"]
    h = MINI["hubert"]["hidden"]
    t = {"llama_proj.weight": rand(g, d, 4 * e, std=(4 * e) ** -0.5),
         "llama_proj.bias": rand(g, d, std=0.1)}
    if with_features:
        for i, n in ((1, f), (2, f), (3, h)):
            t[f"feats_llama_proj{i}.weight"] = rand(g, d, n, std=n ** -0.5)
            t[f"feats_llama_proj{i}.bias"] = rand(g, d, std=0.3)
        t["cls_tk_llama_proj.weight"] = rand(g, d, e, std=e ** -0.5)
        t["cls_tk_llama_proj.bias"] = rand(g, d, std=0.1)
        # minigpt_base.Attention (fusion; unused in forward): a few of its real key names
        t["attention.feats_prep.0.0.weight"] = rand(g, 256, 1024)
        t["attention.feats_prep.0.0.bias"] = rand(g, 256)
        t["attention.fc_att.weight"] = rand(g, 7, 128)
        t["attention.fc_out.weight"] = rand(g, 6, 128)
    return t


def lora(g: torch.Generator, layers: int, b_names: List[str]) -> Dict[str, torch.Tensor]:
    d, r = MINI["llama"]["hidden"], MINI["lora_rank"]
    t: Dict[str, torch.Tensor] = {}
    for i in range(layers):
        for proj in ("q_proj", "v_proj"):
            key = LORA_KEY.format(layer=i, proj=proj)
            t[key + ".lora_A.weight"] = rand(g, r, d, std=d ** -0.5)
            for b in b_names:
                t[key + f".{b}.weight"] = rand(g, d, r, std=0.5)
    return t


def training_checkpoint(path: str, model: Dict[str, torch.Tensor]) -> None:
    """Saved like MiniGPT-4's runner: {"model", "optimizer", "config", "scaler", "epoch"}."""
    torch.save({"model": {k: v.half() for k, v in model.items()}, "optimizer": {"state": {}},
                "config": {"model": {"arch": "minigpt_v2", "lora_r": MINI["lora_rank"],
                                     "lora_alpha": 16}},
                "scaler": None, "epoch": 3}, path)


def generate(out: str, seed: int = 0) -> Dict[str, str]:
    """Write the miniature into `out`; returns the paths the exporter takes."""
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    llama_folder(os.path.join(out, "llama"), g)
    eva_weights(os.path.join(out, "eva_vit_g.pth"), g)
    hubert_folder(os.path.join(out, "hubert"), g)
    L = MINI["llama"]["layers"]
    training_checkpoint(os.path.join(out, "minigptv2_checkpoint.pth"),
                        {**projections(g, False), **lora(g, L, ["lora_B"])})
    training_checkpoint(os.path.join(out, "emotion_llama.pth"),
                        {**projections(g, True), **lora(g, L, ["lora_B"])})
    mose = {**projections(g, True),
            **lora(g, L, ["lora_B", "lora_B_visual", "lora_B_nonvisual"])}
    d = MINI["llama"]["hidden"]
    for i in range(L):
        gate = f"llama_model.base_model.model.model.layers.{i}.mose_gate"
        mose[gate + ".weight"] = rand(g, 1, 2 * d, std=0.5)
        mose[gate + ".bias"] = rand(g, 1, std=0.1)
    training_checkpoint(os.path.join(out, "mosear.pth"), mose)
    paths = {"llama": "llama", "eva": "eva_vit_g.pth", "hubert": "hubert",
             "minigptv2": "minigptv2_checkpoint.pth", "checkpoint": "emotion_llama.pth",
             "mosear": "mosear.pth"}
    return {k: os.path.join(out, v) for k, v in paths.items()}


def feature_vectors(seed: int = 1) -> np.ndarray:
    """FaceMAE and VideoMAE stand-ins [2, feature_dim] (for the optional-features path)."""
    return np.random.default_rng(seed).standard_normal((2, MINI["feature_dim"])).astype(
        np.float32)
