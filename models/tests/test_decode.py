"""decode.py: the spec's argument lists (as test/decode/decodeSpec.test.ts and
test/fast/decodeVariants.test.ts pin the TypeScript's) and, where ffmpeg is installed, one test
clip against its committed golden decode and the contract 1.1 variants on a generated clip
(test/decode/decodeVariants.test.ts checks that decode.py and TypeScript give the same tensors)."""

from __future__ import annotations

import json
import shutil
import subprocess

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


# Contract 1.1 variants: the same lists as test/fast/decodeVariants.test.ts pins (its ALL spec).
ALL = decode.DecodeSpec(frames=1, height=32, width=48, frame_times="first", resize="squash",
                        scale_flags="bicubic", audio_window="from-start", audio_length="variable",
                        min_samples=8000)


def test_variant_filters():
    assert decode.video_filter(48, 32, "squash", "bicubic") == "scale=48:32:flags=bicubic"
    assert decode.video_filter(64, 64, "cover-center-crop", "bicubic") == (
        "scale=iw*sar:ih:flags=bicubic,setsar=1,"
        "scale=64:64:force_original_aspect_ratio=increase:flags=bicubic,crop=64:64")
    assert decode.video_filter(64, 64) == FILTER
    assert decode.DecodeSpec().filter == FILTER


def test_variant_argument_lists():
    clip = "/clips/a b.mp4"
    assert decode.frame_args(clip, None, spec=ALL) == [
        "ffmpeg", "-v", "error", "-nostdin", "-i", clip, "-frames:v", "1",
        "-vf", "scale=48:32:flags=bicubic", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    assert decode.audio_args(clip, None, ALL) == [
        "ffmpeg", "-v", "error", "-nostdin", "-i", clip, "-t", "2.000000",
        "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"]
    spec = decode.DecodeSpec(frames=2, resize="squash", scale_flags="bicubic")
    vf = "scale=64:64:flags=bicubic"
    assert decode.frame_args(clip, 4.5, spec=spec) == [
        "ffmpeg", "-v", "error", "-nostdin", "-ss", "4.500000", "-i", clip, "-frames:v", "1",
        "-vf", vf, "-pix_fmt", "rgb24", "-f", "rawvideo", "-"]
    assert decode.frames_args(clip, [1.5, 4.5], 0, ["/t/0.rgb", "/t/1.rgb"], spec=spec) == [
        "ffmpeg", "-v", "error", "-nostdin", "-ss", "1.500000", "-i", clip,
        "-ss", "4.500000", "-i", clip,
        "-map", "0:0", "-frames:v", "1", "-vf", vf, "-pix_fmt", "rgb24", "-f", "rawvideo",
        "/t/0.rgb", "-map", "1:0", "-frames:v", "1", "-vf", vf, "-pix_fmt", "rgb24",
        "-f", "rawvideo", "/t/1.rgb"]
    from_start = decode.DecodeSpec(samples=16000, audio_window="from-start")
    assert decode.audio_args(clip, None, from_start)[:8] == [
        "ffmpeg", "-v", "error", "-nostdin", "-i", clip, "-t", "1.000000"]
    assert decode.spec_frame_times(6.0, ALL) == [0.0]
    assert decode.spec_frame_times(6.0, spec) == [1.5, 4.5]
    assert decode.spec_audio_start(6.0, ALL) == 0.0
    assert decode.spec_audio_start(6.0, spec) == 2.0


@pytest.mark.parametrize("fields, words", [
    (dict(frames=4, frame_times="first"), "needs frames 1"),
    (dict(audio_window="centered", audio_length="variable", min_samples=10), "from-start"),
    (dict(audio_window="from-start", audio_length="variable"), "min_samples"),
    (dict(audio_window="from-start", audio_length="variable", min_samples=32001), "min_samples"),
    (dict(min_samples=10), "only for"),
    (dict(resize="stretch"), "resize"),
])
def test_variant_validation(fields, words):
    with pytest.raises(decode.DecodeError, match=words):
        decode.DecodeSpec(**fields)


def test_variable_audio_window_and_silence():
    spec = decode.DecodeSpec(samples=5, audio_window="from-start", audio_length="variable",
                             min_samples=2)
    raw = np.arange(1, 7, dtype="<f4").tobytes()
    assert decode.audio_window(raw[:12], spec).tolist() == [1, 2, 3]
    assert decode.audio_window(raw[:4], spec).tolist() == [1, 0]
    assert decode.audio_window(raw, spec).tolist() == [1, 2, 3, 4, 5]
    assert decode.audio_window(raw[:12], decode.DecodeSpec(samples=5)).tolist() == [1, 2, 3, 0, 0]
    assert decode.silence_samples(1.25, ALL) == 20000
    assert decode.silence_samples(0.1, ALL) == 8000
    assert decode.silence_samples(60.0, ALL) == 32000
    assert decode.silence_samples(0.1, decode.DecodeSpec()) == 32000
    nine = decode.DecodeSpec(sample_rate_hz=9, samples=100, audio_window="from-start",
                             audio_length="variable", min_samples=1)
    assert (decode.silence_samples(0.5, nine), decode.silence_samples(1.5, nine)) == (4, 14)


HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _make(tmp_path, name: str, *args: str) -> str:
    out = str(tmp_path / name)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args, out], check=True)
    return out


@pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")
def test_variants_on_generated_clips(tmp_path):
    # 4 s, 10 fps, 192x64: red | index-coded grey (level 20 + 9 N) | blue; 16 kHz audio with a
    # 440 Hz tone in the first second only.
    clip = _make(
        tmp_path, "variants.mkv", "-f", "lavfi", "-i",
        "color=c=red:s=64x64:r=10:d=4[a];color=c=black:s=64x64:r=10:d=4,format=gray,"
        "geq=lum='20+9*N',format=yuv444p[b];color=c=blue:s=64x64:r=10:d=4[c];"
        "[a][b][c]hstack=inputs=3",
        "-f", "lavfi", "-i", "aevalsrc='if(lt(t,1),0.125*sin(2*PI*440*t),0)':s=16000:d=4",
        "-c:v", "libx264", "-pix_fmt", "yuv444p", "-c:a", "pcm_s16le")
    first = decode.DecodeSpec(frames=1, frame_times="first", samples=16000,
                              audio_window="from-start")
    frames, audio, info = decode.decode_clip(clip, first)
    assert info["frame_times_s"] == [0.0] and info["audio_start_s"] == 0.0
    assert frames.shape == (1, 3, 64, 64)
    assert round((frames[0, 1].mean() * 255 - 20) / 9) == 0  # frame 0 (cover crop: the grey)
    assert audio is not None and audio.shape == (16000,)
    assert abs(np.sqrt(np.mean(audio[1000:15000] ** 2)) / (0.125 / np.sqrt(2)) - 1) < 0.02
    _, centred, info = decode.decode_clip(clip, decode.DecodeSpec(frames=1, samples=16000))
    assert info["audio_start_s"] == 1.5 and np.sqrt(np.mean(centred ** 2)) < 1e-3

    squash = decode.DecodeSpec(frames=1, frame_times="first", resize="squash")
    sq, _, _ = decode.decode_clip(clip, squash)
    assert sq[0, 0, :, 2:18].mean() > 0.8 and sq[0, 2, :, 2:18].mean() < 0.2  # red kept
    assert sq[0, 2, :, 46:62].mean() > 0.8 and sq[0, 0, :, 46:62].mean() < 0.2  # blue kept
    bicubic, _, _ = decode.decode_clip(clip, decode.DecodeSpec(
        frames=1, frame_times="first", resize="squash", scale_flags="bicubic"))
    assert not np.array_equal(bicubic, sq)

    variable = decode.DecodeSpec(samples=80000, audio_window="from-start",
                                 audio_length="variable", min_samples=1000)
    _, whole, _ = decode.decode_clip(clip, variable)
    assert whole is not None and whole.shape == (64000,)  # 4 s at 16 kHz, under the cap
    capped = decode.DecodeSpec(samples=16000, audio_window="from-start",
                               audio_length="variable", min_samples=1000)
    assert decode.decode_clip(clip, capped)[1].shape == (16000,)
    padded = decode.DecodeSpec(samples=160000, audio_window="from-start",
                               audio_length="variable", min_samples=96000)
    long_audio = decode.decode_clip(clip, padded)[1]
    assert long_audio.shape == (96000,) and not long_audio[64000:].any()

    for spec in (decode.DecodeSpec(resize="squash", scale_flags="bicubic"), squash, variable):
        one = decode.decode_clip(clip, spec)
        each = decode.decode_clip(clip, spec, one_process=False)
        assert np.array_equal(one[0], each[0]) and np.array_equal(one[1], each[1])
