"""Readers for the files a researcher holds, without `transformers` or `peft`.

- safetensors: an 8-byte little-endian header length, a JSON header (name → dtype, shape,
  data_offsets relative to the end of the header; optional `__metadata__`), then raw
  little-endian bytes. Sharded folders list every tensor's file in
  `model.safetensors.index.json` (`weight_map`). Read with numpy (memory-mapped).
- torch pickles (`.pth`, `pytorch_model.bin`, sharded via `pytorch_model.bin.index.json`):
  read with torch's full unpickler (`weights_only=False`). Training checkpoints such as
  MiniGPT-v2's hold more than tensors, so Debian's torch 1.13 cannot open them with
  `weights_only`; the full unpickler can run code stored in the file, so **the files must be
  trusted** (use the published checkpoints, or files you made).
- Hugging Face `config.json`: plain JSON.

Every tensor read goes through a `Ledger` that records which keys were used, so the exporter can
insist that every expected key is present and no key is left over except a documented ignore
list (see `Ledger.finish`).
"""

from __future__ import annotations

import fnmatch
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch


class ExportError(Exception):
    """A problem with the user's files; the CLI prints the message and exits with status 2."""


# safetensors dtype names → numpy dtypes (BF16 has no numpy dtype: read as uint16, widened).
_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16,
              "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
              "U8": np.uint8, "BOOL": np.bool_}
_ST_NAMES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
             np.dtype(np.float64): "F64", np.dtype(np.int64): "I64",
             np.dtype(np.int32): "I32", np.dtype(np.uint8): "U8"}


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """One .safetensors file → name → tensor (float16/bfloat16 kept as stored)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ExportError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            (n,) = struct.unpack("<Q", head)
            if n <= 0 or 8 + n > size:
                raise ExportError(f"{path}: not a safetensors file (header length {n} does not "
                                  f"fit a {size}-byte file)")
            header = json.loads(f.read(n).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError(f"{path}: cannot read a safetensors header ({e})") from e
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n) if size > 8 + n else None
    out: Dict[str, torch.Tensor] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _ST_DTYPES.get(info.get("dtype", ""))
        if dtype is None:
            raise ExportError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')}")
        begin, end = info["data_offsets"]
        shape = [int(s) for s in info["shape"]]
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * np.dtype(dtype).itemsize or data is None or end > data.size:
            raise ExportError(f"{path}: tensor {name} has offsets {begin}…{end} that do not match "
                              f"its shape {shape} and dtype {info['dtype']} (truncated file?)")
        arr = np.frombuffer(data[begin:end].tobytes(), dtype=dtype).reshape(shape)
        if info["dtype"] == "BF16":
            t = torch.from_numpy((arr.astype(np.uint32) << 16).view(np.float32).copy())
            out[name] = t.to(torch.bfloat16)
        else:
            out[name] = torch.from_numpy(arr.copy())
    return out


def write_safetensors(path: str, tensors: Dict[str, np.ndarray],
                      metadata: Optional[Dict[str, str]] = None) -> None:
    """Write tensors in the safetensors layout (used by the miniature generator)."""
    header: Dict[str, Any] = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    blobs: List[bytes] = []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_NAMES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the reference writer pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_torch(path: str) -> Dict[str, torch.Tensor]:
    """A torch pickle → its state dict (the `model` entry of a training checkpoint, or the
    top level). Uses the full unpickler: the file must be trusted."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds on a bad file
        raise ExportError(f"{path}: cannot be read as a torch checkpoint ({e})") from e
    if isinstance(blob, dict) and isinstance(blob.get("model"), dict):
        blob = blob["model"]
    elif isinstance(blob, dict) and isinstance(blob.get("state_dict"), dict):
        blob = blob["state_dict"]
    if not isinstance(blob, dict) or not all(isinstance(v, torch.Tensor) for v in blob.values()):
        raise ExportError(f"{path}: holds no state dict (expected a dict of tensors, or one "
                          f"under 'model')")
    return dict(blob)


def read_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ExportError(f"{path}: cannot read JSON ({e})") from e
    if not isinstance(value, dict):
        raise ExportError(f"{path}: expected a JSON object")
    return value


def read_weights(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """A weights file or a Hugging Face folder → (name → tensor, name → the file it came from).

    A folder is read from, in order of preference: `model.safetensors.index.json` (sharded
    safetensors), `model.safetensors`, `pytorch_model.bin.index.json`, `pytorch_model.bin`."""
    if os.path.isfile(path):
        reader = read_safetensors if path.endswith(".safetensors") else read_torch
        tensors = reader(path)
        return tensors, {k: path for k in tensors}
    if not os.path.isdir(path):
        raise ExportError(f"{path}: no such file or folder")
    for index, reader in (("model.safetensors.index.json", read_safetensors),
                          ("pytorch_model.bin.index.json", read_torch)):
        index_path = os.path.join(path, index)
        if os.path.isfile(index_path):
            weight_map = read_json(index_path).get("weight_map")
            if not isinstance(weight_map, dict) or not weight_map:
                raise ExportError(f"{index_path}: has no weight_map")
            tensors: Dict[str, torch.Tensor] = {}
            files: Dict[str, str] = {}
            for shard in sorted(set(weight_map.values())):
                shard_path = os.path.join(path, shard)
                if not os.path.isfile(shard_path):
                    raise ExportError(f"{index_path}: lists shard {shard}, which is missing "
                                      f"(incomplete download?)")
                for k, v in reader(shard_path).items():
                    tensors[k] = v
                    files[k] = shard_path
            listed = [k for k in weight_map if k not in tensors]
            if listed:
                raise ExportError(f"{index_path}: {len(listed)} tensors listed in the index are "
                                  f"missing from their shards, e.g. {listed[:3]}")
            return tensors, files
    for single, reader in (("model.safetensors", read_safetensors),
                           ("pytorch_model.bin", read_torch)):
        single_path = os.path.join(path, single)
        if os.path.isfile(single_path):
            tensors = reader(single_path)
            return tensors, {k: single_path for k in tensors}
    raise ExportError(f"{path}: no weights found (expected model.safetensors.index.json, "
                      f"model.safetensors, pytorch_model.bin.index.json or pytorch_model.bin)")


@dataclass
class Ledger:
    """Tensors of one source (a folder or file), with a record of the keys the model used.

    `take` names the key and the file for every missing key or shape/dtype mismatch; `finish`
    raises when a key was neither used nor matched by the source's ignore list."""

    name: str
    tensors: Dict[str, torch.Tensor]
    files: Dict[str, str]
    ignore: Sequence[Tuple[str, str]] = ()  # (glob pattern, why it is unused)
    used: set = field(default_factory=set)
    missing: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)

    @staticmethod
    def open(name: str, path: str, ignore: Sequence[Tuple[str, str]] = (),
             strip_prefix: str = "") -> "Ledger":
        tensors, files = read_weights(path)
        if strip_prefix and any(k.startswith(strip_prefix) for k in tensors):
            tensors = {k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v
                       for k, v in tensors.items()}
            files = {k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v
                     for k, v in files.items()}
        return Ledger(name, tensors, files, ignore)

    def has(self, key: str) -> bool:
        return key in self.tensors

    def take(self, key: str, shape: Optional[Sequence[Optional[int]]] = None,
             optional: bool = False) -> Optional[torch.Tensor]:
        """The tensor `key` as float32 (marked used). `shape` entries None match any size."""
        t = self.tensors.get(key)
        if t is None:
            if not optional:
                self.missing.append(key)
            return None
        self.used.add(key)
        if not t.is_floating_point():
            self.errors.append(f"{key} in {self.files[key]}: dtype {t.dtype}, expected a "
                               f"floating-point tensor")
            return None
        if shape is not None and (len(shape) != t.dim() or any(
                s is not None and s != d for s, d in zip(shape, t.shape))):
            want = "×".join("?" if s is None else str(s) for s in shape)
            self.errors.append(f"{key} in {self.files[key]}: shape {list(t.shape)}, expected "
                               f"[{want}]")
            return None
        return t.float()

    def check(self) -> None:
        """Raise on missing keys or mismatches so far (all of them at once)."""
        lines: List[str] = []
        if self.missing:
            lines.append(f"{len(self.missing)} expected keys are missing, e.g. "
                         f"{', '.join(self.missing[:5])}")
        lines.extend(self.errors)
        if lines:
            raise ExportError(f"{self.name}: " + "; ".join(lines)
                              + " — is this the right file or folder, and is it complete?")

    def unused(self) -> List[str]:
        return sorted(k for k in self.tensors if k not in self.used and not any(
            fnmatch.fnmatchcase(k, pattern) for pattern, _ in self.ignore))

    def finish(self) -> None:
        self.check()
        left = self.unused()
        if left:
            raise ExportError(f"{self.name}: {len(left)} keys were not used by the model and are "
                              f"not on the ignore list, e.g. {', '.join(left[:5])} — a different "
                              f"architecture or key layout than expected?")


def first_existing(folder: str, names: Iterable[str]) -> Optional[str]:
    for n in names:
        p = os.path.join(folder, n)
        if os.path.exists(p):
            return p
    return None
