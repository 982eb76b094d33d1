"""A contract-1.1 model with Emotion-LLaMA's attention geometry, for testing at real scale.

Not a trained model: random seeded weights (see mosear.fixture). What is real is the shape the
tool has to handle (models/CONTRACT.md §8, ../shared/DESIGN.md §7): 32 layers × 32 heads; the
first frame squashed to 448 × 448, cut into 32 × 32 patches of 14 px and every 4 horizontally
consecutive patches concatenated into one token (256 tokens, a 32-row × 8-column grid of
56 × 14 px strips); three global visual tokens (FaceMAE, VideoMAE, EVA CLS) and one HuBERT-like
audio token from a variable-length waveform, placed in training's `prompt_wrap` order; and the
real prompt template with a per-clip transcript, so the prompt — and N — varies per run.

To keep the file small the projections are factored (d → rank → d), the FFN is narrow and the
front ends pool pixels instead of running EVA-CLIP. The decoder is LLaMA-style (RMSNorm, RoPE,
causal softmax attention, SwiGLU) with the contract's in-graph AR/PAI on the answer row
(mosear.model.intervene), the optional `head_gate` input and the `layer_logits` output.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import (LAYER_LOGITS_OUTPUT, OUTPUT_NAMES, AudioFrontEnd, Controls, LayerProbe,
                    RMSNorm, gate_heads, intervene, modality_masses, probe_outputs, rotate_half)

LABELS: List[str] = ["happy", "sad", "neutral", "angry", "worried", "surprise", "fear",
                     "contempt", "doubt"]
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

#: The prompt template by text segment (CONTRACT.md §3.1): Emotion-LLaMA's
#: `<s>[INST] <video><VideoHere></video> <feature><FeatureHere></feature> The person in video
#: says: {transcript}. [emotion] Please determine which emotion label in the video represents:
#: happy, sad, neutral, angry, worried, surprise, fear, contempt, doubt. [/INST]`.
TEMPLATE: Dict[str, List[Dict[str, str]]] = {
    "prefix": [{"kind": "special", "token": "<s>"}, {"kind": "text", "text": "[INST] <video>"}],
    "between": [{"kind": "text", "text": "</video> <feature>"}],
    "prompt": [
        {"kind": "text", "text": "</feature> The person in video says:"},
        {"kind": "slot", "slot": "transcript"},
        {"kind": "text", "text": ". [emotion] Please determine which emotion label in the video "
                                 "represents: " + ", ".join(LABELS) + ". [/INST]"},
    ],
}
DEFAULT_TRANSCRIPT = "I can't believe you did this to me again"
#: Words a transcript may use besides the template's; anything else is `<unk>`.
TRANSCRIPT_WORDS = (
    "I you he she it we they me him her us them my your his its our their this that these those "
    "a an the and or but not no yes so very really just again now then here there what why how "
    "who when where is am are was were be been do did does done have has had can can't don't "
    "won't didn't isn't it's I'm you're that's will would could should believe think know feel "
    "want need like love hate said say tell told to of in on at for with from about today "
    "tomorrow yesterday always never something nothing everything good bad great fine okay sorry "
    "thank thanks please happy sad angry afraid sure well oh wow hey right wrong time day"
).split()
SPECIALS = ["<unk>", "<s>", "</s>"]
#: CONTRACT.md §3.1's word-level tokenizer: a word (letters/digits, inner apostrophes) or any
#: other single non-space character.
WORD_PATTERN = r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*|[^ \t\n\r\f\vA-Za-z0-9]"


def split_words(text: str) -> List[str]:
    return re.findall(WORD_PATTERN, text)


def build_vocab() -> List[str]:
    words: List[str] = list(SPECIALS)
    for pieces in TEMPLATE.values():
        for piece in pieces:
            if piece["kind"] == "text":
                words += split_words(piece["text"])
    words += TRANSCRIPT_WORDS
    seen: Dict[str, None] = {}
    for w in words:
        seen.setdefault(w, None)
    return list(seen)


VOCAB: List[str] = build_vocab()


@dataclass
class PromptToken:
    """One text position of a run: its id, the vocabulary entry, the word as written and what
    put it there (CONTRACT.md §3.3)."""

    id: int
    token: str
    text: str
    kind: str  # "template" | "slot" | "special"
    slot: Optional[str] = None


def tokenize_segment(pieces: List[Dict[str, str]], slots: Dict[str, str],
                     max_tokens: Dict[str, int]) -> List[PromptToken]:
    """A text segment's template with its slots filled → its positions (CONTRACT.md §3.1)."""
    unk = VOCAB.index("<unk>")
    out: List[PromptToken] = []
    for piece in pieces:
        if piece["kind"] == "special":
            token = piece["token"]
            out.append(PromptToken(VOCAB.index(token), token, token, "special"))
        elif piece["kind"] == "text":
            out += [PromptToken(VOCAB.index(w), w, w, "template")
                    for w in split_words(piece["text"])]
        else:
            name = piece["slot"]
            words = split_words(slots[name])[: max_tokens[name]]
            out += [PromptToken(VOCAB.index(w) if w in VOCAB else unk,
                                w if w in VOCAB else "<unk>", w, "slot", name) for w in words]
    return out


@dataclass
class FullShapeConfig:
    """Emotion-LLaMA's attention geometry; the widths inside are the fixture's own."""

    layers: int = 32
    heads: int = 32
    d_model: int = 256
    rank: int = 16
    ffn_hidden: int = 64
    frame_px: int = 448
    patch_px: int = 14
    patches_per_token: int = 4
    sample_rate_hz: int = 16000
    max_audio_seconds: float = 30.0
    min_audio_samples: int = 8000
    n_fft: int = 400
    hop: int = 320
    n_mels: int = 64
    rope_base: float = 10000.0
    transcript_max_tokens: int = 64

    @property
    def patch_grid(self) -> int:
        return self.frame_px // self.patch_px

    @property
    def grid_rows(self) -> int:
        return self.patch_grid

    @property
    def grid_cols(self) -> int:
        return self.patch_grid // self.patches_per_token

    @property
    def n_patches(self) -> int:
        return self.grid_rows * self.grid_cols

    @property
    def max_audio_samples(self) -> int:
        return int(round(self.max_audio_seconds * self.sample_rate_hz))

    def segment_counts(self) -> List[Tuple[str, str, Optional[int]]]:
        """(name, modality, count) in position order; None: the variable text segment."""
        fixed = {n: len(tokenize_segment(p, {}, {})) for n, p in TEMPLATE.items() if n != "prompt"}
        return [("prefix", "text", fixed["prefix"]), ("eva_patches", "visual", self.n_patches),
                ("between", "text", fixed["between"]), ("face_mae", "visual", 1),
                ("video_mae", "visual", 1), ("hubert", "audio", 1), ("eva_cls", "visual", 1),
                ("prompt", "text", None)]

    @property
    def n_fixed(self) -> int:
        return sum(c for _, _, c in self.segment_counts() if c is not None)

    @property
    def n_visual(self) -> int:
        return sum(c or 0 for _, m, c in self.segment_counts() if m == "visual")

    @property
    def n_audio(self) -> int:
        return sum(c or 0 for _, m, c in self.segment_counts() if m == "audio")

    def prompt(self, transcript: str) -> List[PromptToken]:
        """Every text position of a run, in order (what `prompt_ids` holds)."""
        slots, cap = {"transcript": transcript}, {"transcript": self.transcript_max_tokens}
        return [t for name in ("prefix", "between", "prompt")
                for t in tokenize_segment(TEMPLATE[name], slots, cap)]


class FactoredLinear(nn.Module):
    """d_in → rank → d_out without bias: a full-width projection's shape at a fraction of the
    weights (the fixture's file size is what it is for)."""

    def __init__(self, d_in: int, d_out: int, rank: int, gain: float = 1.0) -> None:
        super().__init__()
        self.down = nn.Linear(d_in, rank, bias=False)
        self.up = nn.Linear(rank, d_out, bias=False)
        nn.init.normal_(self.down.weight, std=1.0 / math.sqrt(d_in))
        nn.init.normal_(self.up.weight, std=gain / math.sqrt(rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.down(x))


class StripFrontEnd(nn.Module):
    """One frame [B, 1, 3, 448, 448] → 256 strip tokens and the three global visual tokens.

    Each 14 px patch is average-pooled to 2 × 2 × RGB (12 values); 4 horizontally consecutive
    patches are concatenated (48 values) and projected, as Emotion-LLaMA concatenates 4 EVA-CLIP
    patch features; learned row and column embeddings mark the strip's place. FaceMAE, VideoMAE
    and EVA CLS stand-ins project a 4 × 4 × RGB pooling of the whole frame.
    """

    def __init__(self, cfg: FullShapeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(CLIP_STD).reshape(1, 3, 1, 1))
        self.strip = nn.Linear(12 * cfg.patches_per_token, d)
        self.row_emb = nn.Parameter(torch.randn(cfg.grid_rows, d) * 0.1)
        self.col_emb = nn.Parameter(torch.randn(cfg.grid_cols, d) * 0.1)
        self.globals = nn.ModuleList([nn.Linear(48, d) for _ in range(3)])

    def forward(self, frames: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        c = self.cfg
        g, p, half = c.patch_grid, c.patch_px, c.patch_px // 2
        x = (frames[:, 0] - self.mean) / self.std  # [B, 3, 448, 448]
        b = x.shape[0]
        cells = x.reshape(b, 3, g, 2, half, g, 2, half).mean(dim=(4, 7))  # [B, 3, g, 2, g, 2]
        cells = cells.permute(0, 2, 4, 1, 3, 5).reshape(b, g, g, 12)  # [B, row, pcol, 12]
        strips = cells.reshape(b, c.grid_rows, c.grid_cols, 12 * c.patches_per_token)
        tok = self.strip(strips) + self.row_emb[None, :, None, :] + self.col_emb[None, None]
        q = p * g // 4
        pooled = x.reshape(b, 3, 4, q, 4, q).mean(dim=(3, 5)).reshape(b, 48)
        glob = [lin(pooled).unsqueeze(1) for lin in self.globals]  # FaceMAE, VideoMAE, CLS
        return tok.reshape(b, c.n_patches, c.d_model), glob


class FullShapeLayer(nn.Module):
    """A LLaMA-style layer whose answer row (the last position) carries the interventions."""

    def __init__(self, cfg: FullShapeConfig, index: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.index = index
        d, r = cfg.d_model, cfg.rank
        out_gain = 1.0 / math.sqrt(2 * cfg.layers)
        self.norm1 = RMSNorm(d)
        self.norm2 = RMSNorm(d)
        self.q = FactoredLinear(d, d, r, gain=2.0)
        self.k = FactoredLinear(d, d, r, gain=2.0)
        self.v = FactoredLinear(d, d, r)
        self.o = FactoredLinear(d, d, r, gain=out_gain)
        self.w1 = nn.Linear(d, cfg.ffn_hidden, bias=False)
        self.w3 = nn.Linear(d, cfg.ffn_hidden, bias=False)
        self.w2 = nn.Linear(cfg.ffn_hidden, d, bias=False)
        nn.init.normal_(self.w2.weight, std=out_gain / math.sqrt(cfg.ffn_hidden))

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                causal: torch.Tensor, masks: torch.Tensor, ctl: Controls,
                head_gate: Optional[torch.Tensor]) -> Tuple[torch.Tensor, LayerProbe]:
        cfg = self.cfg
        b, d = x.shape[0], cfg.d_model
        hh, dh = cfg.heads, d // cfg.heads
        h = self.norm1(x)
        q = self.q(h).reshape(b, -1, hh, dh).transpose(1, 2)
        k = self.k(h).reshape(b, -1, hh, dh).transpose(1, 2)
        v = self.v(h).reshape(b, -1, hh, dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + causal
        probs = torch.softmax(scores, dim=-1)
        row = probs[:, :, -1, :]
        row_after, flags = intervene(scores[:, :, -1, :], row, masks, self.index, ctl,
                                     float(cfg.n_visual), float(cfg.n_audio))
        probs = torch.cat([probs[:, :, :-1, :], row_after.unsqueeze(2)], dim=2)
        att = gate_heads(torch.matmul(probs, v), head_gate).transpose(1, 2).reshape(b, -1, d)
        x = x + self.o(att)
        h2 = self.norm2(x)
        x = x + self.w2(F.silu(self.w1(h2)) * self.w3(h2))
        probe = LayerProbe(modality_masses(row, masks), modality_masses(row_after, masks),
                           flags, row, row_after, None)
        return x, probe


class FullShapeModel(nn.Module):
    """Front ends + 32 × 32 decoder + label head over a variable-length prompt and audio."""

    def __init__(self, cfg: FullShapeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.visual = StripFrontEnd(cfg)
        self.audio = AudioFrontEnd(cfg)  # type: ignore[arg-type]  # same fields, duck-typed
        self.text = nn.Embedding(len(VOCAB), d)
        self.layers = nn.ModuleList([FullShapeLayer(cfg, i) for i in range(cfg.layers)])
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, len(LABELS))
        dh = d // cfg.heads
        inv = 1.0 / (cfg.rope_base ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
        self.register_buffer("rope_inv", inv, persistent=False)
        fixed = torch.zeros(3, cfg.n_fixed)
        start = 0
        for _, modality, count in cfg.segment_counts():
            if count is None:
                continue
            fixed[["visual", "audio", "text"].index(modality), start: start + count] = 1.0
            start += count
        self.register_buffer("fixed_masks", fixed, persistent=False)

    def split_prompt(self, prompt_ids: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """prompt_ids [1, P] → the ids of the prefix, between and prompt segments."""
        counts = [c for n, m, c in self.cfg.segment_counts() if m == "text" and c is not None]
        a, b = counts[0], counts[0] + counts[1]
        return prompt_ids[:, :a], prompt_ids[:, a:b], prompt_ids[:, b:]

    def embed(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """→ tokens [1, N, d] in layout order and the modality masks [3, N]."""
        patches, (face, video, cls) = self.visual(frames)
        hubert = self.audio(audio)
        prefix, between, prompt = (self.text(ids) for ids in self.split_prompt(prompt_ids))
        x = torch.cat([prefix, patches, between, face, video, hubert, cls, prompt], dim=1)
        tail = torch.ones_like(prompt[0, :, 0])  # [P_prompt]
        masks = torch.cat([self.fixed_masks, torch.stack([tail * 0, tail * 0, tail])], dim=1)
        return x, masks

    def run(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
            ctl: Controls, head_gate: Optional[torch.Tensor] = None
            ) -> Tuple[torch.Tensor, List[LayerProbe], List[torch.Tensor]]:
        """→ logits [1, C], each layer's probe, each layer's readout [1, C] (last = logits)."""
        x, masks = self.embed(frames, audio, prompt_ids)
        pos = torch.cumsum(torch.ones_like(masks[0]), dim=0) - 1.0  # [N]: 0 … N − 1
        ang = pos[:, None] * self.rope_inv[None, :]
        ang = torch.cat([ang, ang], dim=1)
        cos, sin = ang.cos(), ang.sin()
        causal = torch.where(pos[None, :] > pos[:, None], torch.tensor(float("-inf")),
                             torch.tensor(0.0))
        probes: List[LayerProbe] = []
        readouts: List[torch.Tensor] = []
        for i, layer in enumerate(self.layers):
            gate = head_gate[i] if head_gate is not None else None
            x, probe = layer(x, cos, sin, causal, masks, ctl, gate)
            probes.append(probe)
            readouts.append(self.head(self.norm(x[:, -1, :])))
        return readouts[-1], probes, readouts


class FullShapeGraph(nn.Module):
    """The exported function: the contract's inputs plus `head_gate` → its outputs plus
    `layer_logits`."""

    def __init__(self, model: FullShapeModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: torch.Tensor,
                ar_mode: torch.Tensor, ar_tau: torch.Tensor, ar_ratio_kind: torch.Tensor,
                ar_head_margin: torch.Tensor, ar_alpha: torch.Tensor, pai_alpha: torch.Tensor,
                ar_layers: torch.Tensor, ar_head_override: torch.Tensor,
                head_gate: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, ...]:
        ctl = Controls(ar_mode, ar_tau, ar_ratio_kind, ar_head_margin, ar_alpha, pai_alpha,
                       ar_layers, ar_head_override)
        logits, probes, readouts = self.model.run(frames, audio, prompt_ids, ctl, head_gate)
        outs = probe_outputs(logits, list(probes))
        outs.append(torch.cat(readouts, dim=0))
        return tuple(outs)


def run_outputs(model: FullShapeModel, frames: torch.Tensor, audio: torch.Tensor,
                prompt_ids: torch.Tensor, ctl: Controls,
                head_gate: Optional[torch.Tensor] = None) -> Dict[str, np.ndarray]:
    """The contract outputs in PyTorch (batch of one) → name → numpy array."""
    with torch.no_grad():
        outs = FullShapeGraph(model)(frames, audio, prompt_ids, ctl.ar_mode, ctl.ar_tau,
                                     ctl.ar_ratio_kind, ctl.ar_head_margin, ctl.ar_alpha,
                                     ctl.pai_alpha, ctl.ar_layers, ctl.ar_head_override,
                                     head_gate)
    return {n: o.numpy() for n, o in zip(OUTPUT_NAMES + [LAYER_LOGITS_OUTPUT], outs)}


SEGMENT_LABELS = {"eva_patches": "EVA-CLIP patches", "face_mae": "FaceMAE",
                  "video_mae": "VideoMAE", "hubert": "HuBERT", "eva_cls": "EVA CLS",
                  "prefix": "prompt (before the video)",
                  "between": "prompt (between video and features)", "prompt": "prompt"}


def template_segments(cfg: FullShapeConfig) -> List[Dict[str, Any]]:
    """mosear.token_layout's segments: fixed starts up to the variable `prompt` segment."""
    segments: List[Dict[str, Any]] = []
    start: Optional[int] = 0
    for seg_name, modality, count in cfg.segment_counts():
        seg: Dict[str, Any] = {"name": seg_name, "label": SEGMENT_LABELS[seg_name],
                               "modality": modality, "start": start, "count": count}
        if seg_name == "eva_patches":
            seg["grid"] = {
                "frames": 1, "rows": cfg.grid_rows, "cols": cfg.grid_cols,
                "order": "frame,row,col", "frame_index": [0],
                "cell_px": {"width": cfg.patch_px * cfg.patches_per_token,
                            "height": cfg.patch_px},
                "patches": {"rows": cfg.patch_grid, "cols": cfg.patch_grid,
                            "size_px": {"width": cfg.patch_px, "height": cfg.patch_px},
                            "per_cell": {"rows": 1, "cols": cfg.patches_per_token}},
            }
        segments.append(seg)
        start = None if (start is None or count is None) else start + count
    return segments


def contract_metadata(cfg: FullShapeConfig, name: str, version: str) -> Dict[str, Any]:
    """The contract-1.1 metadata values (JSON-able; mosear.contract added by the exporter)."""
    segments = template_segments(cfg)
    default = cfg.prompt(DEFAULT_TRANSCRIPT)
    L = cfg.layers
    return {
        "mosear.checkpoint": {
            "name": name,
            "description": (f"Full-shape test fixture with Emotion-LLaMA's attention geometry "
                            f"({L} layers × {cfg.heads} heads, d {cfg.d_model}; 256 strip "
                            f"tokens of the first frame, FaceMAE, VideoMAE, HuBERT and EVA CLS "
                            f"tokens in prompt_wrap order, the real prompt template with a "
                            f"transcript). Random seeded weights: its predictions mean nothing."),
            "training_data": None,
            "version": version,
        },
        "mosear.labels": LABELS,
        "mosear.architecture": {
            "family": "emotion-llama-fixture", "layers": L, "heads": cfg.heads,
            "d_model": cfg.d_model, "adapter": "none", "mose": False, "lora_rank": 0,
            "mose_eps": None, "position_encoding": "rope",
        },
        "mosear.token_layout": {"segments": segments, "total": None},
        "mosear.answer_positions": [-1],
        "mosear.frames": {"count": 1, "height": cfg.frame_px, "width": cfg.frame_px,
                          "dynamic_count": False, "channels": "rgb", "range": [0, 1]},
        "mosear.audio": {"sample_rate_hz": cfg.sample_rate_hz, "samples": cfg.max_audio_samples,
                         "window_seconds": cfg.max_audio_seconds, "optional": True,
                         "tokens": cfg.n_audio, "length": "variable",
                         "min_samples": cfg.min_audio_samples},
        "mosear.prompt": {
            "tokenizer": {"kind": "word-level", "unk": "<unk>",
                          "ref": "Llama-2-7b-chat-hf tokenizer.model (SentencePiece); this "
                                 "fixture uses the word-level vocabulary instead"},
            "vocab": VOCAB,
            "template": TEMPLATE,
            "slots": {"transcript": {"default": DEFAULT_TRANSCRIPT,
                                     "max_tokens": cfg.transcript_max_tokens,
                                     "description": "what the person in the clip says"}},
            "default": [t.token for t in default],
            "default_ids": [t.id for t in default],
        },
        "mosear.decode": {"spec": "mosear-decode-1", "frame_times": "first", "resize": "squash",
                          "scale_flags": "bicubic", "audio_window": "from-start",
                          "audio_pad": "zeros-at-end"},
        "mosear.ar_defaults": {"mode": 1, "ratio_kind": 2, "tau": [0.0] * L, "head_margin": 0.0,
                               "alpha": 0.3, "pai_alpha": 0.5, "layers": [1.0] * L},
    }
