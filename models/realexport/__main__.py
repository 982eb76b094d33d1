"""python3 -m realexport {export,miniature,fp16,quantize} … (run from models/, or with models/ on
PYTHONPATH). See models/realexport/README.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional

from .readers import ExportError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python3 -m realexport",
        description="Export Emotion-LLaMA / MoSEAR checkpoints to a MoSEAR contract-1.1 ONNX "
                    "model (weights as external data), make a float16-weights or a weight-only "
                    "int4/int8 copy, or write a miniature of the real files for testing. "
                    "Checkpoint .pth files are read with torch's full unpickler: they must be "
                    "trusted.")
    sub = ap.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="export the user's files to ONNX")
    ex.add_argument("--llama", required=True,
                    help="Hugging Face Llama-2-7b-chat-hf folder (config.json, safetensors or "
                         "pytorch_model.bin shards, tokenizer.model)")
    ex.add_argument("--eva", required=True, help="EVA-CLIP ViT-g weights (eva_vit_g.pth)")
    ex.add_argument("--hubert", required=True, help="chinese-hubert-large folder")
    ex.add_argument("--checkpoint", required=True,
                    help="Emotion-LLaMA .pth (LoRA and projections), or a MoSEAR checkpoint "
                         "with --adapter mose")
    ex.add_argument("--minigptv2", help="MiniGPT-v2 .pth, loaded first (optional)")
    ex.add_argument("--out", required=True, help="output .onnx (weights go to <out>.data)")
    ex.add_argument("--name", default=None, help="checkpoint name in the metadata")
    ex.add_argument("--adapter", choices=["lora", "mose"], default="lora")
    ex.add_argument("--mapping", default=None,
                    help="MoSE key mapping JSON (default: realexport/mose_mapping.json)")
    ex.add_argument("--lora-rank", type=int, default=None,
                    help="LoRA rank (default: read from the checkpoint's lora_A shape)")
    ex.add_argument("--lora-alpha", type=float, default=16.0, help="LoRA α (default 16)")
    ex.add_argument("--lora", choices=["merged", "applied"], default="merged",
                    help="fold LoRA into the weights (default) or apply it as extra matmuls")
    ex.add_argument("--assembly", choices=["context", "wrap"], default="context",
                    help="context: get_context_emb (evaluation/demo, default); wrap: "
                         "prompt_wrap (training)")
    ex.add_argument("--pooling", choices=["last-mean", "last4-sum-mean"], default="last-mean")
    ex.add_argument("--image-size", type=int, default=448)
    ex.add_argument("--eva-heads", type=int, default=None, help="default: width / 88")
    ex.add_argument("--eva-depth", type=int, default=None,
                    help="default: 39 at width 1408, else the stored blocks − 1")
    ex.add_argument("--fixed-transcript", default=None, metavar="TEXT",
                    help="write a fixed prompt with this transcript (contract 1.1's word-level "
                         "kind, usable by readers that do not know the sentencepiece kind)")
    ex.add_argument("--golden", default=None,
                    help="also write the exporter's own PyTorch outputs on seeded inputs (JSON)")
    mi = sub.add_parser("miniature", help="write a miniature of the real files (tiny, random)")
    mi.add_argument("out")
    mi.add_argument("--seed", type=int, default=0)
    fp = sub.add_parser("fp16", help="copy an exported model with float16 weights")
    fp.add_argument("model")
    fp.add_argument("out")
    qu = sub.add_parser("quantize", help="copy an exported model with weight-only int4/int8 "
                                         "MatMulNBits weights (onnxruntime CPU)")
    qu.add_argument("model")
    qu.add_argument("out")
    qu.add_argument("--bits", type=int, choices=[4, 8], default=4)
    qu.add_argument("--block-size", type=int, default=32, help="power of two ≥ 16 (default 32)")
    qu.add_argument("--scheme", choices=["asymmetric", "symmetric"], default="asymmetric")
    qu.add_argument("--min-dim", type=int, default=64,
                    help="quantize only weights whose both sides are at least this (default 64)")
    qu.add_argument("--accuracy-level", type=int, default=0,
                    help="MatMulNBits accuracy_level (0: unset, float32 arithmetic; 4: int8 "
                         "activations, faster and less exact)")
    return ap


def infer_rank(checkpoint: str, minigptv2: Optional[str]) -> int:
    from .readers import read_weights
    for path in (checkpoint, minigptv2):
        if not path:
            continue
        tensors, _ = read_weights(path)
        for k, v in tensors.items():
            if k.endswith(".lora_A.weight"):
                return int(v.shape[0])
    raise ExportError(f"{checkpoint}: no lora_A keys — not an Emotion-LLaMA/MoSEAR checkpoint "
                      f"(or pass --lora-rank)")


def main(argv: Optional[List[str]] = None) -> int:
    a = build_parser().parse_args(argv)
    import torch
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    try:
        if a.command == "miniature":
            from .miniature import generate
            paths = generate(a.out, a.seed)
            print(json.dumps(paths, indent=1))
            return 0
        if a.command == "fp16":
            from .fp16 import convert
            convert(a.model, a.out)
            print(f"wrote {a.out}")
            return 0
        if a.command == "quantize":
            from .quantize import quantize_model
            info = quantize_model(a.model, a.out, bits=a.bits, block_size=a.block_size,
                                  symmetric=a.scheme == "symmetric", min_dim=a.min_dim,
                                  accuracy_level=a.accuracy_level)
            print(json.dumps(info))
            print(f"wrote {a.out}")
            return 0
        from .export import export, example_inputs, run_outputs
        from .model import DEFAULT_MAPPING, EmotionLlama, Options, Sources
        sources = Sources(a.llama, a.eva, a.hubert, a.checkpoint, a.minigptv2)
        rank = a.lora_rank or infer_rank(a.checkpoint, a.minigptv2)
        opts = Options(adapter=a.adapter, lora_rank=rank, lora_alpha=a.lora_alpha,
                       lora_merged=a.lora == "merged", mapping=a.mapping or DEFAULT_MAPPING,
                       assembly=a.assembly, pooling=a.pooling, image_size=a.image_size,
                       eva_heads=a.eva_heads, eva_depth=a.eva_depth,
                       transcript=a.fixed_transcript if a.fixed_transcript is not None else "")
        t0 = time.time()
        print("reading the files …", flush=True)
        model = EmotionLlama(sources, opts)
        print(f"built in {time.time() - t0:.1f} s; tracing …", flush=True)
        name = a.name or ("MoSEAR" if a.adapter == "mose" else "Emotion-LLaMA") + " (export)"
        export(model, sources, a.out, name, fixed_prompt=a.fixed_transcript is not None)
        print(f"wrote {a.out} (+ .data) in {time.time() - t0:.1f} s", flush=True)
        if a.golden:
            outs = run_outputs(model, example_inputs(model))
            with open(a.golden, "w") as f:
                json.dump({k: v.tolist() for k, v in outs.items()}, f)
        return 0
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
