"""Train the shipped checkpoints: a backbone, then two fine-tunes of that same backbone.

  backbone            all weights, no adapter, on the "pretraining" mix
  emotion-llama-tiny  frozen backbone + plain LoRA on q/k/v/o, on the fine-tuning mix
  mosear-tiny         frozen backbone + MoSE (shared A; global/visual/non-visual B; gate λ)

Usage (from models/): OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m mosear.train --out build
Training data is rendered on the fly from CA-MER-synth (mosear.corpus) into an in-memory pool;
the seeds are fixed, so a rerun on the same machine reproduces the checkpoints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import corpus
from .model import ModelConfig, MoSEARModel

#: Subset mixes (probabilities). Chosen before the first run; see RESULTS.md "Protocol".
#: The backbone's "pretraining" data: conflicts are rare and mostly audio-aligned, as in real
#: corpora where the voice is the more reliable cue.
PRETRAIN_MIX = {"consistent": 0.85, "audio-aligned": 0.10, "video-aligned": 0.05}
#: The fine-tuning ("instruction") data both adapters see: still a conflict minority.
FINETUNE_MIX = {"consistent": 0.80, "audio-aligned": 0.12, "video-aligned": 0.08}


class Pool:
    """A pre-rendered training pool (uint8 frames, float16 audio) sampled with replacement."""

    def __init__(self, rng: np.random.Generator, n: int, mix: Dict[str, float],
                 chunk: int = 256) -> None:
        frames, audio, labels = [], [], []
        t = time.time()
        for start in range(0, n, chunk):
            fr, au, y, _ = corpus.batch(rng, min(chunk, n - start), mix)
            frames.append(np.clip(np.round(fr * 255), 0, 255).astype(np.uint8))
            audio.append(au.astype(np.float16))
            labels.append(y)
        self.frames = np.concatenate(frames)
        self.audio = np.concatenate(audio)
        self.labels = np.concatenate(labels)
        print(f"pool: {n} clips rendered in {time.time() - t:.0f}s", flush=True)

    def sample(self, rng: np.random.Generator, b: int) -> Tuple[torch.Tensor, ...]:
        idx = rng.integers(0, len(self.labels), size=b)
        fr = torch.from_numpy(self.frames[idx].astype(np.float32) / 255.0)
        au = torch.from_numpy(self.audio[idx].astype(np.float32))
        return fr, au, torch.from_numpy(self.labels[idx].astype(np.int64))


def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))


def train_stage(model: MoSEARModel, params: List[torch.nn.Parameter], pool: Pool,
                steps: int, lr: float, seed: int, batch: int, label: str) -> None:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    prompt = torch.tensor([model.cfg.prompt_ids()], dtype=torch.int64)
    model.train()
    t0 = time.time()
    run_loss, run_acc = 0.0, 0.0
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr)
        fr, au, y = pool.sample(rng, batch)
        logits = model(fr, au, prompt)
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


def save(model: MoSEARModel, path: str, meta: Dict[str, Any]) -> None:
    torch.save({"config": asdict(model.cfg), "state": model.state_dict(), "meta": meta}, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="build")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--pool", type=int, default=12288)
    ap.add_argument("--backbone-steps", type=int, default=2000)
    ap.add_argument("--finetune-steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--only", choices=["backbone", "finetune", "all"], default="all")
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    t_all = time.time()
    backbone_path = os.path.join(a.out, "backbone.pt")
    if a.only in ("backbone", "all"):
        pool = Pool(rng, a.pool, PRETRAIN_MIX)
        torch.manual_seed(a.seed)
        model = MoSEARModel(ModelConfig(adapter="none"))
        train_stage(model, list(model.parameters()), pool, a.backbone_steps, 1e-3, a.seed,
                    a.batch, "backbone")
        save(model, backbone_path, {"name": "backbone", "mix": PRETRAIN_MIX})
        del pool
    if a.only in ("finetune", "all"):
        base = torch.load(backbone_path, map_location="cpu")["state"]
        pool = Pool(np.random.default_rng(a.seed + 1), a.pool, FINETUNE_MIX)
        for name, adapter in (("emotion-llama-tiny", "lora"), ("mosear-tiny", "mose")):
            torch.manual_seed(a.seed + 2)
            model = MoSEARModel(ModelConfig(adapter=adapter))
            missing, unexpected = model.load_state_dict(base, strict=False)
            assert not unexpected, unexpected
            for p in model.parameters():
                p.requires_grad_(False)
            params = model.adapter_parameters() + list(model.head.parameters())
            for p in params:
                p.requires_grad_(True)
            train_stage(model, params, pool, a.finetune_steps, 2e-3, a.seed + 3, a.batch, name)
            save(model, os.path.join(a.out, f"{name}.pt"),
                 {"name": name, "adapter": adapter, "mix": FINETUNE_MIX,
                  "seed": a.seed, "steps": a.finetune_steps})
    print(f"total {time.time() - t_all:.0f}s")


if __name__ == "__main__":
    main()
