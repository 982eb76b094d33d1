"""Train the shipped checkpoints: a backbone, then two fine-tunes of that same backbone.

  backbone            all weights, no adapter, on the "pretraining" mix
  emotion-llama-tiny  frozen backbone + plain LoRA on q/k/v/o, on the fine-tuning mix
  mosear-tiny         frozen backbone + MoSE (shared A; global/visual/non-visual B; gate λ)

Usage (from models/): OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m research.train --out build
Training data is rendered on the fly from CA-MER-synth (research.corpus) into an in-memory pool;
the seeds are fixed, so a rerun on the same machine reproduces the checkpoints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import tempfile
import time
from dataclasses import asdict
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mosear.model import ModelConfig, MoSEARModel

from . import corpus

#: Subset mixes (probabilities). Chosen before the first run; see RESULTS.md "Protocol".
#: The backbone's "pretraining" data: conflicts are rare and mostly audio-aligned, as in real
#: corpora where the voice is the more reliable cue.
PRETRAIN_MIX = {"consistent": 0.85, "audio-aligned": 0.10, "video-aligned": 0.05}
#: The fine-tuning ("instruction") data both adapters see: still a conflict minority.
FINETUNE_MIX = {"consistent": 0.80, "audio-aligned": 0.12, "video-aligned": 0.08}


def codec_roundtrip(frames128: np.ndarray, audio: np.ndarray, workdir: str
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Put training tensors through the same codecs as the test files, in one ffmpeg pass each.

    frames128: uint8 [N, 4, 128, 128, 3], the source frames the decode spec picks;
    audio: float32 [N, 32000]. The N clips are concatenated into one stream (frames at 2 fps,
    i.e. 0.5 s apart as in a clip), encoded with the corpus' settings (x264 CRF 30 yuv420p, AAC
    24 kbit/s), decoded with the decode spec's filters, and cut back into clips. Returns float32
    frames [N, 4, 3, 64, 64] and audio [N, 32000].
    """
    n = frames128.shape[0]
    vpath = os.path.join(workdir, "pool-video.mp4")
    apath = os.path.join(workdir, "pool-audio.m4a")

    def run(args: List[str], data: Optional[bytes] = None) -> "subprocess.CompletedProcess[bytes]":
        return subprocess.run(args, input=data, capture_output=True, check=True)

    run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", "128x128", "-r", "2", "-i", "pipe:0", "-c:v", "libx264", "-preset", "veryfast",
         "-crf", str(corpus.VIDEO_CRF), "-pix_fmt", "yuv420p", "-x264-params", "log-level=error",
         vpath], frames128.tobytes())
    raw = run(["ffmpeg", "-v", "error", "-nostdin", "-i", vpath, "-vf",
               "scale=64:64:flags=area", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]).stdout
    fr = np.frombuffer(raw, np.uint8)[: n * 4 * 64 * 64 * 3].reshape(n, 4, 64, 64, 3)
    run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "f32le", "-ar", "16000", "-ac", "1",
         "-i", "pipe:0", "-c:a", "aac", "-b:a", corpus.AUDIO_BITRATE, apath],
        audio.astype("<f4").tobytes())
    pcm = np.frombuffer(run(["ffmpeg", "-v", "error", "-nostdin", "-i", apath, "-ac", "1",
                             "-ar", "16000", "-f", "f32le", "-"]).stdout, "<f4")
    out = np.zeros(n * 32000, np.float32)
    out[: min(len(pcm), len(out))] = pcm[: len(out)]
    return fr.transpose(0, 1, 4, 2, 3).astype(np.float32) / 255.0, out.reshape(n, 32000)


#: The training recipe's number: the attempt in RESULTS.md that it reproduces (mosear.checkpoint
#: version in the exported metadata).
RECIPE_VERSION = "6"

#: Share of backbone training clips whose audio is silenced (attempt 2).
BACKBONE_AUDIO_DROPOUT = 0.3


class Pool:
    """A pre-rendered, codec-degraded training pool (uint8 frames, float16 audio)."""

    def __init__(self, rng: np.random.Generator, n: int, mix: Dict[str, float],
                 chunk: int = 1024) -> None:
        frames, audio, labels, vis_labels = [], [], [], []
        t = time.time()
        with tempfile.TemporaryDirectory() as td:
            for start in range(0, n, chunk):
                params = corpus.sample_batch_params(rng, min(chunk, n - start), mix)
                src = corpus.render_frames(params, corpus.DECODED_FRAME_INDEX)
                src8 = np.round(np.clip(src, 0, 1) * 255).astype(np.uint8)
                fr, au = codec_roundtrip(src8, corpus.render_audio_batch(params), td)
                frames.append(np.clip(np.round(fr * 255), 0, 255).astype(np.uint8))
                audio.append(au.astype(np.float16))
                labels.append(np.asarray([p["label_index"] for p in params], np.int64))
                vis_labels.append(np.asarray([corpus.LABELS.index(p["e_v"]) for p in params],
                                             np.int64))
        self.frames = np.concatenate(frames)
        self.audio = np.concatenate(audio)
        self.labels = np.concatenate(labels)
        #: the emotion the face shows (= the label except in audio-aligned clips)
        self.vis_labels = np.concatenate(vis_labels)
        print(f"pool: {n} clips rendered and codec-round-tripped in {time.time() - t:.0f}s",
              flush=True)

    def sample(self, rng: np.random.Generator, b: int,
               audio_dropout: float = 0.0) -> Tuple[torch.Tensor, ...]:
        idx = rng.integers(0, len(self.labels), size=b)
        fr = torch.from_numpy(self.frames[idx].astype(np.float32) / 255.0)
        au = self.audio[idx].astype(np.float32)
        if audio_dropout > 0:
            # Silence some clips so the visual pathway must learn (as a visual-only pretraining
            # corpus would make it); the test clips always have audio.
            au[rng.random(b) < audio_dropout] = 0.0
        return fr, torch.from_numpy(au), torch.from_numpy(self.labels[idx].astype(np.int64))


def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def optimise(model: MoSEARModel, params: List[torch.nn.Parameter], steps: int, lr: float,
             label: str, batch_fn: Callable[[], Tuple[torch.Tensor, torch.Tensor]]) -> None:
    """AdamW with warm-up and cosine decay on cross-entropy; batch_fn → (logits, targets)."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    model.train()
    t0 = time.time()
    run_loss, run_acc = 0.0, 0.0
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr)
        logits, y = batch_fn()
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        run_loss = 0.98 * run_loss + 0.02 * float(loss)
        run_acc = 0.98 * run_acc + 0.02 * float((logits.argmax(1) == y).float().mean())
        if (step + 1) % 200 == 0 or step == steps - 1:
            print(f"[{label}] step {step + 1}/{steps} loss {run_loss:.3f} acc {run_acc:.3f} "
                  f"({time.time() - t0:.0f}s)", flush=True)
    model.eval()


def pretrain_visual(model: MoSEARModel, pool: Pool, steps: int, lr: float, seed: int,
                    batch: int) -> None:
    """Stage 0 (attempt 6): pretrain the visual front end alone to name the face's emotion.

    A stand-in for the pretrained, frozen visual encoders of the real models (EVA-CLIP,
    VideoMAE): a temporary linear head on the mean and max of the visual tokens is trained on
    the face's emotion (horizontal flips as augmentation), then discarded. Without it the
    decoder never learned to read the face (attempts 1–5: visual-only accuracy near chance).
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    head = torch.nn.Linear(2 * model.cfg.d_model, len(corpus.LABELS))

    def batch_fn() -> Tuple[torch.Tensor, torch.Tensor]:
        idx = rng.integers(0, len(pool.vis_labels), size=batch)
        fr = torch.from_numpy(pool.frames[idx].astype(np.float32) / 255.0)
        flip = torch.from_numpy(rng.random(batch) < 0.5)
        fr = torch.where(flip[:, None, None, None, None], fr.flip(-1), fr)
        tok = model.visual(fr)
        return head(torch.cat([tok.mean(1), tok.amax(1)], dim=1)), \
            torch.from_numpy(pool.vis_labels[idx])

    optimise(model, list(model.visual.parameters()) + list(head.parameters()), steps, lr,
             "visual", batch_fn)


def train_stage(model: MoSEARModel, params: List[torch.nn.Parameter], pool: Pool,
                steps: int, lr: float, seed: int, batch: int, label: str,
                audio_dropout: float = 0.0) -> None:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    prompt = torch.tensor([model.cfg.prompt_ids()], dtype=torch.int64)

    def batch_fn() -> Tuple[torch.Tensor, torch.Tensor]:
        fr, au, y = pool.sample(rng, batch, audio_dropout)
        return model(fr, au, prompt), y

    optimise(model, params, steps, lr, label, batch_fn)


def save(model: MoSEARModel, path: str, meta: Dict[str, Any]) -> None:
    torch.save({"config": asdict(model.cfg), "state": model.state_dict(),
                "meta": {**meta, "version": RECIPE_VERSION}}, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="build")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--pool", type=int, default=12288)
    ap.add_argument("--backbone-steps", type=int, default=2000)
    ap.add_argument("--finetune-steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--only", choices=["backbone", "finetune", "all"], default="all")
    ap.add_argument("--backbone", help="backbone .pt to fine-tune (default: <out>/backbone.pt)")
    ap.add_argument("--backbone-audio-dropout", type=float, default=BACKBONE_AUDIO_DROPOUT,
                    help="share of backbone training clips with their audio silenced")
    ap.add_argument("--visual-front", choices=["patch", "conv"], default="conv",
                    help="the backbone's visual front end (fine-tunes inherit the backbone's)")
    ap.add_argument("--visual-steps", type=int, default=3000,
                    help="stage 0: steps pretraining the conv visual front end alone (then frozen)")
    ap.add_argument("--pretrain-mix", type=json.loads, default=None,
                    help='JSON subset mix for the backbone (default: PRETRAIN_MIX)')
    ap.add_argument("--finetune-mix", type=json.loads, default=None,
                    help='JSON subset mix for the fine-tunes, e.g. {"consistent": 0.7, ...}')
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    t_all = time.time()
    backbone_path = a.backbone or os.path.join(a.out, "backbone.pt")
    finetune_mix = a.finetune_mix or FINETUNE_MIX
    pretrain_mix = a.pretrain_mix or PRETRAIN_MIX
    if a.only in ("backbone", "all"):
        pool = Pool(rng, a.pool, pretrain_mix)
        torch.manual_seed(a.seed)
        model = MoSEARModel(ModelConfig(adapter="none", visual_front=a.visual_front))
        if a.visual_front == "conv" and a.visual_steps > 0:
            pretrain_visual(model, pool, a.visual_steps, 1e-3, a.seed + 7, a.batch)
            # Frozen from here on, like the real models' pretrained encoders; the position
            # embeddings stay trainable (the stage-0 head pools over positions).
            for p in list(model.visual.conv.parameters()) + list(
                    model.visual.cell_proj.parameters()):
                p.requires_grad_(False)
        train_stage(model, [p for p in model.parameters() if p.requires_grad], pool,
                    a.backbone_steps, 1e-3, a.seed, a.batch, "backbone",
                    audio_dropout=a.backbone_audio_dropout)
        save(model, backbone_path, {"name": "backbone", "mix": pretrain_mix})
        del pool
    if a.only in ("finetune", "all"):
        blob = torch.load(backbone_path, map_location="cpu")
        base, base_cfg = blob["state"], blob["config"]
        pool = Pool(np.random.default_rng(a.seed + 1), a.pool, finetune_mix)
        for name, adapter in (("emotion-llama-tiny", "lora"), ("mosear-tiny", "mose")):
            torch.manual_seed(a.seed + 2)
            model = MoSEARModel(ModelConfig(**{**base_cfg, "adapter": adapter}))
            missing, unexpected = model.load_state_dict(base, strict=False)
            assert not unexpected, unexpected
            for p in model.parameters():
                p.requires_grad_(False)
            params = model.adapter_parameters() + list(model.head.parameters())
            for p in params:
                p.requires_grad_(True)
            train_stage(model, params, pool, a.finetune_steps, 2e-3, a.seed + 3, a.batch, name)
            save(model, os.path.join(a.out, f"{name}.pt"),
                 {"name": name, "adapter": adapter, "mix": finetune_mix,
                  "seed": a.seed, "steps": a.finetune_steps})
    print(f"total {time.time() - t_all:.0f}s")


if __name__ == "__main__":
    main()
