"""The building blocks against transformers' own LLaMA, peft's LoRA, HuBERT and slow LLaMA
tokenizer, on the miniature (same tiny random weights) — an oracle these machines cannot install.

Run where transformers (4.30 or later) and peft are installed (e.g. the GPU machine):

    python3 -m realexport.oracle [miniature-folder]

It writes the miniature when no folder is given, and prints each comparison's max |Δ|; exit
status 1 when one exceeds its tolerance. Not run by the python tier (no transformers here).
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Dict, List, Tuple

import torch

from mosear.model import Controls

from .miniature import TRANSCRIPTS, generate
from .model import EmotionLlama, Options, Sources
from .prompt import INSTRUCTION

TOL = 1e-4


def peft_lora(model_dir: str, ckpt: Dict[str, torch.Tensor], rank: int):  # pragma: no cover
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM
    hf = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    cfg = LoraConfig(r=rank, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                     lora_dropout=0.0, bias="none", task_type="CAUSAL_LM")
    peft = get_peft_model(hf, cfg)
    names = set(peft.state_dict())
    state = {}
    for k, v in ckpt.items():
        if ".lora_" not in k:
            continue
        key = k[len("llama_model."):]
        if key not in names:  # peft ≥ 0.3 names the adapter: lora_A.default.weight
            for ab in ("lora_A", "lora_B"):
                key = key.replace(f".{ab}.", f".{ab}.default.")
        state[key] = v.float()
    missing = [k for k in state if k not in names]
    assert not missing, f"peft has no keys {missing[:3]}"
    peft.load_state_dict(state, strict=False)
    return peft.eval()


def compare(results: List[Tuple[str, float, float]], name: str, a: torch.Tensor,
            b: torch.Tensor, tol: float = TOL) -> None:
    d = float((a.float() - b.float()).abs().max())
    results.append((name, d, tol))
    print(f"{name:48s} max |Δ| {d:.3g} ({'ok' if d <= tol else 'FAIL'}, tolerance {tol:g})")


def main(folder: str) -> int:  # pragma: no cover - needs transformers and peft
    from transformers import HubertModel, LlamaTokenizer, Wav2Vec2FeatureExtractor
    from .blocks import zero_mean_unit_var
    from .readers import read_torch
    paths = generate(folder) if not os.path.isdir(os.path.join(folder, "llama")) else {
        "llama": os.path.join(folder, "llama"), "eva": os.path.join(folder, "eva_vit_g.pth"),
        "hubert": os.path.join(folder, "hubert"),
        "checkpoint": os.path.join(folder, "emotion_llama.pth")}
    results: List[Tuple[str, float, float]] = []
    model = EmotionLlama(Sources(paths["llama"], paths["eva"], paths["hubert"],
                                 paths["checkpoint"]), Options(lora_rank=8))
    # 1. the slow tokenizer on get_context_emb's pieces
    tok = LlamaTokenizer.from_pretrained(paths["llama"], use_fast=False, legacy=True)
    from .prompt import segments
    for t in TRANSCRIPTS:
        prompt = "<s>[INST] " + INSTRUCTION.format(transcript=t) + " [/INST]"
        theirs = [tok(seg, add_special_tokens=i == 0).input_ids
                  for i, seg in enumerate(prompt.split("<VideoHere>"))]
        ours = [s.ids for s in segments(model.tokenizer, "context", t)[0]]
        same = theirs == ours
        results.append((f"tokenizer ids: {t[:24]!r}", 0.0 if same else 1.0, 0.0))
        print(f"tokenizer {t[:30]!r}: {'ok' if same else f'FAIL {theirs} vs {ours}'}")
    # 2. LLaMA + peft LoRA vs our decoder (ar_mode 0) on the same embedded sequence
    hf = peft_lora(paths["llama"], read_torch(paths["checkpoint"]), 8)
    L, H = model.cfg.num_hidden_layers, model.cfg.num_attention_heads
    frames = torch.rand(1, 1, 3, 448, 448)
    audio = torch.randn(1, 32000) * 0.1
    ids = torch.tensor([model.default_prompt_ids()])
    ctl = Controls.make(type("LH", (), {"layers": L, "heads": H})(), mode=0)  # type: ignore
    with torch.no_grad():
        x, _ = model.embed_all(frames, audio, ids)
        run = model.run(frames, audio, ids, ctl)
        out = hf(inputs_embeds=x, output_attentions=True)
    compare(results, "LLaMA+LoRA next-token logits (answer row)", run.vocab_logits,
            out.logits[:, -1])
    for layer in range(L):
        compare(results, f"attention row, layer {layer}", run.probes[layer].row_before,
                out.attentions[layer][:, :, -1, :], 1e-5)
    # 3. HuBERT hidden states and the feature extractor's normalisation
    hub = HubertModel.from_pretrained(paths["hubert"]).eval()
    fe = Wav2Vec2FeatureExtractor.from_pretrained(paths["hubert"])
    wav = audio[0].numpy()
    values = torch.tensor(fe(wav, sampling_rate=16000, return_tensors="np").input_values)
    compare(results, "Wav2Vec2FeatureExtractor normalisation", zero_mean_unit_var(audio),
            values, 1e-4)
    with torch.no_grad():
        theirs = hub(values, output_hidden_states=True).hidden_states
        ours = model.hubert(values)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        compare(results, f"HuBERT hidden state {i}", a, b)
    bad = [r for r in results if r[1] > r[2]]
    print(f"{len(results) - len(bad)} of {len(results)} comparisons within tolerance")
    return 1 if bad else 0


if __name__ == "__main__":  # pragma: no cover
    target = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="realexport-oracle-")
    sys.exit(main(target))
