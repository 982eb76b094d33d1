"""decode.py: the spec's argument lists (as test/unit/decodeSpec.test.ts pins the TypeScript's)
and, where ffmpeg is installed, one test clip against its committed golden decode."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from mosear import decode

from conftest import path

FILTER = ("scale=iw*sar:ih:flags=area,setsar=1,"
          "scale=64:64:force_original_aspect_ratio=increase:flags=area,crop=64:64")


def test_frame_args():
    assert decode.frame_args("/clips/a b.mp4", 0.0078125) == [
        "ffmpeg", "-v", "error", "-nostdin", "-ss", "0.007812", "-i", "/clips/a b.mp4",
        "-frames:v", "1", "-vf", FILTER, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    assert decode.frame_args("/clips/a b.mp4", 1.9, single=False) == [
        "ffmpeg", "-v", "error", "-nostdin", "-ss", "1.900000", "-i", "/clips/a b.mp4",
        "-vf", FILTER, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]


def test_audio_and_probe_args():
    assert decode.audio_args("/clips/a b.mp4", 14) == [
        "ffmpeg", "-v", "error", "-nostdin", "-ss", "14.000000", "-i", "/clips/a b.mp4",
        "-t", "2.000000", "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"]
    assert decode.probe_args("x.mp4")[:2] == ["ffprobe", "-v"]
    assert decode.streams_probe_args("x.mp4")[-1] == "x.mp4"


def test_frame_times_and_audio_window():
    assert decode.frame_times(2.0) == [0.25, 0.75, 1.25, 1.75]
    assert decode.audio_window_start(1.0) == 0.0
    assert decode.audio_window_start(6.0) == 2.0


@pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                    reason="ffmpeg is not installed")
def test_one_clip_matches_its_golden_decode():
    with open(path("samples", "golden-decodes", "index.json")) as f:
        clip = json.load(f)["clips"][0]
    frames, audio, info = decode.decode_clip(path("data", "ca-mer-synth", "test",
                                                  clip["test_file"]))
    base = path("samples", "golden-decodes", "")
    want_f = np.fromfile(base + clip["frames"], "<f4").reshape(frames.shape)
    want_a = np.fromfile(base + clip["audio"], "<f4")
    assert info["frame_times_s"] == clip["frame_times_s"]
    assert np.abs(frames - want_f).max() <= 1 / 255
    assert audio is not None and np.abs(audio - want_a).max() <= 1e-4


def test_frames_args_open_the_clip_once_per_frame_time():
    args = decode.frames_args("/clips/a b.mp4", [0.25, 1.75], 0, ["/t/0.rgb", "/t/1.rgb"])
    assert args[:12] == ["ffmpeg", "-v", "error", "-nostdin", "-ss", "0.250000", "-i",
                         "/clips/a b.mp4", "-ss", "1.750000", "-i", "/clips/a b.mp4"]
    assert args[12:16] == ["-map", "0:0", "-frames:v", "1"]
    assert args[-11:] == ["-map", "1:0", "-frames:v", "1", "-vf", FILTER, "-pix_fmt", "rgb24",
                          "-f", "rawvideo", "/t/1.rgb"]


@pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
                    reason="ffmpeg is not installed")
def test_one_process_equals_one_process_per_frame():
    with open(path("samples", "golden-decodes", "index.json")) as f:
        clips = json.load(f)["clips"]
    for clip in clips:
        file = path("data", "ca-mer-synth", "test", clip["test_file"])
        pr = decode.probe(file)
        assert pr.single_video_index == 0
        one = decode.decode_frames(file, pr.duration_s, stream_index=pr.single_video_index)
        each = decode.decode_frames(file, pr.duration_s)
        assert np.array_equal(one, each)
