"""Emotion-LLaMA's prompt, tokenized with the checkpoint's own SentencePiece tokenizer.model.

Facts (github ZebangCheng/Emotion-LLaMA): the instruction is built in
`minigpt4/datasets/datasets/first_face.py` as
`"<video><VideoHere></video> <feature><FeatureHere></feature> {character_line} [emotion] {task} "`
with `character_line = "The person in video says: {transcript}. "` and the task "Please determine
which emotion label in the video represents: happy, sad, neutral, angry, worried, surprise, fear,
contempt, doubt." (hence the double spaces). The evaluation script and demo wrap it with
`CONV_VISION_minigptv2` (roles `"<s>[INST] "`, `" [/INST]"`, empty system and separator) and
assemble it with `get_context_emb` (minigpt_base.py): the prompt is split at `<VideoHere>`, each
piece is tokenized separately — the first with the tokenizer's BOS, so the literal `<s>` gives a
second BOS — and the whole visual/feature block goes where `<VideoHere>` was; `<FeatureHere>`
stays as text. Training's `prompt_wrap` instead formats `[INST] {} [/INST]`, prepends one BOS
embedding, and tokenizes the pieces between `<VideoHere>` and `<FeatureHere>` separately without
special tokens, placing the 256 patch tokens at `<VideoHere>` and the 4 feature tokens at
`<FeatureHere>`.

Tokenization rule (transformers 4.30's slow LlamaTokenizer, which MiniGPT-v2 loads with
use_fast=False): special tokens written in the text (`<s>`, `</s>`, `<unk>`) are single ids; every
other run of text — each piece of the split prompt separately — is encoded by SentencePiece with
its normaliser's dummy prefix (so each piece starts a new word).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Tuple

from .readers import ExportError

LABELS: List[str] = ["happy", "sad", "neutral", "angry", "worried", "surprise", "fear",
                     "contempt", "doubt"]
TASK = ("Please determine which emotion label in the video represents: "
        + ", ".join(LABELS) + ".")
DEFAULT_TRANSCRIPT = ""
#: The instruction of first_face.py with the emotion task; {transcript} is the slot.
INSTRUCTION = ("<video><VideoHere></video> <feature><FeatureHere></feature> "
               "The person in video says: {transcript}.  [emotion] " + TASK + " ")
ASSEMBLIES = {
    "context": "get_context_emb (evaluation script and demo): the whole visual/feature block at "
               "<VideoHere>, <FeatureHere> left as text, two BOS tokens",
    "wrap": "prompt_wrap (training): patch tokens at <VideoHere>, the 4 feature tokens at "
            "<FeatureHere>, one BOS",
}
SPECIALS = ("<s>", "</s>", "<unk>")


def load_sentencepiece(path: str):  # -> sentencepiece.SentencePieceProcessor
    try:
        import sentencepiece as spm
    except ImportError as e:  # pragma: no cover - Debian's python3-sentencepiece is a dependency
        raise ExportError("the exporter needs the sentencepiece module (Debian: "
                          "python3-sentencepiece; pip: sentencepiece)") from e
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no tokenizer.model (the LLaMA folder must hold the "
                          f"SentencePiece model)")
    sp = spm.SentencePieceProcessor()
    try:
        sp.Load(path)
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"{path}: not a SentencePiece model ({e})") from e
    return sp


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Piece:
    """Ids of one run of the prompt: `kind` "special" (one id) or "text" (SentencePiece)."""

    kind: str
    text: str
    ids: List[int]


class Tokenizer:
    """The slow LLaMA tokenizer's behaviour on MiniGPT-v2's prompts, over SentencePiece."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sp = load_sentencepiece(path)
        self.sha256 = file_sha256(path)
        self.bos = self.sp.bos_id()
        self.special_ids = {"<s>": self.sp.bos_id(), "</s>": self.sp.eos_id(),
                            "<unk>": self.sp.unk_id()}

    def pieces(self, text: str, bos: bool = False) -> List[Piece]:
        """`text` → runs: a leading BOS when asked, each special token, each text run."""
        out = [Piece("special", "<s>", [self.bos])] if bos else []
        for part in re.split("(" + "|".join(re.escape(s) for s in SPECIALS) + ")", text):
            if part in SPECIALS:
                out.append(Piece("special", part, [self.special_ids[part]]))
            elif part:
                out.append(Piece("text", part, list(self.sp.EncodeAsIds(part))))
        return out

    def encode(self, text: str, bos: bool = False) -> List[int]:
        return [i for p in self.pieces(text, bos) for i in p.ids]

    def piece_of(self, i: int) -> str:
        return self.sp.IdToPiece(i)

    def vocab(self) -> List[str]:
        return [self.sp.IdToPiece(i) for i in range(self.sp.GetPieceSize())]

    def label_first_tokens(self, labels: List[str]) -> List[int]:
        """The first id of each label as the answer's first word (SentencePiece's dummy prefix
        gives the word-initial piece, e.g. ▁happy). Raises when two labels share it."""
        firsts = [self.sp.EncodeAsIds(label)[0] for label in labels]
        seen: Dict[int, str] = {}
        for label, i in zip(labels, firsts):
            if i in seen:
                raise ExportError(f"labels {seen[i]!r} and {label!r} start with the same token "
                                  f"{self.piece_of(i)!r}: their first-token logits cannot be "
                                  f"told apart")
            seen[i] = label
        return firsts


@dataclass
class TextSegment:
    """A text segment of the layout: its name, its runs, and whether the transcript is in it."""

    name: str
    runs: List[Piece]
    has_slot: bool

    @property
    def ids(self) -> List[int]:
        return [i for p in self.runs for i in p.ids]


def segments(tok: Tokenizer, assembly: str, transcript: str
             ) -> Tuple[List[TextSegment], List[str]]:
    """The text segments of one assembly and, between them, the placeholder each gap holds
    ("video_block", "patches", "features")."""
    instruction = INSTRUCTION.format(transcript=transcript)
    if assembly == "context":
        prompt = "<s>[INST] " + instruction + " [/INST]"
        before, after = prompt.split("<VideoHere>")
        return ([TextSegment("prefix", tok.pieces(before, bos=True), False),
                 TextSegment("prompt", tok.pieces(after), True)], ["video_block"])
    if assembly == "wrap":
        prompt = "[INST] " + instruction + " [/INST]"
        before, rest = prompt.split("<VideoHere>")
        between, after = rest.split("<FeatureHere>")
        return ([TextSegment("prefix", [Piece("special", "<s>", [tok.bos])] + tok.pieces(before),
                             False),
                 TextSegment("between", tok.pieces(between), False),
                 TextSegment("prompt", tok.pieces(after), True)], ["patches", "features"])
    raise ExportError(f"unknown assembly {assembly!r} (one of {', '.join(ASSEMBLIES)})")
