"""The building blocks of Emotion-LLaMA / MoSEAR as plain torch modules (no transformers/peft).

Each block states the published definition it follows; tests/test_realexport.py checks each
fact named here. Weights are loaded from a `readers.Ledger` by the real checkpoints' key names.
Everything runs in float32 (the original runs EVA and LLaMA in float16; see the README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .readers import ExportError, Ledger


def linear_from(ledger: Ledger, prefix: str, d_in: Optional[int], d_out: Optional[int],
                bias: bool) -> Optional[nn.Linear]:
    """An nn.Linear from `prefix.weight` (and `prefix.bias`); None when a key is missing."""
    w = ledger.take(prefix + ".weight", [d_out, d_in])
    b = ledger.take(prefix + ".bias", [d_out]) if bias else None
    if w is None or (bias and b is None):
        return None
    lin = nn.Linear(w.shape[1], w.shape[0], bias=bias)
    with torch.no_grad():
        lin.weight.copy_(w)
        if b is not None:
            lin.bias.copy_(b)
    return lin


def layer_norm_from(ledger: Ledger, prefix: str, d: int, eps: float,
                    optional: bool = False) -> nn.LayerNorm:
    """nn.LayerNorm(d, eps) from `prefix.weight`/`.bias`; with `optional`, absent keys keep
    torch's initial values (weight 1, bias 0)."""
    ln = nn.LayerNorm(d, eps=eps)
    w = ledger.take(prefix + ".weight", [d], optional=optional)
    b = ledger.take(prefix + ".bias", [d], optional=optional)
    with torch.no_grad():
        if w is not None:
            ln.weight.copy_(w)
        if b is not None:
            ln.bias.copy_(b)
    return ln


# ---------------------------------------------------------------------------------------------
# LLaMA (Hugging Face LlamaForCausalLM conventions)


class RMSNorm(nn.Module):
    """HF LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · weight, eps = config `rms_norm_eps`."""

    def __init__(self, weight: torch.Tensor, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.clone())
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_inv_freq(head_dim: int, base: float) -> torch.Tensor:
    """HF LlamaRotaryEmbedding: inv_freq = 1 / base^(2i / head_dim), base = `rope_theta`."""
    return 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))


def rope_cos_sin(positions: torch.Tensor, inv_freq: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables [N, head_dim]: the angle table concatenated with itself (rotate-half)."""
    ang = positions[:, None] * inv_freq[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos(), ang.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """HF rotate_half: (x1, x2) → (−x2, x1) on the two halves of the last dimension."""
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    return x * cos + rotate_half(x) * sin


class AdaptedProjection(nn.Module):
    """A bias-free LLaMA projection W with an optional adapter.

    - LoRA (peft 0.2, `lora_A`: Linear(d_in, r), `lora_B`: Linear(r, d_out), both without bias):
      y = W x + (α / r) · B A x. `merged` folds (α / r) · B A into W: the same function (up to
      float32 rounding), one matmul instead of three.
    - MoSE: a shared A and three B — global, visual, non-visual:
      y = W x + (α / r) · (B_g A x + 2λ·[visual]·B_v A x + 2(1 − λ)·[non-visual]·B_n A x),
      λ the layer's gate (as mosear.model.AdaptedLinear, the miniature replication).
    """

    def __init__(self, weight: torch.Tensor, kind: str = "none",
                 a: Optional[torch.Tensor] = None, b: Optional[torch.Tensor] = None,
                 b_vis: Optional[torch.Tensor] = None, b_nonvis: Optional[torch.Tensor] = None,
                 scale: float = 1.0, merged: bool = False) -> None:
        super().__init__()
        self.kind = "none" if kind == "lora" and merged else kind
        w = weight.clone()
        if kind == "lora" and merged:
            assert a is not None and b is not None
            w = w + scale * (b @ a)
        self.weight = nn.Parameter(w)
        self.scale = scale
        if self.kind in ("lora", "mose"):
            assert a is not None and b is not None
            self.a = nn.Parameter(a.clone())
            self.b = nn.Parameter(b.clone())
        if self.kind == "mose":
            assert b_vis is not None and b_nonvis is not None
            self.b_vis = nn.Parameter(b_vis.clone())
            self.b_nonvis = nn.Parameter(b_nonvis.clone())

    def forward(self, x: torch.Tensor, vis_mask: Optional[torch.Tensor] = None,
                lam: Optional[torch.Tensor] = None) -> torch.Tensor:
        y = torch.matmul(x, self.weight.t())
        if self.kind == "none":
            return y
        u = torch.matmul(x, self.a.t())
        delta = torch.matmul(u, self.b.t())
        if self.kind == "mose":
            assert vis_mask is not None and lam is not None
            wv = 2.0 * lam * vis_mask[None, :, None]
            wn = 2.0 * (1.0 - lam) * (1.0 - vis_mask)[None, :, None]
            delta = delta + wv * torch.matmul(u, self.b_vis.t()) \
                + wn * torch.matmul(u, self.b_nonvis.t())
        return y + self.scale * delta


class MoSEGate(nn.Module):
    """λ = 0.5 + ε·tanh(w · [mean of visual rows, mean of non-visual rows] + b), so λ stays in
    [0.5 − ε, 0.5 + ε] (MoSEAR's bounded gate; the pooling follows the miniature replication,
    since MoSEAR's code is not public — the mapping file names the weights)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> None:
        super().__init__()
        self.proj = nn.Linear(weight.shape[1], 1)
        with torch.no_grad():
            self.proj.weight.copy_(weight.reshape(1, -1))
            self.proj.bias.copy_(bias.reshape(1))
        self.eps = eps

    def forward(self, h: torch.Tensor, vis_mask: torch.Tensor) -> torch.Tensor:  # → [] (batch 1)
        pv = (h[0] * vis_mask[:, None]).sum(0) / vis_mask.sum()
        pn = (h[0] * (1.0 - vis_mask)[:, None]).sum(0) / (1.0 - vis_mask).sum()
        return 0.5 + self.eps * torch.tanh(self.proj(torch.cat([pv, pn])).reshape(()))


@dataclass
class LlamaConfig:
    """The fields of a HF LLaMA config.json the exporter uses."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    rms_norm_eps: float
    rope_theta: float
    bos_token_id: int
    eos_token_id: int

    @staticmethod
    def from_json(cfg: Dict[str, object], path: str) -> "LlamaConfig":
        need = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "vocab_size", "rms_norm_eps"]
        missing = [k for k in need if k not in cfg]
        if missing:
            raise ExportError(f"{path}: not a LLaMA config.json (missing {', '.join(missing)})")
        if cfg.get("model_type", "llama") != "llama":
            raise ExportError(f"{path}: model_type is {cfg.get('model_type')!r}, not 'llama'")
        if cfg.get("rope_scaling"):
            raise ExportError(f"{path}: rope_scaling {cfg['rope_scaling']} is not supported "
                              f"(Llama-2-7b-chat-hf has none)")
        if cfg.get("hidden_act", "silu") != "silu":
            raise ExportError(f"{path}: hidden_act {cfg['hidden_act']!r}, expected 'silu'")
        heads = int(cfg["num_attention_heads"])  # type: ignore[arg-type]
        return LlamaConfig(
            hidden_size=int(cfg["hidden_size"]),  # type: ignore[arg-type]
            intermediate_size=int(cfg["intermediate_size"]),  # type: ignore[arg-type]
            num_hidden_layers=int(cfg["num_hidden_layers"]),  # type: ignore[arg-type]
            num_attention_heads=heads,
            num_key_value_heads=int(cfg.get("num_key_value_heads") or heads),  # type: ignore
            vocab_size=int(cfg["vocab_size"]),  # type: ignore[arg-type]
            rms_norm_eps=float(cfg["rms_norm_eps"]),  # type: ignore[arg-type]
            rope_theta=float(cfg.get("rope_theta") or 10000.0),  # type: ignore[arg-type]
            bos_token_id=int(cfg.get("bos_token_id", 1)),  # type: ignore[arg-type]
            eos_token_id=int(cfg.get("eos_token_id", 2)),  # type: ignore[arg-type]
        )


#: Keys a HF LLaMA folder may hold that inference never uses.
LLAMA_IGNORE = [("model.layers.*.self_attn.rotary_emb.inv_freq",
                 "RoPE's frequency buffer, saved by older transformers; recomputed from "
                 "rope_theta")]


# ---------------------------------------------------------------------------------------------
# EVA-CLIP ViT-g (minigpt4/models/eva_vit.py: create_eva_vit_g)


class EvaBlock(nn.Module):
    """Pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)); LayerNorm eps 1e-6;
    attention with a q bias and a v bias but **no k bias** (the qkv bias is
    cat(q_bias, 0, v_bias)); scale head_dim^−½; GELU (erf) MLP; optional layer scale gamma."""

    def __init__(self, ledger: Ledger, prefix: str, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = layer_norm_from(ledger, prefix + ".norm1", d, 1e-6)
        self.norm2 = layer_norm_from(ledger, prefix + ".norm2", d, 1e-6)
        qkv = ledger.take(prefix + ".attn.qkv.weight", [3 * d, d])
        q_bias = ledger.take(prefix + ".attn.q_bias", [d])
        v_bias = ledger.take(prefix + ".attn.v_bias", [d])
        self.qkv_weight = nn.Parameter(qkv if qkv is not None else torch.zeros(3 * d, d))
        zeros = torch.zeros(d)
        self.register_buffer("qkv_bias", torch.cat([
            q_bias if q_bias is not None else zeros, zeros,
            v_bias if v_bias is not None else zeros]))
        self.proj = linear_from(ledger, prefix + ".attn.proj", d, d, True)
        self.fc1 = linear_from(ledger, prefix + ".mlp.fc1", d, None, True)
        hidden = self.fc1.out_features if self.fc1 is not None else 1
        self.fc2 = linear_from(ledger, prefix + ".mlp.fc2", hidden, d, True)
        g1 = ledger.take(prefix + ".gamma_1", [d], optional=True)
        g2 = ledger.take(prefix + ".gamma_2", [d], optional=True)
        self.gamma_1 = nn.Parameter(g1) if g1 is not None else None
        self.gamma_2 = nn.Parameter(g2) if g2 is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = F.linear(self.norm1(x), self.qkv_weight, self.qkv_bias)
        qkv = qkv.reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax(torch.matmul(q * (d // self.heads) ** -0.5, k.transpose(-2, -1)), -1)
        a = self.proj(torch.matmul(att, v).transpose(1, 2).reshape(b, n, d))
        x = x + (a * self.gamma_1 if self.gamma_1 is not None else a)
        m = self.fc2(F.gelu(self.fc1(self.norm2(x))))
        return x + (m * self.gamma_2 if self.gamma_2 is not None else m)


def interpolate_pos_embed(pos: torch.Tensor, grid: int) -> torch.Tensor:
    """EVA's interpolate_pos_embed: keep the CLS row, resize the square patch grid bicubically
    (torch's bicubic, align_corners False) to grid × grid. [1, 1 + g², d] → [1, 1 + grid², d]."""
    d = pos.shape[-1]
    orig = int(round(math.sqrt(pos.shape[1] - 1)))
    if orig * orig != pos.shape[1] - 1:
        raise ExportError(f"EVA pos_embed has {pos.shape[1] - 1} patch rows, not a square grid")
    if orig == grid:
        return pos
    tokens = pos[:, 1:].reshape(1, orig, orig, d).permute(0, 3, 1, 2)
    tokens = F.interpolate(tokens, size=(grid, grid), mode="bicubic", align_corners=False)
    return torch.cat([pos[:, :1], tokens.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)


class EvaViT(nn.Module):
    """EVA-CLIP ViT-g as create_eva_vit_g builds it (patch 14, width 1408, 39 blocks, 16 heads,
    MLP 6144, no final norm: forward returns the last block's output, CLS first). Width, MLP
    width and patch size are read from the weights; depth = 39 at width 1408 (the file may hold
    a 40th block, unused), else the stored blocks − 1 (miniatures); heads = width / 88
    (1408 // 88 = 16) unless given."""

    def __init__(self, ledger: Ledger, image_size: int, heads: Optional[int] = None,
                 depth: Optional[int] = None) -> None:
        super().__init__()
        pe = ledger.tensors.get("patch_embed.proj.weight")
        if pe is None or pe.dim() != 4:
            raise ExportError(f"{ledger.name}: no patch_embed.proj.weight — not EVA ViT weights")
        d, patch = int(pe.shape[0]), int(pe.shape[2])
        self.d, self.patch = d, patch
        self.grid = image_size // patch
        w = ledger.take("patch_embed.proj.weight", [d, 3, patch, patch])
        bias = ledger.take("patch_embed.proj.bias", [d])
        self.patch_embed = nn.Conv2d(3, d, patch, patch)
        with torch.no_grad():
            if w is not None and bias is not None:
                self.patch_embed.weight.copy_(w)
                self.patch_embed.bias.copy_(bias)
        cls = ledger.take("cls_token", [1, 1, d])
        pos = ledger.take("pos_embed", [1, None, d])
        self.cls_token = nn.Parameter(cls if cls is not None else torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(interpolate_pos_embed(pos, self.grid) if pos is not None
                                      else torch.zeros(1, 1 + self.grid ** 2, d))
        stored = sorted({int(k.split(".")[1]) for k in ledger.tensors if k.startswith("blocks.")})
        if not stored:
            raise ExportError(f"{ledger.name}: no blocks.N.* keys — not EVA ViT weights")
        # create_eva_vit_g hard-codes depth 39 (EVA-CLIP-g has 40 layers; BLIP-2 drops the last,
        # loading with strict=False). Other widths (miniatures) store one unused block too.
        self.depth = depth if depth is not None else (39 if d == 1408 else len(stored) - 1)
        if self.depth > len(stored):
            raise ExportError(f"{ledger.name}: {len(stored)} blocks stored, {self.depth} needed")
        self.heads = heads or max(1, d // 88)
        self.blocks = nn.ModuleList([EvaBlock(ledger, f"blocks.{i}", d, self.heads)
                                     for i in range(self.depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, 3, S, S] → [B, 1 + g², d]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return x


def eva_ignore(depth: int) -> List[Tuple[str, str]]:
    """What EVA weight files carry that create_eva_vit_g never uses."""
    return [(f"blocks.{depth}.*", "EVA-CLIP-g's 40th block: create_eva_vit_g builds 39 blocks "
                                  "and loads with strict=False"),
            ("norm.*", "the final norm, commented out in eva_vit.py's forward"),
            ("fc_norm.*", "the pooling norm (use_mean_pooling=False)"),
            ("head.*", "the classification head (removed in forward)"),
            ("rel_pos_bias.*", "relative position bias (use_rel_pos_bias False)")]


# ---------------------------------------------------------------------------------------------
# HuBERT (HF HubertModel conventions)


@dataclass
class HubertConfig:
    conv_dim: List[int]
    conv_kernel: List[int]
    conv_stride: List[int]
    conv_bias: bool
    feat_extract_norm: str  # "group" | "layer"
    feat_proj_layer_norm: bool
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    num_conv_pos_embeddings: int
    num_conv_pos_embedding_groups: int
    layer_norm_eps: float
    do_stable_layer_norm: bool

    @staticmethod
    def from_json(cfg: Dict[str, object], path: str) -> "HubertConfig":
        need = ["conv_dim", "conv_kernel", "conv_stride", "hidden_size", "num_hidden_layers",
                "num_attention_heads", "intermediate_size"]
        missing = [k for k in need if k not in cfg]
        if missing:
            raise ExportError(f"{path}: not a HuBERT config.json (missing {', '.join(missing)})")
        norm = str(cfg.get("feat_extract_norm", "group"))
        if norm not in ("group", "layer"):
            raise ExportError(f"{path}: feat_extract_norm {norm!r}, expected group or layer")
        for act_key in ("feat_extract_activation", "hidden_act"):
            if cfg.get(act_key, "gelu") != "gelu":
                raise ExportError(f"{path}: {act_key} {cfg[act_key]!r} is not supported (gelu)")
        return HubertConfig(
            conv_dim=[int(x) for x in cfg["conv_dim"]],  # type: ignore[union-attr]
            conv_kernel=[int(x) for x in cfg["conv_kernel"]],  # type: ignore[union-attr]
            conv_stride=[int(x) for x in cfg["conv_stride"]],  # type: ignore[union-attr]
            conv_bias=bool(cfg.get("conv_bias", False)),
            feat_extract_norm=norm,
            feat_proj_layer_norm=bool(cfg.get("feat_proj_layer_norm", True)),
            hidden_size=int(cfg["hidden_size"]),  # type: ignore[arg-type]
            num_hidden_layers=int(cfg["num_hidden_layers"]),  # type: ignore[arg-type]
            num_attention_heads=int(cfg["num_attention_heads"]),  # type: ignore[arg-type]
            intermediate_size=int(cfg["intermediate_size"]),  # type: ignore[arg-type]
            num_conv_pos_embeddings=int(cfg.get("num_conv_pos_embeddings", 128)),  # type: ignore
            num_conv_pos_embedding_groups=int(
                cfg.get("num_conv_pos_embedding_groups", 16)),  # type: ignore[arg-type]
            layer_norm_eps=float(cfg.get("layer_norm_eps", 1e-5)),  # type: ignore[arg-type]
            do_stable_layer_norm=bool(cfg.get("do_stable_layer_norm", False)),
        )

    def receptive_field(self) -> int:
        """Samples one output frame sees (400 for HuBERT's stack): the shortest input."""
        n = 1
        for k, s in zip(reversed(self.conv_kernel), reversed(self.conv_stride)):
            n = (n - 1) * s + k
        return n


def weight_norm_weight(g: torch.Tensor, v: torch.Tensor, dim: int = 2) -> torch.Tensor:
    """torch.nn.utils.weight_norm(conv, name="weight", dim=2): w = g · v / ‖v‖, the norm taken
    over every dimension except `dim` (HuBERT's positional conv uses dim=2)."""
    dims = [i for i in range(v.dim()) if i != dim]
    return g * v / v.pow(2).sum(dim=dims, keepdim=True).sqrt()


class HubertLayer(nn.Module):
    """Post-LN (base: attention, residual, layer_norm, FFN residual, final_layer_norm) or, with
    do_stable_layer_norm (large), pre-LN (layer_norm → attention → residual;
    final_layer_norm → FFN → residual). Attention scales q by head_dim^−½; biases everywhere."""

    def __init__(self, ledger: Ledger, prefix: str, cfg: HubertConfig) -> None:
        super().__init__()
        d, ff = cfg.hidden_size, cfg.intermediate_size
        self.cfg = cfg
        self.q = linear_from(ledger, prefix + ".attention.q_proj", d, d, True)
        self.k = linear_from(ledger, prefix + ".attention.k_proj", d, d, True)
        self.v = linear_from(ledger, prefix + ".attention.v_proj", d, d, True)
        self.o = linear_from(ledger, prefix + ".attention.out_proj", d, d, True)
        self.ln = layer_norm_from(ledger, prefix + ".layer_norm", d, cfg.layer_norm_eps)
        self.ff1 = linear_from(ledger, prefix + ".feed_forward.intermediate_dense", d, ff, True)
        self.ff2 = linear_from(ledger, prefix + ".feed_forward.output_dense", ff, d, True)
        self.final_ln = layer_norm_from(ledger, prefix + ".final_layer_norm", d,
                                        cfg.layer_norm_eps)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.cfg.num_attention_heads
        dh = d // h
        q = (self.q(x) * dh ** -0.5).reshape(b, n, h, dh).transpose(1, 2)
        k = self.k(x).reshape(b, n, h, dh).transpose(1, 2)
        v = self.v(x).reshape(b, n, h, dh).transpose(1, 2)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1)
        return self.o(torch.matmul(att, v).transpose(1, 2).reshape(b, n, d))

    def ffn(self, x: torch.Tensor) -> torch.Tensor:
        return self.ff2(F.gelu(self.ff1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.do_stable_layer_norm:
            x = x + self.attend(self.ln(x))
            return x + self.ffn(self.final_ln(x))
        x = self.ln(x + self.attend(x))
        return self.final_ln(x + self.ffn(x))


#: HuBERT checkpoint keys inference never uses.
HUBERT_IGNORE = [("masked_spec_embed", "the mask embedding, used only when training masks time "
                                       "steps"),
                 ("label_embeddings_concat", "pre-training targets"),
                 ("final_proj.*", "pre-training projection")]


class Hubert(nn.Module):
    """HF HubertModel: conv feature extractor (GroupNorm on the first conv when
    feat_extract_norm is "group", LayerNorm over channels after every conv when "layer"; GELU),
    feature projection (LayerNorm if feat_proj_layer_norm, then Linear), a weight-normed grouped
    positional conv (kernel K, padding K // 2, the last step dropped when K is even, GELU) added
    to the features, and the transformer layers. `forward` returns every hidden state as
    HubertModel(output_hidden_states=True) does: the input of each layer and the last output
    (after encoder.layer_norm when do_stable_layer_norm)."""

    def __init__(self, ledger: Ledger, cfg: HubertConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.convs = nn.ModuleList()
        self.conv_norms = nn.ModuleList()
        c_in = 1
        for i, (c, k, s) in enumerate(zip(cfg.conv_dim, cfg.conv_kernel, cfg.conv_stride)):
            p = f"feature_extractor.conv_layers.{i}"
            conv = nn.Conv1d(c_in, c, k, s, bias=cfg.conv_bias)
            w = ledger.take(p + ".conv.weight", [c, c_in, k])
            b = ledger.take(p + ".conv.bias", [c]) if cfg.conv_bias else None
            with torch.no_grad():
                if w is not None:
                    conv.weight.copy_(w)
                if b is not None:
                    conv.bias.copy_(b)
            self.convs.append(conv)
            norm: nn.Module = nn.Identity()
            if cfg.feat_extract_norm == "layer":
                norm = layer_norm_from(ledger, p + ".layer_norm", c, 1e-5)
            elif i == 0:
                gn = nn.GroupNorm(c, c, affine=True)
                gw = ledger.take(p + ".layer_norm.weight", [c])
                gb = ledger.take(p + ".layer_norm.bias", [c])
                with torch.no_grad():
                    if gw is not None and gb is not None:
                        gn.weight.copy_(gw)
                        gn.bias.copy_(gb)
                norm = gn
            self.conv_norms.append(norm)
            c_in = c
        d = cfg.hidden_size
        self.proj_ln = (layer_norm_from(ledger, "feature_projection.layer_norm", c_in,
                                        cfg.layer_norm_eps)
                        if cfg.feat_proj_layer_norm else None)
        self.proj = linear_from(ledger, "feature_projection.projection", c_in, d, True)
        k, g = cfg.num_conv_pos_embeddings, cfg.num_conv_pos_embedding_groups
        self.pos_conv = nn.Conv1d(d, d, k, padding=k // 2, groups=g)
        pw = "encoder.pos_conv_embed.conv."
        if ledger.has(pw + "weight_g"):
            wg = ledger.take(pw + "weight_g", [1, 1, k])
            wv = ledger.take(pw + "weight_v", [d, d // g, k])
        else:  # newer torch saves weight_norm as a parametrization
            wg = ledger.take(pw + "parametrizations.weight.original0", [1, 1, k])
            wv = ledger.take(pw + "parametrizations.weight.original1", [d, d // g, k])
        pb = ledger.take(pw + "bias", [d])
        with torch.no_grad():
            if wg is not None and wv is not None and pb is not None:
                self.pos_conv.weight.copy_(weight_norm_weight(wg, wv))
                self.pos_conv.bias.copy_(pb)
        self.drop_last = k % 2 == 0
        self.enc_ln = layer_norm_from(ledger, "encoder.layer_norm", d, cfg.layer_norm_eps)
        self.layers = nn.ModuleList([HubertLayer(ledger, f"encoder.layers.{i}", cfg)
                                     for i in range(cfg.num_hidden_layers)])

    def features(self, audio: torch.Tensor) -> torch.Tensor:  # [B, S] → [B, T, C]
        x = audio.unsqueeze(1)
        for conv, norm in zip(self.convs, self.conv_norms):
            x = conv(x)
            if isinstance(norm, nn.LayerNorm):
                x = norm(x.transpose(1, 2)).transpose(1, 2)
            else:
                x = norm(x)
            x = F.gelu(x)
        return x.transpose(1, 2)

    def forward(self, audio: torch.Tensor) -> List[torch.Tensor]:
        x = self.features(audio)
        if self.proj_ln is not None:
            x = self.proj_ln(x)
        x = self.proj(x)
        pos = self.pos_conv(x.transpose(1, 2))
        if self.drop_last:
            pos = pos[:, :, :-1]
        x = x + F.gelu(pos).transpose(1, 2)
        if not self.cfg.do_stable_layer_norm:
            x = self.enc_ln(x)
        states = []
        for layer in self.layers:
            states.append(x)
            x = layer(x)
        if self.cfg.do_stable_layer_norm:
            x = self.enc_ln(x)
        states.append(x)
        return states


def zero_mean_unit_var(audio: torch.Tensor) -> torch.Tensor:
    """Wav2Vec2FeatureExtractor with do_normalize: (x − mean) / sqrt(var + 1e-7), the population
    variance over the whole clip."""
    mean = audio.mean(dim=-1, keepdim=True)
    var = (audio - mean).pow(2).mean(dim=-1, keepdim=True)
    return (audio - mean) / torch.sqrt(var + 1e-7)


POOLINGS = {
    "last-mean": "the last hidden state averaged over time (the public demo, conversation.py)",
    "last4-sum-mean": "the sum of the last four hidden states averaged over time (reported for "
                      "the training features' extractor, which also cuts the audio into 10 s "
                      "chunks — not reproduced here)",
}


def pool_hubert(states: List[torch.Tensor], pooling: str) -> torch.Tensor:
    """Hidden states → one vector per clip [B, 1, d]."""
    if pooling == "last-mean":
        x = states[-1]
    elif pooling == "last4-sum-mean":
        x = torch.stack(states[-4:]).sum(0)
    else:
        raise ExportError(f"unknown HuBERT pooling {pooling!r} (one of {', '.join(POOLINGS)})")
    return x.mean(dim=1, keepdim=True)
