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

VIDEO_FILTER = (
    "scale=iw*sar:ih:flags=area,setsar=1,"
    "scale={s}:{s}:force_original_aspect_ratio=increase:flags=area,crop={s}:{s}"
)


class DecodeError(RuntimeError):
    """The file cannot be decoded under the spec (no video stream, ffmpeg failure)."""


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


def frame_args(path: str, t: float, size: int = FRAME_SIZE, single: bool = True) -> List[str]:
    args = ["ffmpeg", "-v", "error", "-nostdin", "-ss", f"{t:.6f}", "-i", path]
    if single:
        args += ["-frames:v", "1"]
    return args + ["-vf", VIDEO_FILTER.format(s=size), "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]


def frames_args(path: str, times: List[float], stream_index: int, outputs: List[str],
                size: int = FRAME_SIZE) -> List[str]:
    """All frames in one process: input i seeks to times[i]; output i gets its first frame."""
    args = ["ffmpeg", "-v", "error", "-nostdin"]
    for t in times:
        args += ["-ss", f"{t:.6f}", "-i", path]
    for i, out in enumerate(outputs):
        args += ["-map", f"{i}:{stream_index}", "-frames:v", "1",
                 "-vf", VIDEO_FILTER.format(s=size), "-pix_fmt", "rgb24", "-f", "rawvideo", out]
    return args


def audio_args(path: str, start_s: float) -> List[str]:
    return ["ffmpeg", "-v", "error", "-nostdin", "-ss", f"{start_s:.6f}", "-i", path,
            "-t", f"{WINDOW_SECONDS:.6f}", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE_HZ),
            "-f", "f32le", "-"]


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


def audio_window_start(duration_s: float) -> float:
    return max(0.0, (duration_s - WINDOW_SECONDS) / 2.0)


def _frame_or_tail(path: str, raw: bytes, t: float, duration_s: float, size: int) -> np.ndarray:
    """The frame a seek to t wrote (``raw``), or the tail's last frame when it wrote none."""
    n = size * size * 3
    if len(raw) < n:  # seek past the last frame: take the last frame of the tail
        raw = _run(frame_args(path, max(0.0, duration_s - TAIL_RESEEK_SECONDS), size, single=False))
        if len(raw) < n:
            raise DecodeError(f"no frame near t={t:.6f} in {path}")
        raw = raw[len(raw) // n * n - n:]
    img = np.frombuffer(raw[:n], np.uint8).reshape(size, size, 3)
    return (img.astype(np.float32) / 255.0).transpose(2, 0, 1).copy()


def decode_frame(path: str, t: float, duration_s: float, size: int = FRAME_SIZE) -> np.ndarray:
    """One frame as float32 [3, size, size] in [0, 1]."""
    return _frame_or_tail(path, _run(frame_args(path, t, size)), t, duration_s, size)


def decode_frames(path: str, duration_s: float, num_frames: int = NUM_FRAMES,
                  size: int = FRAME_SIZE, stream_index: Optional[int] = None) -> np.ndarray:
    """float32 [T, 3, size, size] in [0, 1]: one process for all frames when ``stream_index``
    (the clip's only video stream) is given, else one process per frame; the same tensors."""
    times = frame_times(duration_s, num_frames)
    if stream_index is None:
        return np.stack([decode_frame(path, t, duration_s, size) for t in times])
    with tempfile.TemporaryDirectory(prefix="mosear-frames-") as tmp:
        outputs = [os.path.join(tmp, f"frame-{i}.rgb") for i in range(len(times))]
        _run(frames_args(path, times, stream_index, outputs, size))
        raws = []
        for out in outputs:
            try:
                with open(out, "rb") as f:
                    raws.append(f.read())
            except FileNotFoundError:
                raws.append(b"")
    return np.stack([_frame_or_tail(path, raw, t, duration_s, size)
                     for raw, t in zip(raws, times)])


def decode_audio(path: str, duration_s: float) -> np.ndarray:
    """float32 [32000]: the centred 2 s window, zero-padded at the end."""
    raw = _run(audio_args(path, audio_window_start(duration_s)))
    pcm = np.frombuffer(raw[: len(raw) // 4 * 4], "<f4")[:WINDOW_SAMPLES]
    out = np.zeros(WINDOW_SAMPLES, np.float32)
    out[: len(pcm)] = pcm
    return out


def decode_clip(path: str) -> Tuple[np.ndarray, Optional[np.ndarray], dict]:
    """(frames [4,3,64,64], audio [32000] or None when the file has no audio stream, info)."""
    pr = probe(path)
    frames = decode_frames(path, pr.duration_s, stream_index=pr.single_video_index)
    audio = decode_audio(path, pr.duration_s) if pr.has_audio else None
    info = {
        "duration_s": pr.duration_s,
        "frame_times_s": [round(t, 6) for t in frame_times(pr.duration_s)],
        "audio_start_s": round(audio_window_start(pr.duration_s), 6),
        "has_audio": pr.has_audio,
    }
    return frames, audio, info


if __name__ == "__main__":
    import sys

    for p in sys.argv[1:]:
        f, a, info = decode_clip(p)
        print(p, info, f.shape, None if a is None else a.shape, float(f.mean()))
