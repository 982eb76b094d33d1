"""Render the CA-MER-synth splits to real mp4 files, decode them, and compare with the on-the-fly
path.

Run from models/ (so that ``mosear`` and ``research`` are importable), always with
``OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m research.make_splits ...``:

* ``test``        frozen test split: 150 clips per subset -> models/data/ca-mer-synth/test/
* ``validation``  ``--out DIR [--per-subset N]`` (default 1000), not committed; add ``--decode`` to
                  also write ``DIR/decoded.npz``
* ``decode``      ``MANIFEST [--cache PATH]`` decode a split with decode.py (2 processes) to .npz
* ``samples``     the README demo clips and the golden decodes under models/samples/
* ``compare``     ``[--n N]`` mean |on-the-fly - decoded| over test-split clips

Clip k of subset s in a split with seed S is ``sample_clip_params(default_rng([S, s, k]), subset,
label=k % 6)``, so every clip can be re-rendered from the manifest alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing import Pool
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mosear import decode

from . import corpus

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_DIR = os.path.join(MODELS_DIR, "data", "ca-mer-synth", "test")
SAMPLES_DIR = os.path.join(MODELS_DIR, "samples")
TEST_SEED = 20251001
VALIDATION_SEED = 20251002
TEST_PER_SUBSET = 150
VALIDATION_PER_SUBSET = 1000
PREFIX = {"consistent": "c", "video-aligned": "va", "audio-aligned": "aa"}
WORKERS = 2


def clip_params(seed: int, subset: str, k: int) -> dict:
    s = corpus.SUBSETS.index(subset)
    return corpus.sample_clip_params(np.random.default_rng([seed, s, k]), subset,
                                     label=k % corpus.NUM_CLASSES)


def manifest_entry(p: dict, rel_path: str, seed: int, k: int) -> dict:
    return {"path": rel_path, "label": p["label"], "subset": p["subset"],
            "e_v": p["e_v"], "a_v": p["a_v"], "e_a": p["e_a"], "a_a": p["a_a"],
            "seed": [seed, corpus.SUBSETS.index(p["subset"]), k],
            "generator": corpus.GENERATOR_VERSION}


def _encode(job: Tuple[dict, str]) -> str:
    p, path = job
    corpus.write_clip_mp4(p, path)
    return path


def render_split(out_dir: str, seed: int, per_subset: int, workers: int = WORKERS) -> List[dict]:
    os.makedirs(out_dir, exist_ok=True)
    entries, jobs = [], []
    for subset in corpus.SUBSETS:
        for k in range(per_subset):
            p = clip_params(seed, subset, k)
            name = f"{PREFIX[subset]}-{k + 1:04d}-{p['label']}.mp4"
            entries.append(manifest_entry(p, name, seed, k))
            jobs.append((p, os.path.join(out_dir, name)))
    t0 = time.time()
    with Pool(workers) as pool:
        for i, _ in enumerate(pool.imap(_encode, jobs, chunksize=4)):
            if (i + 1) % 100 == 0:
                print(f"  {i + 1}/{len(jobs)} clips, {time.time() - t0:.0f} s", flush=True)
    with open(os.path.join(out_dir, "manifest.jsonl"), "w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    return entries


def read_manifest(path: str) -> List[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _decode_one(path: str) -> Tuple[np.ndarray, np.ndarray]:
    frames, audio, _ = decode.decode_clip(path)
    if audio is None:
        audio = np.zeros(decode.WINDOW_SAMPLES, np.float32)
    return np.round(frames * 255.0).astype(np.uint8), audio


def decode_split(manifest: str, cache: Optional[str] = None,
                 workers: int = WORKERS) -> Dict[str, np.ndarray]:
    """Decode every clip of a manifest with decode.py; save (and return) an .npz cache with
    frames uint8 [N,4,3,64,64] (decoded value * 255, exact), audio float32 [N,32000],
    labels int64 [N], subsets (str) [N], paths (str) [N]."""
    entries = read_manifest(manifest)
    base = os.path.dirname(os.path.abspath(manifest))
    paths = [os.path.join(base, e["path"]) for e in entries]
    with Pool(workers) as pool:
        out = pool.map(_decode_one, paths, chunksize=8)
    arrays = {
        "frames": np.stack([o[0] for o in out]),
        "audio": np.stack([o[1] for o in out]),
        "labels": np.asarray([corpus.LABELS.index(e["label"]) for e in entries], np.int64),
        "subsets": np.asarray([e["subset"] for e in entries]),
        "paths": np.asarray([e["path"] for e in entries]),
    }
    cache = cache or os.path.join(base, "decoded.npz")
    np.savez(cache, **arrays)
    return arrays


def load_decoded(cache: str) -> Dict[str, np.ndarray]:
    """An .npz written by decode_split, with frames as float32 in [0, 1]."""
    z = dict(np.load(cache))
    z["frames"] = z["frames"].astype(np.float32) / np.float32(255.0)
    return z


TEST_README = """# CA-MER-synth — test split (frozen)

Procedurally rendered audio-visual emotion clips with emotion conflicts, rendered to real mp4 files
so that evaluation and the tests exercise the full decode path (`models/mosear/decode.py`, spec
`mosear-decode-1`).

- Generator: `{gen}` (`models/research/corpus.py`)
- Seed: `{seed}`; clip k of subset s is `sample_clip_params(np.random.default_rng([{seed}, s, k]),
  subset, label=k % 6)` with s = 0 consistent, 1 video-aligned, 2 audio-aligned.
- {per} clips per subset ({total} in all), labels balanced ({per_label} per label per subset).
- Files: `c-*` consistent, `va-*` video-aligned (label = face), `aa-*` audio-aligned (label = voice);
  2.0 s, 128x128, 10 fps, H.264 (libx264 -preset veryslow -crf {crf}, yuv420p, +faststart), AAC
  mono 16 kHz {abr}bit/s.
- `manifest.jsonl`: one JSON object per clip: `path` (relative to the manifest), `label`, `subset`,
  the generation parameters `e_v`, `a_v`, `e_a`, `a_a`, the `seed` triple and `generator`.

**This split is frozen.** Never train or tune on it (use `make_splits.py validation`). It is only
re-rendered when the generator version changes, and then every number that used it is re-run.
Regenerate with `cd models && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m research.make_splits test`
(same seed -> same manifest; the mp4 bytes may differ across ffmpeg versions).
"""  # noqa: E501 (the README's own line width)


def cmd_test(args) -> None:
    per = args.per_subset or TEST_PER_SUBSET
    t0 = time.time()
    entries = render_split(TEST_DIR, TEST_SEED, per)
    with open(os.path.join(TEST_DIR, "README.md"), "w") as f:
        f.write(TEST_README.format(gen=corpus.GENERATOR_VERSION, seed=TEST_SEED, per=per,
                                   total=len(entries), per_label=per // corpus.NUM_CLASSES,
                                   crf=corpus.VIDEO_CRF, abr=corpus.AUDIO_BITRATE))
    size = sum(os.path.getsize(os.path.join(TEST_DIR, e["path"])) for e in entries)
    print(f"test split: {len(entries)} clips, {size / 1e6:.2f} MB, {time.time() - t0:.0f} s")


def cmd_validation(args) -> None:
    per = args.per_subset or VALIDATION_PER_SUBSET
    t0 = time.time()
    entries = render_split(args.out, VALIDATION_SEED, per)
    print(f"validation split: {len(entries)} clips in {args.out}, {time.time() - t0:.0f} s")
    if args.decode:
        decode_split(os.path.join(args.out, "manifest.jsonl"))
        print(f"decoded -> {os.path.join(args.out, 'decoded.npz')}")


def cmd_decode(args) -> None:
    t0 = time.time()
    arrays = decode_split(args.manifest, args.cache)
    print(f"decoded {len(arrays['labels'])} clips in {time.time() - t0:.0f} s")


def _write_tensors(base: str, frames: np.ndarray, audio: np.ndarray) -> None:
    frames.astype("<f4").tofile(base + ".frames.f32")
    audio.astype("<f4").tofile(base + ".audio.f32")


SAMPLE_CHOICES = [  # (subset, label, a_v, a_a, conflicting emotion)
    ("consistent", "happy", 0.9, 0.85, None),
    ("video-aligned", "sad", 0.95, 0.3, "angry"),
    ("audio-aligned", "surprise", 0.3, 0.95, "sad"),
]
GOLDEN_TEST_CLIPS = ["c-0001-neutral.mp4", "va-0003-happy.mp4", "aa-0006-surprise.mp4"]


def cmd_samples(args) -> None:
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    entries = []
    for i, (subset, label, a_v, a_a, other) in enumerate(SAMPLE_CHOICES):
        p = corpus.sample_clip_params(np.random.default_rng([TEST_SEED + 7, i]), subset,
                                      label=corpus.LABELS.index(label))
        p["a_v"], p["a_a"] = a_v, a_a
        if other is not None:
            if subset == "video-aligned":
                p["e_a"] = other
            else:
                p["e_v"] = other
        p["occluder"] = 0  # demo clips: keep the face visible
        name = f"sample-{subset}-{label}"
        path = os.path.join(SAMPLES_DIR, name + ".mp4")
        corpus.write_clip_mp4(p, path)
        frames, audio, info = decode.decode_clip(path)
        _write_tensors(os.path.join(SAMPLES_DIR, name), frames, audio)
        e = manifest_entry(p, name + ".mp4", TEST_SEED + 7, i)
        e["seed"] = [TEST_SEED + 7, i]
        e["note"] = ("sample_clip_params(default_rng(seed), subset, label) with a_v, a_a, e_v/e_a "
                     "and occluder overridden")
        e.update({"frames": name + ".frames.f32", "audio": name + ".audio.f32", **info})
        entries.append(e)
    with open(os.path.join(SAMPLES_DIR, "manifest.jsonl"), "w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    # golden decodes of three test-split clips: what the TypeScript decode must reproduce
    gdir = os.path.join(SAMPLES_DIR, "golden-decodes")
    os.makedirs(gdir, exist_ok=True)
    index = {"spec": decode.SPEC_NAME, "source_dir": "models/data/ca-mer-synth/test",
             "frames_shape": [decode.NUM_FRAMES, 3, decode.FRAME_SIZE, decode.FRAME_SIZE],
             "audio_shape": [decode.WINDOW_SAMPLES], "dtype": "float32 little-endian", "clips": []}
    for fname in GOLDEN_TEST_CLIPS:
        frames, audio, info = decode.decode_clip(os.path.join(TEST_DIR, fname))
        stem = fname[:-4]
        _write_tensors(os.path.join(gdir, stem), frames, audio)
        index["clips"].append({"file": "../../data/ca-mer-synth/test/" + fname, "test_file": fname,
                               "frames": stem + ".frames.f32", "audio": stem + ".audio.f32",
                               "duration_s": info["duration_s"],
                               "frame_times_s": info["frame_times_s"],
                               "audio_start_s": info["audio_start_s"],
                               "has_audio": info["has_audio"],
                               "frames_mean": round(float(frames.mean()), 6),
                               "audio_rms": round(float(np.sqrt((audio ** 2).mean())), 6)})
    with open(os.path.join(gdir, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    print(f"samples -> {SAMPLES_DIR}")


def compare(n: int = 30) -> Dict[str, float]:
    """Mean |on-the-fly tensors - decoded mp4 tensors| over test-split clips (re-rendered from the
    manifest seeds)."""
    entries = read_manifest(os.path.join(TEST_DIR, "manifest.jsonl"))
    step = max(1, len(entries) // n)
    fd, ad, rel, ld = [], [], [], []
    for e in entries[::step][:n]:
        seed, s, k = e["seed"]
        p = clip_params(seed, corpus.SUBSETS[s], k)
        frames, audio, _ = decode.decode_clip(os.path.join(TEST_DIR, e["path"]))
        f2, a2 = corpus.model_tensors(p)
        fd.append(np.abs(frames - f2).mean())
        ad.append(np.abs(audio - a2).mean())
        rel.append(np.abs(audio - a2).mean() / max(np.abs(a2).mean(), 1e-9))
        ld.append(np.abs(_logspec(audio) - _logspec(a2)).mean())
    return {"clips": len(fd), "frames_mad": float(np.mean(fd)), "audio_mad": float(np.mean(ad)),
            "audio_rel_mad": float(np.mean(rel)), "audio_logspec_mad_db": float(np.mean(ld))}


def _logspec(x: np.ndarray, n_fft: int = 512, hop: int = 256) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    return 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-8)


def cmd_compare(args) -> None:
    print(json.dumps(compare(args.n), indent=1))


def main(argv: Optional[Sequence[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("test")
    t.add_argument("--per-subset", type=int, default=None)
    t.set_defaults(fn=cmd_test)
    v = sub.add_parser("validation")
    v.add_argument("--out", required=True)
    v.add_argument("--per-subset", type=int, default=None)
    v.add_argument("--decode", action="store_true")
    v.set_defaults(fn=cmd_validation)
    d = sub.add_parser("decode")
    d.add_argument("manifest")
    d.add_argument("--cache", default=None)
    d.set_defaults(fn=cmd_decode)
    s = sub.add_parser("samples")
    s.set_defaults(fn=cmd_samples)
    c = sub.add_parser("compare")
    c.add_argument("--n", type=int, default=30)
    c.set_defaults(fn=cmd_compare)
    args = ap.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main(sys.argv[1:])
