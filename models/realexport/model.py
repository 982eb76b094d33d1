"""Emotion-LLaMA / MoSEAR as one torch module built from the user's files, with the contract's
probes (mosear.model's AR/PAI logic on the answer row) — the function the exporter traces.

Facts (minigpt_v2.py `encode_img`, base_model.py): EVA-CLIP ViT-g → `ln_vision` (a LayerNorm the
checkpoints never store: frozen and freshly initialised, weight 1, bias 0) → CLS through
`cls_tk_llama_proj`, the 1024 patches viewed as 256 rows of 4 consecutive patches (4 · 1408) →
`llama_proj`; the three 1024-d features (FaceMAE, VideoMAE, HuBERT audio) through
`feats_llama_proj1..3`; order: patches, FaceMAE, VideoMAE, audio, CLS. The demo feeds zeros for
FaceMAE and VideoMAE. The language model is Llama-2 with peft LoRA (r 64, α 16) on q_proj and
v_proj.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mosear.model import Controls, LayerProbe, gate_heads, intervene, modality_masses

from .blocks import (HUBERT_IGNORE, LLAMA_IGNORE, AdaptedProjection, EvaViT, Hubert,
                     HubertConfig, LlamaConfig, MoSEGate, RMSNorm, apply_rope, eva_ignore,
                     layer_norm_from, linear_from, pool_hubert, rope_cos_sin, rope_inv_freq,
                     zero_mean_unit_var)
from .prompt import LABELS, TextSegment, Tokenizer, segments
from .readers import ExportError, Ledger, read_json

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
LORA_PREFIX = "llama_model.base_model.model.model.layers.{layer}.self_attn.{proj}"
#: Emotion-LLaMA / MiniGPT-v2 checkpoint keys inference never uses.
CKPT_IGNORE = [("attention.*", "the fusion Attention module of minigpt_base.py; its use in "
                               "forward is commented out")]
DEFAULT_MAPPING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mose_mapping.json")


@dataclass
class Sources:
    """The user's files."""

    llama: str  # HF folder: config.json, weights, tokenizer.model
    eva: str  # eva_vit_g.pth (or a safetensors file)
    hubert: str  # HF folder of chinese-hubert-large
    checkpoint: str  # Emotion-LLaMA .pth (or a MoSEAR checkpoint with --adapter mose)
    minigptv2: Optional[str] = None  # MiniGPT-v2 .pth, loaded first (its keys are overridden)


@dataclass
class Options:
    adapter: str = "lora"  # "lora" | "mose"
    lora_rank: int = 64
    lora_alpha: float = 16.0
    lora_merged: bool = True
    mapping: str = DEFAULT_MAPPING
    assembly: str = "context"
    pooling: str = "last-mean"
    image_size: int = 448
    eva_heads: Optional[int] = None
    eva_depth: Optional[int] = None
    transcript: str = ""
    labels: List[str] = field(default_factory=lambda: list(LABELS))


def load_mapping(path: str) -> Dict[str, Any]:
    m = read_json(path)
    need = ["targets", "lora_A", "lora_B_global", "lora_B_visual", "lora_B_nonvisual",
            "gate_weight", "gate_bias", "eps"]
    missing = [k for k in need if k not in m]
    if missing:
        raise ExportError(f"{path}: the MoSE mapping lacks {', '.join(missing)}")
    return m


def merge_checkpoints(sources: Sources) -> Ledger:
    """The Emotion-LLaMA (or MoSEAR) checkpoint, over the MiniGPT-v2 one when given — as
    load_state_dict(strict=False) applied in that order."""
    ckpt = Ledger.open("checkpoint " + sources.checkpoint, sources.checkpoint, CKPT_IGNORE)
    if sources.minigptv2:
        base = Ledger.open("MiniGPT-v2 " + sources.minigptv2, sources.minigptv2, CKPT_IGNORE)
        for k, v in base.tensors.items():
            if k not in ckpt.tensors:
                ckpt.tensors[k] = v
                ckpt.files[k] = base.files[k]
    return ckpt


class LlamaLayer(nn.Module):
    """HF LlamaDecoderLayer (pre-RMSNorm attention and SwiGLU MLP, RoPE on q and k) with the
    contract's probe and intervention on the answer row (the last position)."""

    def __init__(self, index: int, cfg: LlamaConfig, base: Ledger, ckpt: Ledger,
                 opts: Options, mapping: Optional[Dict[str, Any]]) -> None:
        super().__init__()
        self.index = index
        d, h, kv = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads
        dh = d // h
        self.heads, self.kv_heads, self.dh = h, kv, dh
        p = f"model.layers.{index}."
        ln1 = base.take(p + "input_layernorm.weight", [d])
        ln2 = base.take(p + "post_attention_layernorm.weight", [d])
        self.norm1 = RMSNorm(ln1 if ln1 is not None else torch.ones(d), cfg.rms_norm_eps)
        self.norm2 = RMSNorm(ln2 if ln2 is not None else torch.ones(d), cfg.rms_norm_eps)
        shapes = {"q_proj": (h * dh, d), "k_proj": (kv * dh, d), "v_proj": (kv * dh, d),
                  "o_proj": (d, h * dh)}
        self.gate: Optional[MoSEGate] = None
        if mapping is not None:
            gw = ckpt.take(mapping["gate_weight"].format(layer=index), [1, 2 * d])
            gb = ckpt.take(mapping["gate_bias"].format(layer=index), [1])
            if gw is not None and gb is not None:
                self.gate = MoSEGate(gw, gb, float(mapping["eps"]))
        targets = mapping["targets"] if mapping is not None else ["q_proj", "v_proj"]
        proj: Dict[str, AdaptedProjection] = {}
        r, scale = opts.lora_rank, opts.lora_alpha / opts.lora_rank
        for name, (o, i) in shapes.items():
            w = base.take(p + f"self_attn.{name}.weight", [o, i])
            w = w if w is not None else torch.zeros(o, i)
            if name not in targets:
                proj[name] = AdaptedProjection(w)
            elif mapping is None:
                key = LORA_PREFIX.format(layer=index, proj=name)
                a = ckpt.take(key + ".lora_A.weight", [r, i])
                b = ckpt.take(key + ".lora_B.weight", [o, r])
                proj[name] = (AdaptedProjection(w, "lora", a, b, scale=scale,
                                                merged=opts.lora_merged)
                              if a is not None and b is not None else AdaptedProjection(w))
            else:
                fmt = {"layer": index, "proj": name}
                a = ckpt.take(mapping["lora_A"].format(**fmt), [r, i])
                bg = ckpt.take(mapping["lora_B_global"].format(**fmt), [o, r])
                bv = ckpt.take(mapping["lora_B_visual"].format(**fmt), [o, r])
                bn = ckpt.take(mapping["lora_B_nonvisual"].format(**fmt), [o, r])
                ok = all(t is not None for t in (a, bg, bv, bn))
                proj[name] = (AdaptedProjection(w, "mose", a, bg, bv, bn, scale=scale)
                              if ok else AdaptedProjection(w))
        self.q, self.k = proj["q_proj"], proj["k_proj"]
        self.v, self.o = proj["v_proj"], proj["o_proj"]
        ff = cfg.intermediate_size
        self.w_gate = linear_from(base, p + "mlp.gate_proj", d, ff, False)
        self.w_up = linear_from(base, p + "mlp.up_proj", d, ff, False)
        self.w_down = linear_from(base, p + "mlp.down_proj", ff, d, False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                causal: torch.Tensor, masks: torch.Tensor, ctl: Controls,
                head_gate: Optional[torch.Tensor], n_vis: float, n_aud: float
                ) -> Tuple[torch.Tensor, LayerProbe]:
        b, n, d = x.shape
        h = self.norm1(x)
        vis = masks[0]
        lam = self.gate(h, vis) if self.gate is not None else None
        q = self.q(h, vis, lam).reshape(b, n, self.heads, self.dh).transpose(1, 2)
        k = self.k(h, vis, lam).reshape(b, n, self.kv_heads, self.dh).transpose(1, 2)
        v = self.v(h, vis, lam).reshape(b, n, self.kv_heads, self.dh).transpose(1, 2)
        if self.kv_heads != self.heads:  # HF repeat_kv: each kv head serves consecutive heads
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=1)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=1)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        scores = torch.matmul(q, k.transpose(-1, -2)) / (self.dh ** 0.5) + causal
        probs = torch.softmax(scores, dim=-1)
        row = probs[:, :, -1, :]
        row_after, flags = intervene(scores[:, :, -1, :], row, masks, self.index, ctl,
                                     n_vis, n_aud)
        probs = torch.cat([probs[:, :, :-1, :], row_after.unsqueeze(2)], dim=2)
        att = gate_heads(torch.matmul(probs, v), head_gate).transpose(1, 2).reshape(b, n, -1)
        x = x + self.o(att, vis, lam)
        h2 = self.norm2(x)
        x = x + self.w_down(F.silu(self.w_gate(h2)) * self.w_up(h2))
        gate = lam.reshape(1) if lam is not None else None
        return x, LayerProbe(modality_masses(row, masks), modality_masses(row_after, masks),
                             flags, row, row_after, gate)


@dataclass
class RunOutputs:
    logits: torch.Tensor  # [1, C] label first-token logits
    probes: List[LayerProbe]
    readouts: List[torch.Tensor]  # [1, C] per layer
    vocab_logits: torch.Tensor  # [1, V] next-token logits at the answer position


class EmotionLlama(nn.Module):
    """The whole model: frames, audio and prompt ids → the answer position's logits and probes."""

    def __init__(self, sources: Sources, opts: Options) -> None:
        super().__init__()
        self.opts = opts
        cfg_path = os.path.join(sources.llama, "config.json")
        if not os.path.isdir(sources.llama) or not os.path.isfile(cfg_path):
            raise ExportError(f"{sources.llama}: not a Hugging Face LLaMA folder (no "
                              f"config.json)")
        self.cfg = cfg = LlamaConfig.from_json(read_json(cfg_path), cfg_path)
        self.tokenizer = Tokenizer(os.path.join(sources.llama, "tokenizer.model"))
        if self.tokenizer.sp.GetPieceSize() > cfg.vocab_size:
            raise ExportError(f"{sources.llama}: tokenizer.model has "
                              f"{self.tokenizer.sp.GetPieceSize()} pieces but config.json's "
                              f"vocab_size is {cfg.vocab_size}")
        base = Ledger.open("LLaMA " + sources.llama, sources.llama, LLAMA_IGNORE)
        ckpt = merge_checkpoints(sources)
        eva_l = Ledger.open("EVA ViT " + sources.eva, sources.eva)
        hub_cfg_path = os.path.join(sources.hubert, "config.json")
        if not os.path.isfile(hub_cfg_path):
            raise ExportError(f"{sources.hubert}: not a Hugging Face HuBERT folder (no "
                              f"config.json)")
        hub_l = Ledger.open("HuBERT " + sources.hubert, sources.hubert, HUBERT_IGNORE,
                            strip_prefix="hubert.")
        self.mapping = load_mapping(opts.mapping) if opts.adapter == "mose" else None
        self.ledgers = [base, ckpt, eva_l, hub_l]

        d = cfg.hidden_size
        self.eva = EvaViT(eva_l, opts.image_size, opts.eva_heads, opts.eva_depth)
        eva_l.ignore = eva_ignore(self.eva.depth)
        self.ln_vision = layer_norm_from(ckpt, "ln_vision", self.eva.d, 1e-5, optional=True)
        if self.eva.grid % 4:
            raise ExportError(f"image size {opts.image_size} gives {self.eva.grid} patches per "
                              f"row, not a multiple of 4")
        self.llama_proj = linear_from(ckpt, "llama_proj", 4 * self.eva.d, d, True)
        self.cls_proj = linear_from(ckpt, "cls_tk_llama_proj", self.eva.d, d, True)
        self.feat_projs = nn.ModuleList()
        for i in (1, 2, 3):
            lin = linear_from(ckpt, f"feats_llama_proj{i}", None, d, True)
            self.feat_projs.append(lin if lin is not None else nn.Identity())
        self.hubert_cfg = HubertConfig.from_json(read_json(hub_cfg_path), hub_cfg_path)
        self.hubert = Hubert(hub_l, self.hubert_cfg)
        pre = os.path.join(sources.hubert, "preprocessor_config.json")
        self.do_normalize = bool(read_json(pre).get("do_normalize", True)) \
            if os.path.isfile(pre) else True
        emb = base.take("model.embed_tokens.weight", [cfg.vocab_size, d])
        self.embed = nn.Embedding(cfg.vocab_size, d)
        with torch.no_grad():
            if emb is not None:
                self.embed.weight.copy_(emb)
        self.layers = nn.ModuleList([LlamaLayer(i, cfg, base, ckpt, opts, self.mapping)
                                     for i in range(cfg.num_hidden_layers)])
        fn = base.take("model.norm.weight", [d])
        self.norm = RMSNorm(fn if fn is not None else torch.ones(d), cfg.rms_norm_eps)
        head = base.take("lm_head.weight", [cfg.vocab_size, d], optional=True)
        if head is None:  # tied embeddings (not Llama-2, which stores lm_head)
            head = self.embed.weight.detach().clone()
        self.lm_head = nn.Parameter(head)
        for ledger in self.ledgers:
            ledger.finish()
            ledger.tensors.clear()  # the modules hold float32 copies; free the stored dtype
        feat_dims = [p.in_features if isinstance(p, nn.Linear) else d for p in self.feat_projs]
        if feat_dims[2] != self.hubert_cfg.hidden_size:
            raise ExportError(f"feats_llama_proj3 takes {feat_dims[2]} features but HuBERT's "
                              f"hidden_size is {self.hubert_cfg.hidden_size}")
        self.feature_dims = feat_dims
        self.label_ids = self.tokenizer.label_first_tokens(opts.labels)
        self.register_buffer("label_index", torch.tensor(self.label_ids, dtype=torch.int64))
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(CLIP_STD).reshape(1, 3, 1, 1))
        self.register_buffer("inv_freq", rope_inv_freq(d // cfg.num_attention_heads,
                                                       cfg.rope_theta))
        self.text_segments, self.gaps = segments(self.tokenizer, opts.assembly, opts.transcript)
        self.eval()

    # -- layout ------------------------------------------------------------------------------

    def visual_block(self) -> List[Tuple[str, str, int]]:
        g = self.eva.grid
        return [("eva_patches", "visual", g * g // 4), ("face_mae", "visual", 1),
                ("video_mae", "visual", 1), ("hubert", "audio", 1), ("eva_cls", "visual", 1)]

    def layout(self, prompt_len: Optional[int] = None) -> List[Tuple[str, str, Optional[int]]]:
        """(name, modality, count) in order; the last text segment's count is `prompt_len`
        (None: variable)."""
        block = self.visual_block()
        segs = self.text_segments
        out: List[Tuple[str, str, Optional[int]]] = [(segs[0].name, "text", len(segs[0].ids))]
        if self.opts.assembly == "context":
            out += block
        else:
            out += block[:1] + [(segs[1].name, "text", len(segs[1].ids))] + block[1:]
        out.append((segs[-1].name, "text", prompt_len))
        return out

    def fixed_text(self) -> List[TextSegment]:
        return self.text_segments[:-1]

    # -- forward -----------------------------------------------------------------------------

    def visual(self, frames: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """frames [1, T, 3, S, S] in [0, 1] → 256 strip tokens [1, 256, d], CLS token [1, 1, d]
        (the first frame only)."""
        x = (frames[:, 0] - self.mean) / self.std
        tokens = self.ln_vision(self.eva(x))
        cls = self.cls_proj(tokens[:, :1])
        patches = tokens[:, 1:]
        b, n, c = patches.shape
        return self.llama_proj(patches.reshape(b, n // 4, 4 * c)), cls

    def audio_token(self, audio: torch.Tensor) -> torch.Tensor:
        x = zero_mean_unit_var(audio) if self.do_normalize else audio
        return pool_hubert(self.hubert(x), self.opts.pooling)  # [1, 1, hidden]

    def embed_all(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
                  features: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        """→ the token sequence [1, N, d] and modality masks [3, N] (visual, audio, text).
        `features`: pre-extracted FaceMAE and VideoMAE vectors [1, D]; None: zeros (the demo)."""
        patches, cls = self.visual(frames)
        audio_feat = self.audio_token(audio)
        if features is None:
            zeros = audio_feat.new_zeros
            face, video = zeros(1, 1, self.feature_dims[0]), zeros(1, 1, self.feature_dims[1])
        else:
            face, video = features[0].reshape(1, 1, -1), features[1].reshape(1, 1, -1)
        face_t = self.feat_projs[0](face)
        video_t = self.feat_projs[1](video)
        audio_t = self.feat_projs[2](audio_feat)
        text = self.embed(prompt_ids)
        fixed = [len(s.ids) for s in self.fixed_text()]
        n0 = fixed[0]
        parts = [text[:, :n0]]
        if self.opts.assembly == "context":
            parts += [patches, face_t, video_t, audio_t, cls]
            rest = text[:, n0:]
        else:
            n1 = n0 + fixed[1]
            parts += [patches, text[:, n0:n1], face_t, video_t, audio_t, cls]
            rest = text[:, n1:]
        parts.append(rest)
        x = torch.cat(parts, dim=1)
        modality = {"visual": 0, "audio": 1, "text": 2}
        rows = []
        for _, mod, count in self.layout(0)[:-1]:
            rows.append(F.one_hot(torch.full((count or 0,), modality[mod], dtype=torch.int64),
                                  3).float())
        fixed_masks = torch.cat(rows, dim=0).t()  # [3, N_fixed]
        tail = torch.ones_like(rest[0, :, 0])
        masks = torch.cat([fixed_masks, torch.stack([tail * 0, tail * 0, tail])], dim=1)
        return x, masks

    def run(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
            ctl: Controls, head_gate: Optional[torch.Tensor] = None,
            features: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> RunOutputs:
        x, masks = self.embed_all(frames, audio, prompt_ids, features)
        pos = torch.cumsum(torch.ones_like(masks[0]), dim=0) - 1.0
        cos, sin = rope_cos_sin(pos, self.inv_freq)
        causal = torch.where(pos[None, :] > pos[:, None], torch.tensor(float("-inf")),
                             torch.tensor(0.0))
        n_vis = float(sum(c or 0 for _, m, c in self.layout(0) if m == "visual"))
        n_aud = float(sum(c or 0 for _, m, c in self.layout(0) if m == "audio"))
        head_rows = self.lm_head[self.label_index]  # [C, d]
        probes: List[LayerProbe] = []
        readouts: List[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            gate = head_gate[i] if head_gate is not None else None
            x, probe = layer(x, cos, sin, causal, masks, ctl, gate, n_vis, n_aud)
            probes.append(probe)
            readouts.append(torch.matmul(self.norm(x[:, -1, :]), head_rows.t()))
        final = self.norm(x[:, -1, :])
        return RunOutputs(readouts[-1], probes, readouts, torch.matmul(final, self.lm_head.t()))

    def default_prompt_ids(self) -> List[int]:
        return [i for s in self.text_segments for i in s.ids]


def describe_sources(sources: Sources) -> Dict[str, Any]:
    """The files' names (not their folders: the model may travel)."""
    return {k: (os.path.basename(os.path.normpath(v)) if v else None)
            for k, v in sources.__dict__.items()}


def dump_json(path: str, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
