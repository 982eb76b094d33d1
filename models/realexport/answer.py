"""The reference for the generated answer: greedy decoding with the exporter's own PyTorch forward.

`python3 -m realexport.answer spec.json` regenerates the miniature (as `realexport.golden` does,
so its weights are the committed fixture's), reads the frames and audio the engine decoded
(raw float32 files named in the spec), and for each control setting appends the vocabulary's
argmax at the last position to the prompt ids and runs again, with the same controls at every
step (CONTRACT.md §2a, generation), until EOS or `tokens` tokens. Prints
`{case: {"ids": [...], "stopped_at": "eos" | "max-tokens"}}` as JSON; EOS is not in `ids`.
test/engine/generatedAnswer.test.ts compares the engine's `generatedAnswer` with it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any, Dict, List

import numpy as np
import torch

from .golden import TRANSCRIPT, build, controls
from .miniature import generate


def greedy(model: Any, frames: torch.Tensor, audio: torch.Tensor, prompt_ids: List[int],
           ctl: Any, tokens: int) -> Dict[str, Any]:
    eos = model.tokenizer.sp.eos_id()
    ids: List[int] = []
    with torch.no_grad():
        for _ in range(tokens):
            out = model.run(frames, audio, torch.tensor([prompt_ids + ids]), ctl)
            token = int(torch.argmax(out.vocab_logits[0]))
            if token == eos:
                return {"ids": ids, "stopped_at": "eos"}
            ids.append(token)
    return {"ids": ids, "stopped_at": "max-tokens"}


def main(spec_path: str) -> None:
    torch.set_num_threads(2)
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    frames = torch.from_numpy(np.fromfile(spec["frames"], dtype=np.float32)
                              .reshape(spec["frames_shape"]))
    audio = torch.from_numpy(np.fromfile(spec["audio"], dtype=np.float32).reshape(1, -1))
    with tempfile.TemporaryDirectory() as tmp:
        model, _ = build(generate(os.path.join(tmp, "mini")), transcript=TRANSCRIPT)
    out = {case["name"]: greedy(model, frames, audio, spec["prompt_ids"],
                                controls(model, case["mode"], case["kind"], case["alpha"],
                                         case["pai"]), spec["tokens"])
           for case in spec["cases"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
