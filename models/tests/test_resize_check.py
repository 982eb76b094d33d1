"""realexport.resize_check on one sample: the decoder's 448 × 448 frame vs PIL's bicubic resize
(Emotion-LLaMA's eval processor), after CLIP normalisation, and the effect on the miniature's
logits. Sanity, not thresholds: the numbers are what the README's table reports."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

pytest.importorskip("PIL")

from realexport import resize_check as rc  # noqa: E402

SAMPLE = os.path.join(rc.MODELS_DIR, "samples", "sample-consistent-happy.mp4")


def test_the_spec_is_the_exports_first_frame_squashed_bicubic() -> None:
    spec = rc.decode_spec(rc.metadata(rc.MODEL))
    assert (spec.frames, spec.height, spec.width) == (1, 448, 448)
    assert (spec.frame_times, spec.resize, spec.scale_flags) == ("first", "squash", "bicubic")
    assert spec.filter == "scale=448:448:flags=bicubic"


def test_pil_resize_is_bicubic_and_antialiased() -> None:
    # a one-pixel checkerboard downscaled 4× averages to grey (antialiasing); PIL's BICUBIC
    # without antialiasing would keep the full ±127 contrast
    board = ((np.indices((64, 64)).sum(axis=0) % 2) * 255).astype(np.uint8)
    small = rc.pil_resize(np.repeat(board[:, :, None], 3, axis=2), 16, 16)
    assert small.shape == (16, 16, 3)
    assert np.all(np.abs(small.astype(int) - 128) <= 2)


def test_one_sample_runs_and_reports_sane_numbers() -> None:
    spec = rc.decode_spec(rc.metadata(rc.MODEL))
    with tempfile.TemporaryDirectory() as work:
        mini = rc.Miniature(work)  # rebuilds the miniature, checks it against the golden
        row = rc.check_clip(SAMPLE, spec, mini)
    assert row["native"] == "128x128"
    names = list(row["frames"])
    assert names[0] == "decoder (scale=448:448:flags=bicubic)"
    assert len(names) == 1 + len(rc.VARIANTS)
    for name, e in row["frames"].items():
        # normalised values lie in about [−1.8, 2.2]: any difference is below 4.1
        assert 0 < e["mean_abs"] < e["max_abs"] < 4.1, name
        assert np.isfinite(e["logit_max_abs"]) and e["logit_max_abs"] >= 0, name
        assert 0 <= e["prob_max_abs"] <= 1, name
        assert isinstance(e["prediction_agrees"], bool), name
    # the PIL frame against itself: identical logits (a deterministic forward)
    ref = rc.chw(rc.pil_resize(rc.first_frame(SAMPLE, None, 128, 128), 448, 448))
    assert rc.normalised_diff(ref, ref) == (0.0, 0.0)
    text = rc.table([row]) + rc.summary([row])
    assert "sample-consistent-happy.mp4 (128x128)" in text


def test_cli_pixels_only(capsys) -> None:
    assert rc.main([SAMPLE, "--no-logits"]) == 0
    out = capsys.readouterr().out
    assert out.count("sample-consistent-happy.mp4 (128x128)") == 1 + len(rc.VARIANTS)
