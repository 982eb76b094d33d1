"""Decode spec ``mosear-decode-1``: how a clip file becomes the model's ``frames`` and ``audio``.

The TypeScript engine issues exactly the same ffmpeg/ffprobe argument lists (see
``DECODE_SPEC.md``), so training, evaluation and the editor see the same tensors.

Facts measured with ffmpeg 5.1 (Debian 12) that the spec relies on:

* Seek semantics. Input seeking (``-ss t`` before ``-i``) is accurate: ffmpeg decodes from the
  preceding keyframe and drops every frame whose timestamp is < t, so the frame returned is the
  **first frame with pts >= t** (to the microsecond the ``%.6f`` string carries). Measured on a
  10 fps clip whose frames encode their index: t = 0.25 -> frame 3 (pts 0.3), not frame 2;
  t = 0.2 exactly -> frame 2; t = 0.201 -> frame 3. For the corpus' 2.0 s, 10 fps clips the four
  midpoint times 0.25/0.75/1.25/1.75 s therefore yield source frames 3, 8, 13, 18
  (``corpus.DECODED_FRAME_INDEX``).
* Past the end. A seek to t > pts of the last frame (1.9 s on those clips) writes no frame.
  Fallback: re-seek to max(0, D - 0.5 s), decode all remaining frames and keep the last one.
* Non-square pixels. ``scale=...:force_original_aspect_ratio=increase`` works on the stored
  width/height and ignores the sample aspect ratio, so a clip stored 128x128 with SAR 2:1 (shown
  256x128 by players) came out undistorted in *storage* space, i.e. squeezed relative to what a
  viewer sees. ``setsar=1`` alone only relabels and changes nothing. We therefore first resample
  to square pixels with ``scale=iw*sar:ih:flags=area,setsar=1``; for square-pixel input this
  step is a pass-through (verified bit-identical output), so it costs nothing on the corpus.
* Rotation. ffmpeg's default autorotate applies display-matrix rotation before our filters.
* Colour. ``-pix_fmt rgb24`` converts with swscale's defaults (limited-range BT.601 unless the
  stream says otherwise); values are uint8 / 255.
* One process for all frames. ``frames_args`` opens the clip once per frame time, each input with
  the same accurate seek as the per-frame command, and writes frame i of input i to file i: the
  same bytes as T per-frame commands (each output is the per-frame command's by construction) in
  one process start instead of T. Used when the clip has exactly one video stream, where the
  explicit ``-map i:INDEX`` picks the stream ffmpeg's default selection would; otherwise per frame.
* Audio. The AAC encoder delay is removed by the mp4 edit list: decoded audio is sample-aligned
  with the source (cross-correlation peak at lag 0).

Contract 1.1 variants (CONTRACT.md §6 step 5) are fields of :class:`DecodeSpec` (its defaults are
contract 1's values): ``frame_times="first"`` (T = 1, no seek), ``resize="squash"``
(``scale=W:H:flags=F``, no crop), ``scale_flags="bicubic"`` (every ``flags=area`` becomes
``flags=bicubic``), ``audio_window="from-start"`` (no ``-ss``) and ``audio_length="variable"``
(S = the samples received, at most ``samples``, zero-padded to ``min_samples``). The TypeScript
decoders take the same fields (``ClipDecodeSpec``) and issue the same argument lists.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

SPEC_NAME = "mosear-decode-1"
NUM_FRAMES = 4
FRAME_SIZE = 64
SAMPLE_RATE_HZ = 16000
WINDOW_SECONDS = 2.0
WINDOW_SAMPLES = 32000
TAIL_RESEEK_SECONDS = 0.5


class DecodeError(RuntimeError):
    """The file cannot be decoded under the spec (no video stream, ffmpeg failure)."""


_VARIANTS = {
    "frame_times": ("midpoints", "first"),
    "resize": ("cover-center-crop", "squash"),
    "scale_flags": ("area", "bicubic"),
    "audio_window": ("centered", "from-start"),
    "audio_length": ("fixed", "variable"),
}


@dataclass(frozen=True)
class DecodeSpec:
    """Tensor sizes and the contract 1.1 variants; the defaults are contract 1's (the corpus').

    As TypeScript's ``ClipDecodeSpec``: ``samples`` is S (the cap with a variable length)."""

    frames: int = NUM_FRAMES
    height: int = FRAME_SIZE
    width: int = FRAME_SIZE
    sample_rate_hz: int = SAMPLE_RATE_HZ
    samples: int = WINDOW_SAMPLES
    frame_times: str = "midpoints"
    resize: str = "cover-center-crop"
    scale_flags: str = "area"
    audio_window: str = "centered"
    audio_length: str = "fixed"
    min_samples: Optional[int] = None

    def __post_init__(self) -> None:
        for key, allowed in _VARIANTS.items():
            if getattr(self, key) not in allowed:
                raise DecodeError(f"decode spec: {key} must be one of {', '.join(allowed)}")
        if self.frame_times == "first" and self.frames != 1:
            raise DecodeError(f'decode spec: frame_times "first" needs frames 1, got {self.frames}')
        if self.audio_length == "variable":
            if self.audio_window != "from-start":
                raise DecodeError('decode spec: audio_length "variable" needs audio_window '
                                  '"from-start"')
            if self.min_samples is None or not 1 <= self.min_samples <= self.samples:
                raise DecodeError(f"decode spec: min_samples must be in 1..{self.samples}")
        elif self.min_samples is not None:
            raise DecodeError('decode spec: min_samples is only for audio_length "variable"')

    @property
    def window_s(self) -> float:
        return self.samples / self.sample_rate_hz

    @property
    def filter(self) -> str:
        return video_filter(self.width, self.height, self.resize, self.scale_flags)


def video_filter(width: int, height: int, resize: str = "cover-center-crop",
                 scale_flags: str = "area") -> str:
    """Contract 1's chain (square pixels, cover-scale, centre crop), or ``scale=W:H`` for squash;
    ``scale_flags`` replaces every ``flags=area``."""
    if resize == "squash":
        return f"scale={width}:{height}:flags={scale_flags}"
    return (f"scale=iw*sar:ih:flags={scale_flags},setsar=1,scale={width}:{height}:"
            f"force_original_aspect_ratio=increase:flags={scale_flags},crop={width}:{height}")


def _spec(spec: Optional[DecodeSpec], size: int = FRAME_SIZE,
          num_frames: int = NUM_FRAMES) -> DecodeSpec:
    return spec if spec is not None else DecodeSpec(frames=num_frames, height=size, width=size)


@dataclass
class ProbeResult:
    duration_s: float
    has_audio: bool
    #: Stream index of the only video stream, or None when the file has several (frames then
    #: come one process per frame).
    single_video_index: Optional[int] = None


def _run(args: List[str]) -> bytes:
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise DecodeError(f"{args[0]} failed ({proc.returncode}): {err}")
    return proc.stdout


def probe_args(path: str) -> List[str]:
    return ["ffprobe", "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=duration:format=duration", "-of", "json", path]


def streams_probe_args(path: str) -> List[str]:
    return ["ffprobe", "-v", "error", "-show_entries", "stream=index,codec_type",
            "-of", "json", path]


def _input(path: str, start_s: Optional[float]) -> List[str]:
    """The clip opened with an accurate seek to ``start_s``, or at its start (None, no -ss)."""
    seek = [] if start_s is None else ["-ss", f"{start_s:.6f}"]
    return ["ffmpeg", "-v", "error", "-nostdin", *seek, "-i", path]


def frame_args(path: str, t: Optional[float], size: int = FRAME_SIZE, single: bool = True,
               spec: Optional[DecodeSpec] = None) -> List[str]:
    """The frame at t (first pts >= t); t None: the first frame, no seek (frame_times first)."""
    args = _input(path, t)
    if single:
        args += ["-frames:v", "1"]
    return args + ["-vf", _spec(spec, size).filter, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]


def frames_args(path: str, times: List[float], stream_index: int, outputs: List[str],
                size: int = FRAME_SIZE, spec: Optional[DecodeSpec] = None) -> List[str]:
    """All frames in one process: input i seeks to times[i]; output i gets its first frame."""
    vf = _spec(spec, size).filter
    args = ["ffmpeg", "-v", "error", "-nostdin"]
    for t in times:
        args += ["-ss", f"{t:.6f}", "-i", path]
    for i, out in enumerate(outputs):
        args += ["-map", f"{i}:{stream_index}", "-frames:v", "1",
                 "-vf", vf, "-pix_fmt", "rgb24", "-f", "rawvideo", out]
    return args


def audio_args(path: str, start_s: Optional[float],
               spec: Optional[DecodeSpec] = None) -> List[str]:
    """The window from ``start_s`` (None: from the start, no -ss) for the window length."""
    sp = _spec(spec)
    return _input(path, start_s) + ["-t", f"{sp.window_s:.6f}", "-vn", "-ac", "1",
                                    "-ar", str(sp.sample_rate_hz), "-f", "f32le", "-"]


def _positive(x) -> Optional[float]:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v > 0 and np.isfinite(v) else None


def probe(path: str) -> ProbeResult:
    info = json.loads(_run(probe_args(path)) or b"{}")
    streams = info.get("streams") or []
    if not streams:
        raise DecodeError(f"no video stream in {path}")
    d = (_positive(streams[0].get("duration"))
         or _positive((info.get("format") or {}).get("duration")))
    if d is None:
        raise DecodeError(f"no duration for {path}")
    kinds = json.loads(_run(streams_probe_args(path)) or b"{}").get("streams") or []
    video = [int(k["index"]) for k in kinds if k.get("codec_type") == "video"]
    return ProbeResult(duration_s=d, has_audio=any(k.get("codec_type") == "audio" for k in kinds),
                       single_video_index=video[0] if len(video) == 1 else None)


def frame_times(duration_s: float, num_frames: int = NUM_FRAMES) -> List[float]:
    return [(i + 0.5) * duration_s / num_frames for i in range(num_frames)]


def audio_window_start(duration_s: float, window_s: float = WINDOW_SECONDS) -> float:
    return max(0.0, (duration_s - window_s) / 2.0)


def spec_frame_times(duration_s: float, spec: DecodeSpec) -> List[float]:
    """The midpoints, or [0.0] for frame_times "first" (the clip's start)."""
    return [0.0] if spec.frame_times == "first" else frame_times(duration_s, spec.frames)


def spec_audio_start(duration_s: float, spec: DecodeSpec) -> float:
    """s0: 0 for audio_window "from-start", else the centred window's start."""
    if spec.audio_window == "from-start":
        return 0.0
    return audio_window_start(duration_s, spec.window_s)


def audio_window(raw: bytes, spec: DecodeSpec) -> np.ndarray:
    """The first S float32 LE samples zero-padded to S; variable: what arrived (at most
    ``samples``), zero-padded to ``min_samples``."""
    pcm = np.frombuffer(raw[: len(raw) // 4 * 4], "<f4")[: spec.samples]
    n = spec.samples if spec.audio_length == "fixed" else max(len(pcm), spec.min_samples or 1)
    out = np.zeros(n, np.float32)
    out[: len(pcm)] = pcm
    return out


def silence_samples(duration_s: float, spec: DecodeSpec) -> int:
    """Samples of silence for a clip without audio: S, or variable
    clamp(round(D * rate), min_samples, samples) (round: ties to even)."""
    if spec.audio_length == "fixed":
        return spec.samples
    return min(spec.samples, max(spec.min_samples or 1, round(duration_s * spec.sample_rate_hz)))


def _frame_or_tail(path: str, raw: bytes, t: float, duration_s: float,
                   spec: DecodeSpec) -> np.ndarray:
    """The frame a seek to t wrote (``raw``), or the tail's last frame when it wrote none."""
    n = spec.width * spec.height * 3
    if len(raw) < n and spec.frame_times == "first":
        raise DecodeError(f"no frame from the start of {path}")
    if len(raw) < n:  # seek past the last frame: take the last frame of the tail
        tail_s = max(0.0, duration_s - TAIL_RESEEK_SECONDS)
        raw = _run(frame_args(path, tail_s, single=False, spec=spec))
        if len(raw) < n:
            raise DecodeError(f"no frame near t={t:.6f} in {path}")
        raw = raw[len(raw) // n * n - n:]
    img = np.frombuffer(raw[:n], np.uint8).reshape(spec.height, spec.width, 3)
    return (img.astype(np.float32) / 255.0).transpose(2, 0, 1).copy()


def decode_frame(path: str, t: float, duration_s: float, size: int = FRAME_SIZE,
                 spec: Optional[DecodeSpec] = None) -> np.ndarray:
    """One frame as float32 [3, H, W] in [0, 1] (frame_times first: the first frame)."""
    sp = _spec(spec, size)
    seek = None if sp.frame_times == "first" else t
    return _frame_or_tail(path, _run(frame_args(path, seek, spec=sp)), t, duration_s, sp)


def decode_frames(path: str, duration_s: float, num_frames: int = NUM_FRAMES,
                  size: int = FRAME_SIZE, stream_index: Optional[int] = None,
                  spec: Optional[DecodeSpec] = None) -> np.ndarray:
    """float32 [T, 3, H, W] in [0, 1]: one process for all frames when ``stream_index``
    (the clip's only video stream) is given, else one process per frame; the same tensors.
    The first frame (frame_times first) is one command either way."""
    sp = _spec(spec, size, num_frames)
    times = spec_frame_times(duration_s, sp)
    if stream_index is None or sp.frame_times == "first":
        return np.stack([decode_frame(path, t, duration_s, spec=sp) for t in times])
    with tempfile.TemporaryDirectory(prefix="mosear-frames-") as tmp:
        outputs = [os.path.join(tmp, f"frame-{i}.rgb") for i in range(len(times))]
        _run(frames_args(path, times, stream_index, outputs, spec=sp))
        raws = []
        for out in outputs:
            try:
                with open(out, "rb") as f:
                    raws.append(f.read())
            except FileNotFoundError:
                raws.append(b"")
    return np.stack([_frame_or_tail(path, raw, t, duration_s, sp)
                     for raw, t in zip(raws, times)])


def decode_audio(path: str, duration_s: float, spec: Optional[DecodeSpec] = None) -> np.ndarray:
    """float32 [S]: the window (centred, or from the start), zero-padded at the end; with a
    variable length, what arrived, at most ``samples``, padded to ``min_samples``."""
    sp = _spec(spec)
    start = None if sp.audio_window == "from-start" else spec_audio_start(duration_s, sp)
    return audio_window(_run(audio_args(path, start, sp)), sp)


def decode_clip(path: str, spec: Optional[DecodeSpec] = None,
                one_process: bool = True) -> Tuple[np.ndarray, Optional[np.ndarray], dict]:
    """(frames [T,3,H,W], audio [S] or None when the file has no audio stream, info); the
    corpus' spec by default. ``one_process`` False reads the frames one process per frame."""
    sp = _spec(spec)
    pr = probe(path)
    index = pr.single_video_index if one_process else None
    frames = decode_frames(path, pr.duration_s, stream_index=index, spec=sp)
    audio = decode_audio(path, pr.duration_s, sp) if pr.has_audio else None
    info = {
        "duration_s": pr.duration_s,
        "frame_times_s": [round(t, 6) for t in spec_frame_times(pr.duration_s, sp)],
        "audio_start_s": round(spec_audio_start(pr.duration_s, sp), 6),
        "has_audio": pr.has_audio,
    }
    return frames, audio, info


def _main(argv: List[str]) -> None:
    """``python3 -m mosear.decode [--spec JSON] [--per-frame] [--write PREFIX] FILE...``: print
    what each clip decodes to; ``--write`` stores PREFIX.frames.f32 and PREFIX.audio.f32 (raw
    little-endian float32; no audio file without audio) for one clip (the decode tier's check
    that both languages give the same tensors). JSON holds DecodeSpec's fields."""
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m mosear.decode")
    parser.add_argument("--spec", default="{}")
    parser.add_argument("--per-frame", action="store_true")
    parser.add_argument("--write")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    spec = DecodeSpec(**json.loads(args.spec))
    for p in args.files:
        f, a, info = decode_clip(p, spec, one_process=not args.per_frame)
        if args.write:
            f.astype("<f4").tofile(args.write + ".frames.f32")
            if a is not None:
                a.astype("<f4").tofile(args.write + ".audio.f32")
        print(p, info, f.shape, None if a is None else a.shape, float(f.mean()))


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
