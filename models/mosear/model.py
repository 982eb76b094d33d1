"""The reference MoSEAR model: a toy-scale LLaMA-style decoder with in-graph interventions.

Everything the ONNX contract (models/CONTRACT.md) promises is computed here, so the exported
graph and this module are the same function. Preprocessing (normalisation, log-mel) lives inside
the model: callers feed raw RGB in [0, 1] and raw 16 kHz PCM.

Token layout: [visual patches (frame-major, then row, then col)] [one audio token] [text prompt].
The answer position is the last token; the interventions and probes act on that query row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS: List[str] = ["neutral", "angry", "happy", "sad", "worried", "surprise"]

#: The prompt vocabulary: tiny, but real text tokens the answer position attends to.
VOCAB: List[str] = [
    "<pad>", "<bos>", "what", "emotion", "is", "expressed", "in", "this", "clip", "?", "<ans>",
    "face", "voice", "describe", "the", "person",
]
DEFAULT_PROMPT: List[str] = ["<bos>", "what", "emotion", "is", "expressed", "in", "this", "<ans>"]

#: Denominator floor of every statistic (CONTRACT.md §4).
STAT_FLOOR = 1e-6
#: Floor of the visual mass used to spread reallocated attention proportionally.
SPREAD_FLOOR = 1e-30


@dataclass
class ModelConfig:
    """Shapes and hyper-parameters; written into the ONNX metadata on export."""

    layers: int = 4
    heads: int = 4
    d_model: int = 128
    ffn_hidden: int = 256
    frames: int = 4
    height: int = 64
    width: int = 64
    patch: int = 16
    #: "patch": an MLP on each 16×16 patch (attempts 1–5); "conv": a small strided CNN per frame
    #: whose 4×4 output cells are the patch tokens (attempt 6), same token layout either way.
    visual_front: str = "patch"
    sample_rate_hz: int = 16000
    audio_samples: int = 32000
    n_fft: int = 400
    hop: int = 160
    n_mels: int = 64
    prompt: List[str] = field(default_factory=lambda: list(DEFAULT_PROMPT))
    adapter: str = "none"  # "none" | "lora" | "mose"
    lora_rank: int = 8
    lora_alpha: float = 16.0
    mose_eps: float = 0.1
    rope_base: float = 10000.0

    @property
    def grid_rows(self) -> int:
        return self.height // self.patch

    @property
    def grid_cols(self) -> int:
        return self.width // self.patch

    @property
    def n_visual(self) -> int:
        return self.frames * self.grid_rows * self.grid_cols

    @property
    def n_audio(self) -> int:
        return 1

    @property
    def n_text(self) -> int:
        return len(self.prompt)

    @property
    def n_tokens(self) -> int:
        return self.n_visual + self.n_audio + self.n_text

    def prompt_ids(self) -> List[int]:
        return [VOCAB.index(t) for t in self.prompt]


@dataclass
class Controls:
    """The intervention inputs of the contract, as tensors (scalars are 0-d)."""

    ar_mode: torch.Tensor  # int64 []
    ar_tau: torch.Tensor  # float32 [L]
    ar_ratio_kind: torch.Tensor  # int64 []
    ar_head_margin: torch.Tensor  # float32 []
    ar_alpha: torch.Tensor  # float32 []
    pai_alpha: torch.Tensor  # float32 []
    ar_layers: torch.Tensor  # float32 [L]
    ar_head_override: torch.Tensor  # float32 [L, Hh]

    @staticmethod
    def make(cfg: ModelConfig, mode: int = 0, tau: Optional[List[float]] = None,
             kind: int = 2, margin: float = 0.0, alpha: float = 0.0, pai_alpha: float = 0.0,
             layers: Optional[List[float]] = None,
             override: Optional[np.ndarray] = None) -> "Controls":
        L, H = cfg.layers, cfg.heads
        return Controls(
            ar_mode=torch.tensor(mode, dtype=torch.int64),
            ar_tau=torch.tensor(tau if tau is not None else [0.0] * L, dtype=torch.float32),
            ar_ratio_kind=torch.tensor(kind, dtype=torch.int64),
            ar_head_margin=torch.tensor(margin, dtype=torch.float32),
            ar_alpha=torch.tensor(alpha, dtype=torch.float32),
            pai_alpha=torch.tensor(pai_alpha, dtype=torch.float32),
            ar_layers=torch.tensor(layers if layers is not None else [1.0] * L,
                                   dtype=torch.float32),
            ar_head_override=torch.tensor(
                override if override is not None else np.zeros((L, H)), dtype=torch.float32),
        )


# ---------------------------------------------------------------------------------------------
# Front ends


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window (as torch.hann_window(n, periodic=True))."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def mel_filterbank(n_fft: int, n_mels: int, sr: int, fmin: float = 50.0,
                   fmax: Optional[float] = None) -> np.ndarray:
    """HTK-style triangular mel filters, [n_mels, n_fft // 2 + 1]."""
    fmax = fmax or sr / 2

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)
    mels = np.linspace(hz_to_mel(np.array(fmin)), hz_to_mel(np.array(fmax)), n_mels + 2)
    hz = mel_to_hz(mels)
    bins = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fb = np.zeros((n_mels, bins.size))
    for m in range(n_mels):
        lo, mid, hi = hz[m], hz[m + 1], hz[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        fb[m] = np.maximum(0.0, np.minimum(up, down))
    return fb


class LogMel(nn.Module):
    """PCM → log-mel with a Conv1d DFT basis (torch 1.13 cannot export stft)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        n = cfg.n_fft
        k = np.arange(n // 2 + 1)[:, None]
        t = np.arange(n)[None, :]
        win = hann_window(n)[None, :]
        basis = np.concatenate([np.cos(2 * np.pi * k * t / n) * win,
                                -np.sin(2 * np.pi * k * t / n) * win], axis=0)
        self.register_buffer("basis", torch.tensor(basis[:, None, :], dtype=torch.float32))
        fb = mel_filterbank(n, cfg.n_mels, cfg.sample_rate_hz)
        self.register_buffer("mel", torch.tensor(fb, dtype=torch.float32))
        self.hop = cfg.hop
        self.half = n // 2 + 1

    def forward(self, audio: torch.Tensor) -> torch.Tensor:  # [B, S] → [B, n_mels, frames]
        spec = F.conv1d(audio.unsqueeze(1), self.basis, stride=self.hop)
        power = spec[:, : self.half] ** 2 + spec[:, self.half:] ** 2
        mel = torch.matmul(self.mel, power)
        return (torch.log(mel + 1e-6) + 4.0) / 6.0


class AudioFrontEnd(nn.Module):
    """Log-mel → ONE dense audio token (Emotion-LLaMA's single HuBERT token)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.logmel = LogMel(cfg)
        self.conv1 = nn.Conv1d(cfg.n_mels, 96, kernel_size=5, stride=2, padding=2)
        self.conv2 = nn.Conv1d(96, 128, kernel_size=5, stride=2, padding=2)
        self.proj = nn.Linear(256, cfg.d_model)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:  # [B, S] → [B, 1, d]
        x = self.logmel(audio)
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        pooled = torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)
        return self.proj(pooled).unsqueeze(1)


class VisualFrontEnd(nn.Module):
    """T RGB frames → patch tokens with (frame, row, col) position embeddings.

    Token (f, r, c) describes the 16×16 pixel cell at row r, column c of frame f, whichever
    front end computes it: "patch" sees only that cell's pixels; "conv" runs a strided CNN over
    the whole frame (receptive field ≈ 41 px, so a cell also sees its neighbourhood) and pools
    its 8×8 feature map to the 4×4 grid.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.patch
        if cfg.visual_front == "conv":
            if cfg.height // 8 != 2 * cfg.grid_rows or cfg.width // 8 != 2 * cfg.grid_cols:
                raise ValueError("the conv front end needs patch = 16")
            self.conv = nn.Sequential(
                nn.Conv2d(3, 32, kernel_size=5, stride=2, padding=2), nn.GELU(),
                nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(64, 96, kernel_size=3, stride=2, padding=1), nn.GELU(),
                nn.Conv2d(96, 128, kernel_size=3, stride=1, padding=1), nn.GELU(),
            )
            self.cell_proj = nn.Linear(2 * 128, cfg.d_model)
        elif cfg.visual_front == "patch":
            self.patch_mlp = nn.Sequential(nn.Linear(3 * p * p, 256), nn.GELU(),
                                           nn.Linear(256, cfg.d_model))
        else:
            raise ValueError(f"unknown visual front end {cfg.visual_front!r}")
        self.frame_emb = nn.Parameter(torch.zeros(cfg.frames, cfg.d_model))
        self.row_emb = nn.Parameter(torch.zeros(cfg.grid_rows, cfg.d_model))
        self.col_emb = nn.Parameter(torch.zeros(cfg.grid_cols, cfg.d_model))
        for e in (self.frame_emb, self.row_emb, self.col_emb):
            nn.init.normal_(e, std=0.02)
        #: [Nv, d] position table that replaces frame + row + col when set. Only a checkpoint
        #: recovered from ONNX (mosear.recover) has one: the export folds the three embeddings
        #: into their sum, and the sum does not determine them. None (no state entry) otherwise.
        self.register_buffer("pos_table", None)

    def _load_from_state_dict(self, state_dict: Dict[str, torch.Tensor], prefix: str,
                              *args: object, **kwargs: object) -> None:
        table = state_dict.get(prefix + "pos_table")
        if table is not None:
            self.pos_table = torch.empty_like(table)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def positions(self) -> torch.Tensor:
        """[Nv, d]: the embedding of each token's (frame, row, col)."""
        c = self.cfg
        if self.pos_table is not None:
            return self.pos_table
        return (self.frame_emb[:, None, None, :] + self.row_emb[None, :, None, :]
                + self.col_emb[None, None, :, :]).reshape(c.n_visual, c.d_model)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:  # [B,T,3,H,W] → [B, Nv, d]
        c = self.cfg
        b = frames.shape[0]
        x = (frames - 0.5) / 0.25
        if c.visual_front == "conv":
            y = self.conv(x.reshape(b * c.frames, 3, c.height, c.width))  # [BT, 128, 8, 8]
            cells = torch.cat([F.avg_pool2d(y, 2), F.max_pool2d(y, 2)], dim=1)  # [BT, 256, 4, 4]
            cells = cells.reshape(b, c.frames, 256, c.grid_rows * c.grid_cols)
            cells = cells.permute(0, 1, 3, 2).reshape(b, c.n_visual, 256)
            tok = self.cell_proj(cells)
        else:
            x = x.reshape(b, c.frames, 3, c.grid_rows, c.patch, c.grid_cols, c.patch)
            x = x.permute(0, 1, 3, 5, 2, 4, 6).reshape(b, c.n_visual, 3 * c.patch * c.patch)
            tok = self.patch_mlp(x)
        return tok + self.positions()


# ---------------------------------------------------------------------------------------------
# Decoder


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n: int, dim: int, base: float) -> Tuple[torch.Tensor, torch.Tensor]:
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    ang = torch.arange(n, dtype=torch.float32)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], dim=1)
    return ang.cos(), ang.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class AdaptedLinear(nn.Module):
    """A frozen-able projection with an optional LoRA or MoSE adapter.

    MoSE: one shared down-projection A, three up-projections (global, visual, non-visual); the
    visual expert acts on visual tokens weighted by 2λ, the non-visual expert on audio and text
    tokens weighted by 2(1 − λ), the global expert on every token (asymmetric soft-mixture LoRA).
    """

    def __init__(self, d_in: int, d_out: int, cfg: ModelConfig) -> None:
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=False)
        self.kind = cfg.adapter
        self.scale = cfg.lora_alpha / cfg.lora_rank
        if self.kind in ("lora", "mose"):
            self.A = nn.Parameter(torch.randn(cfg.lora_rank, d_in) / math.sqrt(d_in))
            self.B = nn.Parameter(torch.zeros(d_out, cfg.lora_rank))
        if self.kind == "mose":
            self.B_vis = nn.Parameter(torch.zeros(d_out, cfg.lora_rank))
            self.B_nonvis = nn.Parameter(torch.zeros(d_out, cfg.lora_rank))

    def forward(self, x: torch.Tensor, vis_mask: torch.Tensor,
                lam: Optional[torch.Tensor]) -> torch.Tensor:
        y = self.base(x)
        if self.kind == "none":
            return y
        u = torch.matmul(x, self.A.t())
        delta = torch.matmul(u, self.B.t())
        if self.kind == "mose":
            assert lam is not None
            wv = (2.0 * lam)[:, None, None] * vis_mask[None, :, None]
            wn = (2.0 * (1.0 - lam))[:, None, None] * (1.0 - vis_mask)[None, :, None]
            delta = delta + wv * torch.matmul(u, self.B_vis.t()) \
                + wn * torch.matmul(u, self.B_nonvis.t())
        return y + self.scale * delta


class MoSEGate(nn.Module):
    """λ from pooled visual and non-visual features, bounded to [0.5 − ε, 0.5 + ε]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.eps = cfg.mose_eps
        self.proj = nn.Linear(2 * cfg.d_model, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, vis_mask: torch.Tensor) -> torch.Tensor:  # → [B]
        nv = vis_mask.sum()
        nn_ = (1.0 - vis_mask).sum()
        pv = (x * vis_mask[None, :, None]).sum(1) / nv
        pn = (x * (1.0 - vis_mask)[None, :, None]).sum(1) / nn_
        return 0.5 + self.eps * torch.tanh(self.proj(torch.cat([pv, pn], dim=-1)).squeeze(-1))


@dataclass
class LayerProbe:
    """What one layer reports about the answer query."""

    mass_before: torch.Tensor  # [B, H, 3]
    mass_after: torch.Tensor  # [B, H, 3]
    flags: torch.Tensor  # [B, H]
    row_before: torch.Tensor  # [B, H, N]
    row_after: torch.Tensor  # [B, H, N]
    gate: Optional[torch.Tensor]  # [B]


def modality_masses(row: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """[B,H,N] attention row, [3,N] one-hot modality masks → [B,H,3] (visual, audio, text)."""
    return torch.matmul(row, masks.t())


def ratio_statistic(vis: torch.Tensor, aud: torch.Tensor, kind: torch.Tensor,
                    n_vis: float, n_aud: float) -> torch.Tensor:
    """The audio-vs-visual statistic for ratio kind 0 (raw), 1 (density) or 2 (share)."""
    raw = aud / torch.clamp(vis, min=STAT_FLOOR)
    dens = (aud / n_aud) / torch.clamp(vis / n_vis, min=STAT_FLOOR)
    share = aud / torch.clamp(aud + vis, min=STAT_FLOOR)
    return torch.where(kind == 0, raw, torch.where(kind == 1, dens, share))


def intervene(scores_row: torch.Tensor, row: torch.Tensor, masks: torch.Tensor,
              layer: int, ctl: Controls, n_vis: float, n_aud: float
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Apply the selected intervention to the answer row. Returns (row_after, flags [B,H])."""
    vis_m, aud_m = masks[0], masks[1]
    mass = modality_masses(row, masks)
    v, a = mass[..., 0], mass[..., 1]
    head_stat = ratio_statistic(v, a, ctl.ar_ratio_kind, n_vis, n_aud)
    layer_stat = ratio_statistic(v.sum(-1), a.sum(-1), ctl.ar_ratio_kind, n_vis, n_aud)
    layer_ok = (layer_stat > ctl.ar_tau[layer])[:, None]
    head_ok = head_stat > (1.0 + ctl.ar_head_margin) * head_stat.mean(-1, keepdim=True)
    ov = ctl.ar_head_override[layer][None, :]
    enabled = ctl.ar_layers[layer] > 0.5
    force_on = ov > 0.5
    force_off = ov < -0.5
    auto = layer_ok & head_ok & ~force_on & ~force_off
    flag_ar = (force_on | auto) & enabled

    # AR: p·(1 − g·[audio]) + g·A·w — bit-identical to no intervention when g = 0.
    g = flag_ar.to(row.dtype) * ctl.ar_alpha
    w_prop = row * vis_m / torch.clamp(v, min=SPREAD_FLOOR)[..., None]
    w_uniform = (vis_m / vis_m.sum()).expand_as(row)
    w = torch.where((v > 0)[..., None], w_prop, w_uniform)
    row_ar = row * (1.0 - g[..., None] * aud_m) + (g * a)[..., None] * w

    # PAI-style: add pai_alpha·|z| to the pre-softmax visual logits of every enabled head.
    z_pai = scores_row + ctl.pai_alpha * scores_row.abs() * vis_m
    row_pai = torch.where(enabled, torch.softmax(z_pai, dim=-1), row)

    is_ar = ctl.ar_mode == 1
    is_pai = ctl.ar_mode == 2
    row_after = torch.where(is_ar, row_ar, torch.where(is_pai, row_pai, row))
    flag_pai = enabled.to(row.dtype) * torch.ones_like(g)
    flags = torch.where(is_ar, flag_ar.to(row.dtype),
                        torch.where(is_pai, flag_pai, torch.zeros_like(g)))
    return row_after, flags


def gate_heads(att: torch.Tensor, head_gate: Optional[torch.Tensor]) -> torch.Tensor:
    """[B, Hh, N, dh] per-head attention outputs times head_gate [Hh] (CONTRACT.md §1a: 1 keeps
    a head, 0 removes its contribution at every query position). None adds no operation, so a
    graph without the input is the v1 graph; multiplying by 1.0 is exact, so all ones is
    bit-identical to no gate."""
    if head_gate is None:
        return att
    return att * head_gate[None, :, None, None]


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, index: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.index = index
        d = cfg.d_model
        self.norm1 = RMSNorm(d)
        self.norm2 = RMSNorm(d)
        self.q = AdaptedLinear(d, d, cfg)
        self.k = AdaptedLinear(d, d, cfg)
        self.v = AdaptedLinear(d, d, cfg)
        self.o = AdaptedLinear(d, d, cfg)
        self.gate = MoSEGate(cfg) if cfg.adapter == "mose" else None
        self.w1 = nn.Linear(d, cfg.ffn_hidden, bias=False)
        self.w3 = nn.Linear(d, cfg.ffn_hidden, bias=False)
        self.w2 = nn.Linear(cfg.ffn_hidden, d, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                causal: torch.Tensor, masks: torch.Tensor, ctl: Optional[Controls],
                head_gate: Optional[torch.Tensor] = None,
                n_audio: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, Optional[LayerProbe]]:
        """One layer; `head_gate` [Hh] scales each head's attention output (None: no gate);
        `n_audio` is |A| of the statistics (None: the config's one audio token)."""
        cfg = self.cfg
        b, n, d = x.shape
        hh, dh = cfg.heads, d // cfg.heads
        h = self.norm1(x)
        vis_m = masks[0]
        lam = self.gate(h, vis_m) if self.gate is not None else None
        q = self.q(h, vis_m, lam).reshape(b, n, hh, dh).transpose(1, 2)
        k = self.k(h, vis_m, lam).reshape(b, n, hh, dh).transpose(1, 2)
        v = self.v(h, vis_m, lam).reshape(b, n, hh, dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + causal
        probs = torch.softmax(scores, dim=-1)
        probe: Optional[LayerProbe] = None
        if ctl is not None:
            row = probs[:, :, n - 1, :]
            n_aud = n_audio if n_audio is not None else float(cfg.n_audio)
            row_after, flags = intervene(scores[:, :, n - 1, :], row, masks, self.index, ctl,
                                         float(cfg.n_visual), n_aud)  # type: ignore[arg-type]
            probs = torch.cat([probs[:, :, : n - 1, :], row_after.unsqueeze(2)], dim=2)
            probe = LayerProbe(modality_masses(row, masks), modality_masses(row_after, masks),
                               flags, row, row_after, lam)
        att = gate_heads(torch.matmul(probs, v), head_gate).transpose(1, 2).reshape(b, n, d)
        x = x + self.o(att, vis_m, lam)
        h2 = self.norm2(x)
        x = x + self.w2(F.silu(self.w1(h2)) * self.w3(h2))
        return x, probe


class MoSEARModel(nn.Module):
    """Front ends + decoder + label head. `forward` returns logits; `probe` returns everything."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.visual = VisualFrontEnd(cfg)
        self.audio = AudioFrontEnd(cfg)
        self.text = nn.Embedding(len(VOCAB), d)
        self.modality_emb = nn.Parameter(torch.zeros(3, d))
        self.layers = nn.ModuleList([DecoderLayer(cfg, i) for i in range(cfg.layers)])
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, len(LABELS))
        cos, sin, causal, masks = self.tables(cfg.n_audio)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.register_buffer("causal", causal, persistent=False)
        self.register_buffer("masks", masks, persistent=False)

    def tables(self, n_audio: int) -> Tuple[torch.Tensor, ...]:
        """RoPE tables, causal mask and modality masks for a layout with n_audio audio tokens."""
        cfg = self.cfg
        n = cfg.n_visual + n_audio + cfg.n_text
        cos, sin = rope_tables(n, cfg.d_model // cfg.heads, cfg.rope_base)
        causal = torch.full((n, n), float("-inf")).triu(1)
        masks = torch.zeros(3, n)
        masks[0, : cfg.n_visual] = 1.0
        masks[1, cfg.n_visual: cfg.n_visual + n_audio] = 1.0
        masks[2, cfg.n_visual + n_audio:] = 1.0
        return cos, sin, causal, masks

    def dynamic_tables(self, audio_repeat: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """`tables` for k = `audio_repeat` (int64 []) audio tokens, computed in the graph (the
        contract-1.2 input). RoPE rows and the causal mask are gathered from tables built for
        the largest k, so every value equals `tables(k)`'s bit for bit; the masks are 0/1."""
        cfg = self.cfg
        k = audio_repeat.reshape(())
        n_max = cfg.n_visual + AUDIO_REPEAT_MAX + cfg.n_text
        cos_max, sin_max = rope_tables(n_max, cfg.d_model // cfg.heads, cfg.rope_base)
        pos = torch.arange(cfg.n_visual + k + cfg.n_text)
        cos, sin = cos_max.index_select(0, pos), sin_max.index_select(0, pos)
        causal = torch.where(pos[None, :] > pos[:, None], torch.tensor(float("-inf")),
                             torch.tensor(0.0))
        vis = pos < cfg.n_visual
        txt = pos >= cfg.n_visual + k
        masks = torch.stack([vis, ~(vis | txt), txt]).to(torch.float32)
        return cos, sin, causal, masks

    def embed(self, frames: torch.Tensor, audio: torch.Tensor,
              prompt_ids: torch.Tensor,
              audio_repeat: "int | torch.Tensor" = 1) -> torch.Tensor:
        """Tokens [B, N, d]; the audio token repeated `audio_repeat` times (an int, or the
        contract-1.2 input as an int64 tensor: then the repeat is in the graph)."""
        vis = self.visual(frames) + self.modality_emb[0]
        aud = self.audio(audio) + self.modality_emb[1]
        if isinstance(audio_repeat, torch.Tensor):
            copies = torch.zeros_like(torch.arange(audio_repeat.reshape(())))
            aud = aud.index_select(1, copies)
        elif audio_repeat != 1:
            aud = aud.repeat(1, audio_repeat, 1)
        txt = self.text(prompt_ids) + self.modality_emb[2]
        if txt.shape[0] != vis.shape[0]:
            txt = txt.expand(vis.shape[0], -1, -1)
        return torch.cat([vis, aud, txt], dim=1)

    def run(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
            ctl: Optional[Controls], head_gate: Optional[torch.Tensor] = None,
            readouts: Optional[List[torch.Tensor]] = None,
            audio_repeat: Optional[torch.Tensor] = None
            ) -> Tuple[torch.Tensor, List[Optional[LayerProbe]]]:
        """`audio_repeat` (int64 [], the contract-1.2 input): k copies of the audio token,
        built in the graph; None is the graph without the input (one audio token)."""
        if audio_repeat is None:
            return self.decode(self.embed(frames, audio, prompt_ids), ctl, head_gate, readouts)
        x = self.embed(frames, audio, prompt_ids, audio_repeat)
        return self.decode(x, ctl, head_gate, readouts, self.dynamic_tables(audio_repeat))

    def decode(self, x: torch.Tensor, ctl: Optional[Controls],
               head_gate: Optional[torch.Tensor] = None,
               readouts: Optional[List[torch.Tensor]] = None,
               tables: Optional[Tuple[torch.Tensor, ...]] = None
               ) -> Tuple[torch.Tensor, List[Optional[LayerProbe]]]:
        """The decoder and label head on embedded tokens (front ends already applied).

        `head_gate` [L, Hh] gates heads (None: no gate). When `readouts` is a list, the label
        readout of the answer position after each layer ([B, C], the contract's `layer_logits`)
        is appended to it, and the logits are the last readout itself. `tables` (from
        `dynamic_tables`) replaces the layout's tables; otherwise a sequence with k ≠ 1 audio
        tokens gets `tables(k)`. With k audio tokens, |A| of the statistics is k (CONTRACT.md
        §1c)."""
        probes: List[Optional[LayerProbe]] = []
        cos, sin, causal, masks = self.rope_cos, self.rope_sin, self.causal, self.masks
        n_audio: Optional[torch.Tensor] = None
        if tables is not None:
            cos, sin, causal, masks = tables
            n_audio = masks[1].sum()
        elif x.shape[1] != self.cfg.n_tokens:  # duplicated audio tokens
            cos, sin, causal, masks = self.tables(x.shape[1] - self.cfg.n_visual - self.cfg.n_text)
            n_audio = masks[1].sum()
        for i, layer in enumerate(self.layers):
            gate = head_gate[i] if head_gate is not None else None
            x, probe = layer(x, cos, sin, causal, masks, ctl, gate, n_audio)
            probes.append(probe)
            if readouts is not None:
                readouts.append(self.readout(x))
        logits = readouts[-1] if readouts else self.readout(x)
        return logits, probes

    def readout(self, x: torch.Tensor) -> torch.Tensor:
        """[B, N, d] residual stream → [B, C]: the answer position through the final norm and
        the label head."""
        return self.head(self.norm(x[:, -1, :]))

    def forward(self, frames: torch.Tensor, audio: torch.Tensor,
                prompt_ids: torch.Tensor) -> torch.Tensor:
        return self.run(frames, audio, prompt_ids, None)[0]

    def adapter_parameters(self) -> List[nn.Parameter]:
        """The parameters a LoRA/MoSE fine-tune trains (adapters and gates)."""
        out: List[nn.Parameter] = []
        for name, p in self.named_parameters():
            if name.split(".")[-1] in ("A", "B", "B_vis", "B_nonvis") or ".gate." in name:
                out.append(p)
        return out


def probe_outputs(logits: torch.Tensor, probes: List[Optional[LayerProbe]]
                  ) -> List[torch.Tensor]:
    """The contract's required outputs, in OUTPUT_NAMES order, from a run's probes."""
    ps = [p for p in probes if p is not None]
    return [
        logits,
        torch.stack([p.mass_before[0] for p in ps]),
        torch.stack([p.mass_after[0] for p in ps]),
        torch.stack([p.flags[0] for p in ps]),
        torch.stack([p.row_before[0] for p in ps]),
        torch.stack([p.row_after[0] for p in ps]),
    ]


class ContractGraph(nn.Module):
    """The exported function: contract inputs → contract outputs (batch of one).

    Contract 1: the eleven required inputs. With `layer_logits` the graph also returns the
    per-layer readout (after `mose_gate` when present); a twelfth argument `head_gate` [L, Hh]
    adds that optional input (contract 1.1), a thirteenth `audio_repeat` (int64 []) the
    contract-1.2 one. Without any, the traced graph is the v1 one."""

    def __init__(self, model: MoSEARModel, layer_logits: bool = False) -> None:
        super().__init__()
        self.model = model
        self.layer_logits = layer_logits

    def forward(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
                ar_mode: torch.Tensor, ar_tau: torch.Tensor, ar_ratio_kind: torch.Tensor,
                ar_head_margin: torch.Tensor, ar_alpha: torch.Tensor, pai_alpha: torch.Tensor,
                ar_layers: torch.Tensor, ar_head_override: torch.Tensor,
                head_gate: Optional[torch.Tensor] = None,
                audio_repeat: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        ctl = Controls(ar_mode, ar_tau, ar_ratio_kind, ar_head_margin, ar_alpha, pai_alpha,
                       ar_layers, ar_head_override)
        readouts: Optional[List[torch.Tensor]] = [] if self.layer_logits else None
        logits, probes = self.model.run(frames, audio, prompt_ids, ctl, head_gate, readouts,
                                        audio_repeat)
        outs = probe_outputs(logits, probes)
        if self.model.cfg.adapter == "mose":
            outs.append(torch.stack([p.gate[0] for p in probes
                                     if p is not None and p.gate is not None]))
        if readouts is not None:
            outs.append(torch.cat(readouts, dim=0))
        return tuple(outs)


INPUT_NAMES = ["frames", "audio", "prompt_ids", "ar_mode", "ar_tau", "ar_ratio_kind",
               "ar_head_margin", "ar_alpha", "pai_alpha", "ar_layers", "ar_head_override"]
OUTPUT_NAMES = ["logits", "modality_mass", "modality_mass_after", "ar_flags",
                "token_attention_before", "token_attention"]
MOSE_OUTPUT = "mose_gate"
#: Contract 1.1's optional input and output (CONTRACT.md §1a, §2a).
HEAD_GATE_INPUT = "head_gate"
LAYER_LOGITS_OUTPUT = "layer_logits"
#: Contract 1.2's optional input (CONTRACT.md §1c): the audio token repeated k times.
AUDIO_REPEAT_INPUT = "audio_repeat"
#: The largest k the shipped exports accept (`mosear.audio.repeat_max`).
AUDIO_REPEAT_MAX = 64


def output_names(adapter: str, layer_logits: bool) -> List[str]:
    """The graph's outputs in order: the required ones, mose_gate, layer_logits."""
    return OUTPUT_NAMES + ([MOSE_OUTPUT] if adapter == "mose" else []) \
        + ([LAYER_LOGITS_OUTPUT] if layer_logits else [])


def contract_outputs(model: MoSEARModel, frames: torch.Tensor, audio: torch.Tensor,
                     prompt_ids: torch.Tensor, ctl: Controls,
                     head_gate: Optional[torch.Tensor] = None,
                     layer_logits: bool = False,
                     audio_repeat: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Run the contract function in PyTorch (batch of one) → name → numpy array. `head_gate`
    None is the v1 graph (no gate); `layer_logits` adds that output; `audio_repeat` k feeds
    the contract-1.2 input (None: the graph without it)."""
    graph = ContractGraph(model, layer_logits)
    if audio_repeat is not None and head_gate is None:
        head_gate = torch.ones(model.cfg.layers, model.cfg.heads)
    args = [frames, audio, prompt_ids, ctl.ar_mode, ctl.ar_tau, ctl.ar_ratio_kind,
            ctl.ar_head_margin, ctl.ar_alpha, ctl.pai_alpha, ctl.ar_layers,
            ctl.ar_head_override] + ([head_gate] if head_gate is not None else []) \
        + ([torch.tensor(audio_repeat, dtype=torch.int64)] if audio_repeat is not None else [])
    with torch.no_grad():
        outs = graph(*args)
    names = output_names(model.cfg.adapter, layer_logits)
    return {n: o.numpy() for n, o in zip(names, outs)}
