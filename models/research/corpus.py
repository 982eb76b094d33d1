"""CA-MER-synth: procedurally rendered audio-visual emotion clips with emotion conflicts.

Each clip has a visual emotion/intensity (e_v, a_v) carried by a face-like figure's expression
and an audio emotion/intensity (e_a, a_a) carried by a voice-like signal's prosody. Subsets:

* ``consistent``     e_v = e_a = label, a_v and a_a ~ U[0.2, 1] independently;
* ``video-aligned``  label = e_v, a_v ~ U[0.7, 1]; e_a != e_v uniform, a_a ~ U[0.15, 0.4];
* ``audio-aligned``  the mirror image.

The truthful modality of a conflict is the strongly expressed one. For ``neutral``, intensity
means clarity: the rest pose/voice plus a perturbation towards a random emotion of size
NEUTRAL_AMBIGUITY * (1 - a).

The visual cue is deliberately diffuse and noisy (blurred clutter, occluders, lighting changes,
blinks, head drift, sensor noise, a late expression onset) and the audio cue dense and clean, so
audio is the more reliable modality on average, as in real data.

Rendering is vectorised numpy. Edges use signed-distance soft coverage (one pixel wide at
128 px), which anti-aliases analytically instead of supersampling; the on-the-fly training path
renders the same scene at 128 px and 2x2-averages to 64 px, which is what the decode spec's
area scale does to the 128 px mp4. Frames at the decode times (i + 0.5) * 2.0 / 4 are source
frames 3, 8, 13, 18 (see decode.py for the measured seek semantics). Occluder, lighting and sensor
noise are applied after the 2x2 average on that path, with the noise scaled by TRAIN_NOISE_FACTOR:
x264 at CRF 30 keeps only ~15% of the per-pixel noise (regression of decoded-minus-clean on the
rendered noise). Measured on 45 test-split clips: mean |on-the-fly - decoded| = 0.024 per frame
value (~6/255), of which ~0.012 and a -1.3/255 bias come from the RGB -> yuv420p -> RGB round trip
alone (lossless encode); audio log-spectrum below 5 kHz differs by ~3.5 dB (AAC at 24 kbit/s).

Calibration (small CNNs trained on 12,000 on-the-fly consistent clips, tested on decoded-style
tensors of each subset): visual-only 69% consistent / 85% video-aligned; audio-only 91-95%
consistent / 98-99% audio-aligned.

Speed: `batch` renders ~200-230 clips/s on one core (batch 32-64, OPENBLAS_NUM_THREADS=1).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

GENERATOR_VERSION = "ca-mer-synth-1"

LABELS = ["neutral", "angry", "happy", "sad", "worried", "surprise"]
SUBSETS = ["consistent", "video-aligned", "audio-aligned"]
NUM_CLASSES = len(LABELS)

FPS = 10
NUM_SOURCE_FRAMES = 20
CLIP_SECONDS = 2.0
SIZE = 128
MODEL_SIZE = 64
SAMPLE_RATE_HZ = 16000
NUM_SAMPLES = 32000
NUM_MODEL_FRAMES = 4
# First frame with pts >= (i + 0.5) * 2.0 / 4 (decode.py): 0.25 -> 3, 0.75 -> 8, ...
DECODED_FRAME_INDEX = [int(np.ceil((i + 0.5) * CLIP_SECONDS / NUM_MODEL_FRAMES * FPS - 1e-9))
                       for i in range(NUM_MODEL_FRAMES)]

STRONG_RANGE = (0.7, 1.0)
WEAK_RANGE = (0.15, 0.4)
CONSISTENT_RANGE = (0.2, 1.0)
NEUTRAL_AMBIGUITY = 0.3
# Expression strength = intensity ** gamma (audio is a little more legible at low intensity).
VISUAL_GAMMA = 1.25
AUDIO_GAMMA = 0.75

# ---------------------------------------------------------------- visual expression space
# brow_raise px, brow_tilt rad (+ = inner ends up), eye_open x, mouth_curve px (+ = smile),
# mouth_open px, mouth_width x, mouth_wave px   (all at 128 px, before the face scale)
_VIS_REST = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0], np.float32)
_VIS_DELTA = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],        # neutral
    # angry: brows down-in, narrowed eyes, tight flat-down mouth
    [-3.5, -0.5, -0.35, -1.5, 0.0, -0.25, 0.0],
    [1.0, 0.0, -0.25, 6.0, 3.0, 0.3, 0.0],      # happy: big smile, slight squint
    [0.5, 0.45, -0.35, -5.0, 0.0, -0.1, 0.0],    # sad: brows up-in, droopy eyes, mouth down
    [3.5, 0.3, 0.2, -1.5, 2.5, -0.1, 1.8],      # worried: brows up, slightly open wavy mouth
    [7.0, 0.0, 0.6, 0.0, 8.0, -0.4, 0.0],       # surprise: brows high, eyes wide, round open mouth
], np.float32)

_VIS_PERSON_SD = np.array([0.6, 0.06, 0.06, 0.8, 0.4, 0.04, 0.2], np.float32)

# ---------------------------------------------------------------- prosody space
# shift st, range st, rate syll/s, energy dB, tilt, attack k (<1 abrupt), breath, tremor st,
# jitter st, pause prob
_AUD_REST = np.array([0.0, 1.0, 4.0, 0.0, 1.3, 1.0, 0.08, 0.0, 0.1, 0.05], np.float32)
_AUD_DELTA = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],        # neutral
    [3.0, 2.0, 1.8, 8.0, -0.7, -0.55, -0.04, 0.0, 0.1, -0.05],  # angry
    [5.0, 5.0, 1.0, 4.0, -0.5, -0.2, 0.0, 0.0, 0.0, -0.05],     # happy
    [-4.0, -0.7, -1.7, -9.0, 0.8, 0.6, 0.2, 0.0, 0.0, 0.05],   # sad
    [2.5, 0.5, -0.8, -3.0, 0.1, 0.2, 0.15, 0.9, 0.5, 0.3],     # worried
    [6.0, 7.0, 0.0, 5.0, -0.4, -0.3, 0.05, 0.0, 0.0, 0.0],     # surprise (+ rising contour)
], np.float32)
_K_HARM = 12

# Share of the 2x2-averaged sensor noise that the training path keeps (x264 at the corpus CRF
# removes most fine-grained noise; measured by make_splits.py's compare step).
TRAIN_NOISE_FACTOR = 0.15
_NOISE_BANK_FRAMES = 24
_NOISE_PAD = 32
_bank_cache: Dict[str, np.ndarray] = {}


def _video_noise_bank() -> np.ndarray:
    if "video" not in _bank_cache:
        r = np.random.default_rng(12345)
        _bank_cache["video"] = r.standard_normal(
            (_NOISE_BANK_FRAMES, SIZE + _NOISE_PAD, SIZE + _NOISE_PAD, 3), np.float32)
    return _bank_cache["video"]


def _video_noise_bank_half(py: int, px: int) -> np.ndarray:
    key = f"video-half-{py}{px}"
    if key not in _bank_cache:
        b = _video_noise_bank()[:, py:py + SIZE + _NOISE_PAD - 2, px:px + SIZE + _NOISE_PAD - 2]
        _bank_cache[key] = np.ascontiguousarray(_half(b))
    return _bank_cache[key]


def _audio_noise_bank() -> Tuple[np.ndarray, np.ndarray]:
    if "white" not in _bank_cache:
        r = np.random.default_rng(54321)
        n = 5 * NUM_SAMPLES
        white = r.standard_normal(n).astype(np.float32)
        # pink-ish background: 1/sqrt(f) spectrum
        spec = np.fft.rfft(r.standard_normal(n))
        f = np.arange(spec.size, dtype=np.float64)
        f[0] = 1.0
        pink = np.fft.irfft(spec / np.sqrt(f), n)
        pink = (pink / pink.std()).astype(np.float32)
        _bank_cache["white"], _bank_cache["pink"] = white, pink
    return _bank_cache["white"], _bank_cache["pink"]


# ---------------------------------------------------------------- parameters
def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def sample_clip_params(rng: np.random.Generator, subset: str, label: Optional[int] = None) -> dict:
    """All parameters of one clip (JSON-serialisable). Deterministic given the generator state."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown subset {subset!r}")
    lab = int(rng.integers(NUM_CLASSES)) if label is None else int(label)
    if subset == "consistent":
        e_v = e_a = lab
        a_v, a_a = _u(rng, *CONSISTENT_RANGE), _u(rng, *CONSISTENT_RANGE)
    else:
        other = int(rng.integers(NUM_CLASSES - 1))
        other += other >= lab
        strong, weak = _u(rng, *STRONG_RANGE), _u(rng, *WEAK_RANGE)
        if subset == "video-aligned":
            e_v, a_v, e_a, a_a = lab, strong, other, weak
        else:
            e_v, a_v, e_a, a_a = other, weak, lab, strong
    p: dict = {
        "generator": GENERATOR_VERSION, "label": LABELS[lab], "label_index": lab, "subset": subset,
        "e_v": LABELS[e_v], "a_v": round(a_v, 4), "e_a": LABELS[e_a], "a_a": round(a_a, 4),
        "v_amb_dir": int(rng.integers(1, NUM_CLASSES)),
        "a_amb_dir": int(rng.integers(1, NUM_CLASSES)),
    }
    F = NUM_SOURCE_FRAMES
    # face and scene nuisance
    sc = _u(rng, 0.85, 1.1)
    p.update({
        "cx": 64 + _u(rng, -5, 5), "cy": 66 + _u(rng, -5, 5), "scale": sc,
        "aspect": _u(rng, 0.9, 1.1),
        "skin": _u(rng, 0, 1), "skin_hue": _u(rng, -0.06, 0.06),
        "hair": [_u(rng, 0.03, 0.55), 0.0, 0.0],  # value; tinted below
        "eye_sep": _u(rng, 0.9, 1.1), "mouth_y": _u(rng, -2, 2),
        "iris": [_u(rng, 0.05, 0.35) for _ in range(3)],
        "lip": [_u(rng, 0.45, 0.75), _u(rng, 0.15, 0.35), _u(rng, 0.15, 0.35)],
        "onset_s": _u(rng, 0.0, 0.8), "ramp_s": _u(rng, 0.15, 0.7),
        "bg_grid": rng.uniform(0.05, 0.95, (5, 5, 3)).round(4).tolist(),
        "bg_blobs": [[_u(rng, 0, 128), _u(rng, 0, 128), _u(rng, 6, 28), _u(rng, 6, 28),
                      _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0, 1)] for _ in range(8)],
        "sharp_rects": [[_u(rng, 0, 128), _u(rng, 0, 128), _u(rng, 4, 30), _u(rng, 4, 30),
                         _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0, 1)] for _ in range(3)],
        "occluder": int(rng.random() < 0.45),
        "occ": [_u(rng, 20, 108), _u(rng, 25, 110), _u(rng, 20, 108), _u(rng, 25, 110),
                _u(rng, 6, 20), _u(rng, 5, 16), _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0, 1)],
        "light": _u(rng, 0.65, 1.2), "cast": [_u(rng, 0.85, 1.15) for _ in range(3)],
        "shade": [_u(rng, -0.35, 0.35), _u(rng, -0.35, 0.35)],
        "noise_sigma": _u(rng, 0.03, 0.09),
        "blink": int(rng.integers(-8, F)),  # < 0: no blink
    })
    # hair colour: value, then a warm/grey tint
    hv = p["hair"][0]
    tint = _u(rng, 0, 1)
    p["hair"] = [hv * (1.0 + 0.5 * tint), hv * (1.0 + 0.2 * tint), hv]
    p["drift"] = np.cumsum(rng.normal(0, 0.7, (F, 2)), axis=0).round(3).tolist()
    p["flicker"] = rng.normal(0, 0.05, F).round(4).tolist()
    p["noise_idx"] = rng.integers(0, _NOISE_BANK_FRAMES, F).tolist()
    p["noise_off"] = rng.integers(0, _NOISE_PAD, (F, 2)).tolist()
    p["expr_wobble"] = rng.normal(0, 0.08, F).round(4).tolist()
    # idiosyncratic resting face (some people's brows sit high, mouths turn down, ...)
    p["face_rest"] = (rng.standard_normal(_VIS_REST.size) * _VIS_PERSON_SD).round(4).tolist()
    # voice nuisance
    p.update({
        "f0_base": float(np.exp(rng.uniform(np.log(95), np.log(240)))),
        "formants": [_u(rng, 450, 800), _u(rng, 1100, 2100), _u(rng, 2300, 3200)],
        "level_db": _u(rng, -3, 3), "rate_mul": _u(rng, 0.85, 1.15), "tilt_off": _u(rng, -0.2, 0.2),
        "syll_phase": _u(rng, 0, 1), "contour_phase": _u(rng, 0, 2 * np.pi),
        "tremor_hz": _u(rng, 5, 7.5), "voice_onset_s": _u(rng, 0.0, 0.15),
        "syll_amp": rng.uniform(0.6, 1.0, 16).round(3).tolist(),
        "syll_pause": rng.random(16).round(3).tolist(),
        "jitter_seed": int(rng.integers(0, 2**31 - 1)),
        "bg_noise": float(np.exp(rng.uniform(np.log(0.003), np.log(0.02)))),
        "noise_start": int(rng.integers(0, 3 * NUM_SAMPLES)),
    })
    return p


def _weights(e: Sequence[int], a: np.ndarray, amb: Sequence[int], gamma: float) -> np.ndarray:
    """Per-clip expression weights over the 6 emotion directions."""
    n = len(e)
    w = np.zeros((n, NUM_CLASSES), np.float32)
    e = np.asarray(e)
    for i in range(n):
        if e[i] == 0:
            w[i, amb[i]] = NEUTRAL_AMBIGUITY * (1.0 - a[i])
        else:
            w[i, e[i]] = a[i] ** gamma
    return w


def _stack(params: Sequence[dict], keys: Sequence[str]) -> Dict[str, np.ndarray]:
    return {k: np.asarray([p[k] for p in params], np.float32) for k in keys}


# ---------------------------------------------------------------- video
def _soft(d: np.ndarray) -> np.ndarray:
    """Coverage from a signed distance in pixels (negative inside): a 1 px anti-aliased edge."""
    return np.clip(0.5 - d, 0.0, 1.0)


_CHECK_DTYPES = False


def _blend(img: np.ndarray, alpha: np.ndarray, color: np.ndarray) -> None:
    """img[..., c] += alpha * (color - img) in place; alpha [..., h, w], color broadcastable to
    img."""
    if _CHECK_DTYPES and (alpha.dtype != np.float32 or np.asarray(color).dtype != np.float32):
        raise TypeError(f"float64 leak: alpha {alpha.dtype}, color {np.asarray(color).dtype}")
    img += alpha[..., None] * (color - img)


def _composite(img: np.ndarray, layers: Sequence[Tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Paint constant-colour layers over `img` [N, F, h, w, 3] in order ("over" compositing).

    Each layer is (alpha [N, F, h, w] or broadcastable, colour [N, 3]). Computes the per-layer
    weights in one channel and mixes colours with one small matrix product, which is several
    times faster than blending layer by layer in three channels."""
    n, F, h, w, _ = img.shape
    trans = np.ones((n, F, h, w), np.float32)
    weights = np.empty((n, F, h, w, len(layers)), np.float32)
    for k in range(len(layers) - 1, -1, -1):
        a = np.broadcast_to(layers[k][0], (n, F, h, w))
        weights[..., k] = a * trans
        trans *= 1.0 - a
    cols = np.stack([np.asarray(c, np.float32).reshape(n, 3) for _, c in layers], axis=1)  # [N,L,3]
    out = np.matmul(weights.reshape(n, F * h * w, len(layers)), cols).reshape(n, F, h, w, 3)
    out += img * trans[..., None]
    return out


def _upsample_matrix(n_in: int, n_out: int) -> np.ndarray:
    x = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    x = np.clip(x, 0, n_in - 1)
    i0 = np.floor(x).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    f = x - i0
    m = np.zeros((n_out, n_in), np.float32)
    m[np.arange(n_out), i0] += 1 - f
    m[np.arange(n_out), i1] += f
    return m


_UP5_32 = _upsample_matrix(5, 32)
_UP32 = _upsample_matrix(32, SIZE)
_UP_JITTER = _upsample_matrix(64, NUM_SAMPLES)


def _render_background(params: Sequence[dict]) -> np.ndarray:
    """Static per-clip background [N, 128, 128, 3]: a blurred colour field with blurry blobs plus a
    few sharp rectangles."""
    grid = np.asarray([p["bg_grid"] for p in params], np.float32)            # [N,5,5,3]
    low = np.einsum("yi,nijc,xj->nyxc", _UP5_32, grid, _UP5_32, optimize=True)  # [N,32,32,3]
    blobs = np.asarray([p["bg_blobs"] for p in params], np.float32)         # [N,B,7]
    c = (np.arange(32, dtype=np.float32) + 0.5) * 4.0
    for b in range(blobs.shape[1]):
        bx, by, rx, ry = (blobs[:, b, k][:, None, None] for k in range(4))
        q = ((c[None, None, :] - bx) / rx) ** 2 + ((c[None, :, None] - by) / ry) ** 2
        al = np.clip((1.0 - np.sqrt(q)) * 3.0, 0, 1)
        _blend(low, al, blobs[:, b, None, None, 4:7])
    img = np.einsum("yi,nijc,xj->nyxc", _UP32, low, _UP32, optimize=True)
    rects = np.asarray([p["sharp_rects"] for p in params], np.float32)
    pc = np.arange(SIZE, dtype=np.float32) + 0.5
    for b in range(rects.shape[1]):
        x0, y0, w, h = (rects[:, b, k][:, None] for k in range(4))
        ax = _soft(np.abs(pc[None] - x0) - w)[:, None, :]
        ay = _soft(np.abs(pc[None] - y0) - h)[:, :, None]
        _blend(img, ax * ay, rects[:, b, None, None, 4:7])
    return img.astype(np.float32)


_SKIN_DARK = np.array([0.33, 0.2, 0.13], np.float32)
_SKIN_LIGHT = np.array([0.96, 0.8, 0.68], np.float32)
FACE_W, FACE_H = 88, 104          # face patch (head + hair), centred on the head centre
FEAT_X0, FEAT_X1 = 14, 74         # feature sub-window columns inside the face patch
FEAT_Y0, FEAT_Y1 = 18, 90         # rows


def _expression_tracks(params: Sequence[dict], frame_idx: Sequence[int]) -> np.ndarray:
    """Visual expression parameters per clip and frame [N, F, 7]."""
    e = [LABELS.index(p["e_v"]) for p in params]
    a = np.asarray([p["a_v"] for p in params], np.float32)
    w = _weights(e, a, [p["v_amb_dir"] for p in params], VISUAL_GAMMA)       # [N,6]
    t = (np.asarray(frame_idx, np.float32) / FPS)[None, :]                     # [1,F]
    onset = np.asarray([p["onset_s"] for p in params], np.float32)[:, None]
    ramp = np.asarray([p["ramp_s"] for p in params], np.float32)[:, None]
    s = np.clip((t - onset) / ramp, 0, 1)
    s = s * s * (3 - 2 * s)
    wob = np.asarray([p["expr_wobble"] for p in params], np.float32)[:, frame_idx]
    s = np.clip(s + wob, 0, 1.15)
    delta = w @ _VIS_DELTA                                                     # [N,7]
    rest = _VIS_REST[None] + np.asarray([p["face_rest"] for p in params], np.float32)
    ex = rest[:, None, :] + s[..., None] * delta[:, None, :]
    ex[..., 4] = np.maximum(ex[..., 4], 0.0)                                  # mouth opening
    ex[..., 2] = np.maximum(ex[..., 2], 0.2)                                  # eye opening
    return ex


def _render_scene(params: Sequence[dict], frame_idx: Sequence[int]) -> np.ndarray:
    """Background and face of frames `frame_idx` at 128 px: float32 [N, F, 128, 128, 3]."""
    n, F = len(params), len(frame_idx)
    fi = np.asarray(frame_idx)
    bg = _render_background(params)
    img = np.repeat(bg[:, None], F, axis=1)                                    # [N,F,H,W,3]
    P = _stack(params, ["cx", "cy", "scale", "aspect", "skin", "skin_hue", "eye_sep", "mouth_y",
                        "blink"])
    drift = np.asarray([p["drift"] for p in params], np.float32)[:, fi]      # [N,F,2]
    cx = P["cx"][:, None] + drift[..., 0]
    cy = P["cy"][:, None] + drift[..., 1]
    sc = P["scale"][:, None, None, None]
    ex = _expression_tracks(params, frame_idx)                                 # [N,F,7]
    blink = P["blink"][:, None]
    bdist = np.abs(fi[None, :] - blink)
    blink_f = np.where(blink < 0, 1.0, np.where(bdist == 0, 0.08, np.where(bdist == 1, 0.6, 1.0)))
    blink_f = blink_f.astype(np.float32)

    # face patch: integer origin so features are plain slices of it
    ox = np.clip(np.round(cx).astype(int) - FACE_W // 2, 0, SIZE - FACE_W)
    oy = np.clip(np.round(cy).astype(int) - FACE_H // 2, 0, SIZE - FACE_H)
    Yi = (oy[..., None, None] + np.arange(FACE_H)[None, None, :, None])
    Xi = (ox[..., None, None] + np.arange(FACE_W)[None, None, None, :])
    patch = np.empty((n, F, FACE_H, FACE_W, 3), np.float32)                   # [N,F,h,w,3]
    for i in range(n):
        for j in range(F):
            patch[i, j] = img[i, j, oy[i, j]:oy[i, j] + FACE_H, ox[i, j]:ox[i, j] + FACE_W]
    X = Xi.astype(np.float32) + 0.5 - cx[..., None, None]                    # relative coords
    Y = Yi.astype(np.float32) + 0.5 - cy[..., None, None]

    skin = _SKIN_DARK + P["skin"][:, None] * (_SKIN_LIGHT - _SKIN_DARK)
    skin = skin * (1 + np.stack([P["skin_hue"], 0 * P["skin_hue"], -P["skin_hue"]], 1))
    skin = skin[:, None, None, None, :]                                        # [N,1,1,1,3]
    hair = np.asarray([p["hair"] for p in params], np.float32)[:, None, None, None, :]
    rx = 29.0 * sc * P["aspect"][:, None, None, None]
    ry = 37.0 * sc
    skin_c = skin.reshape(n, 3)
    hair_c = hair.reshape(n, 3)
    # hair behind the head, head, fringe of hair over the forehead
    q = (X / (rx * 1.12)) ** 2 + ((Y + 0.22 * ry) / ry) ** 2
    hair_a = _soft((np.sqrt(q) - 1.0) * ry)
    q = (X / rx) ** 2 + (Y / ry) ** 2
    head_a = _soft((np.sqrt(q) - 1.0) * np.sqrt(rx * ry))
    qf = (X / (rx * 0.95)) ** 2 + ((Y + 0.95 * ry) / (ry * 0.42)) ** 2
    fringe_a = _soft((np.sqrt(qf) - 1.0) * 8.0) * head_a
    rim = 1.0 - 0.12 * np.clip(q, 0, 1) * (head_a - fringe_a)                 # rim darkening
    patch = _composite(patch, [(hair_a, hair_c), (head_a, skin_c), (fringe_a, hair_c)])
    patch *= rim[..., None]

    # ---- feature window (plain slice of the face patch): eyes, brows, nose, mouth
    Xf = X[..., :, FEAT_X0:FEAT_X1]
    Yf = Y[..., FEAT_Y0:FEAT_Y1, :]
    AX = np.abs(Xf)                                                            # mirrored x
    e4 = ex[:, :, None, None, :]                                               # [N,F,1,1,7]
    brow_raise, brow_tilt, eye_open = e4[..., 0], e4[..., 1], e4[..., 2]
    m_curve, m_open, m_width, m_wave = e4[..., 3], e4[..., 4], e4[..., 5], e4[..., 6]
    exs = 11.5 * sc * P["eye_sep"][:, None, None, None]
    eys = -7.0 * sc
    # eyes: sclera, iris/pupil, eyelid line
    erx = 6.0 * sc
    ery = np.maximum(3.2 * sc * eye_open * blink_f[..., None, None], 0.15)
    q = ((AX - exs) / erx) ** 2 + ((Yf - eys) / ery) ** 2
    rq = np.sqrt(q) - 1.0
    sclera = _soft(rq * np.sqrt(erx * ery))
    dp = np.sqrt((AX - exs) ** 2 + (Yf - eys) ** 2) - 2.4 * sc
    iris_a = np.minimum(_soft(dp), sclera)
    lid_a = _soft(np.abs(rq) * np.sqrt(erx * ery) - 0.5) * (0.7 * (q < 1.6))
    iris = np.asarray([p["iris"] for p in params], np.float32)
    # brows: capsules in mirrored coordinates, inner end (small |x|) up when tilt > 0
    bl = 6.5 * sc
    bx = exs
    by = eys - 6.5 * sc - brow_raise * sc
    ct, st = np.cos(brow_tilt), np.sin(brow_tilt)
    tt = np.clip(((AX - bx) * ct + (Yf - by) * st) / bl, -1.0, 1.0)
    dx = AX - (bx + tt * bl * ct)
    dy = Yf - (by + tt * bl * st)
    brow_a = _soft(np.sqrt(dx * dx + dy * dy) - 1.7 * sc)
    # nose
    qn = (Xf / (2.6 * sc)) ** 2 + ((Yf - 5.0 * sc) / (4.5 * sc)) ** 2
    nose_a = _soft((np.sqrt(qn) - 1.0) * 2.6 * sc) * 0.5
    # mouth: symmetric lens around a curved centre line, computed per column
    hw = 10.5 * sc * m_width
    my = (17.0 + P["mouth_y"][:, None, None, None]) * sc
    s = np.minimum(AX / hw, 1.0)
    yc = my + m_curve * (0.4 - s * s) + m_wave * np.cos(2.5 * np.pi * s)
    root = np.sqrt(np.maximum(1.0 - s * s, 0.0))
    h_out = 1.3 * sc + 0.5 * m_open * root
    h_in = 0.5 * m_open * root - 1.0
    dyc = np.abs(Yf - yc)
    edge = AX - hw
    lip_a = _soft(np.maximum(dyc - h_out, edge))
    inner_a = _soft(np.maximum(dyc - h_in, edge + 1.5))
    lip = np.asarray([p["lip"] for p in params], np.float32)
    white = np.full((n, 3), 0.93, np.float32)
    dark = np.full((n, 3), 0.08, np.float32)
    fp = patch[:, :, FEAT_Y0:FEAT_Y1, FEAT_X0:FEAT_X1]
    patch[:, :, FEAT_Y0:FEAT_Y1, FEAT_X0:FEAT_X1] = _composite(fp, [
        (sclera, white), (iris_a, iris), (lid_a, skin_c * 0.45), (brow_a, hair_c * 0.6),
        (nose_a, skin_c * 0.72), (lip_a, lip * skin_c * 1.2), (inner_a, dark)])
    for i in range(n):
        for j in range(F):
            img[i, j, oy[i, j]:oy[i, j] + FACE_H, ox[i, j]:ox[i, j] + FACE_W] = patch[i, j]
    return img

    return img


def _half(img: np.ndarray) -> np.ndarray:
    """2x2 box average of [..., H, W, 3] (what the decode spec's area scale does for 128 -> 64)."""
    return 0.25 * ((img[..., 0::2, 0::2, :] + img[..., 1::2, 0::2, :])
                   + (img[..., 0::2, 1::2, :] + img[..., 1::2, 1::2, :]))


def _post(img: np.ndarray, params: Sequence[dict], fi: np.ndarray) -> np.ndarray:
    """Occluder, lighting, sensor noise and clipping, in place, at the resolution of `img`
    (128 for files, 64 for the training path; coordinates stay in 128 px units)."""
    res = img.shape[-2]
    px = np.float32(SIZE / res)                       # 128-px units per pixel
    pc = (np.arange(res, dtype=np.float32) + 0.5) * px
    # occluder: a moving soft rectangle over part of the frame
    occ = np.asarray([p["occ"] for p in params], np.float32)                 # [N,9]
    has = np.asarray([p["occluder"] for p in params], bool)
    u = (fi.astype(np.float32) / np.float32(NUM_SOURCE_FRAMES - 1))[None, :]
    ocx = occ[:, 0:1] + u * (occ[:, 2:3] - occ[:, 0:1])
    ocy = occ[:, 1:2] + u * (occ[:, 3:4] - occ[:, 1:2])
    for i in np.flatnonzero(has):
        oa = (_soft((np.abs(pc - ocx[i, :, None]) - occ[i, 4]) / px)[:, None, :]
              * _soft((np.abs(pc - ocy[i, :, None]) - occ[i, 5]) / px)[:, :, None])
        _blend(img[i], oa, occ[i, 6:9])
    # lighting: per-frame gain with flicker, colour cast, linear shading gradient
    flick = np.asarray([p["flicker"] for p in params], np.float32)[:, fi]
    light = np.asarray([p["light"] for p in params], np.float32)
    gain = (light[:, None] * (1.0 + flick))[..., None, None, None]
    cast = np.asarray([p["cast"] for p in params], np.float32)[:, None, None, None, :]
    sh = np.asarray([p["shade"] for p in params], np.float32)
    gx = (1.0 + sh[:, 0, None] * (pc - 64.0) / 64.0)[:, None, None, :, None]
    gy = (1.0 + sh[:, 1, None] * (pc - 64.0) / 64.0)[:, None, :, None, None]
    img *= (gain * cast) * gx
    img *= gy
    # sensor noise from a fixed bank (fast, deterministic); at 64 px the training path gets the
    # noise that survives 2x2 averaging and the codec (TRAIN_NOISE_FACTOR)
    full = res == SIZE
    scale = np.float32(1.0 if full else TRAIN_NOISE_FACTOR)
    for i, p in enumerate(params):
        sig = np.float32(p["noise_sigma"]) * scale
        for j, f in enumerate(fi):
            k = p["noise_idx"][f]
            oy_, ox_ = p["noise_off"][f]
            if full:
                img[i, j] += sig * _video_noise_bank()[k, oy_:oy_ + SIZE, ox_:ox_ + SIZE]
            else:  # the 2x2 average of exactly the noise the 128 px frame gets
                h = _video_noise_bank_half(oy_ % 2, ox_ % 2)
                img[i, j] += sig * h[k, oy_ // 2:oy_ // 2 + res, ox_ // 2:ox_ // 2 + res]
    np.clip(img, 0.0, 1.0, out=img)
    return img


def render_frames(params: Sequence[dict], frame_idx: Sequence[int]) -> np.ndarray:
    """Source frames `frame_idx` of each clip as written to files: float32 [N, F, 128, 128, 3]."""
    fi = np.asarray(frame_idx)
    return _post(_render_scene(params, frame_idx), params, fi)


def render_video(params: dict) -> np.ndarray:
    """All 20 source frames of one clip: uint8 [20, 128, 128, 3]."""
    fr = render_frames([params], list(range(NUM_SOURCE_FRAMES)))[0]
    return np.round(fr * 255.0).astype(np.uint8)


def _to_chw(fr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(fr.transpose(0, 1, 4, 2, 3), dtype=np.float32)


def render_model_frames(params: Sequence[dict]) -> np.ndarray:
    """Fast training path: the decoded frames' scene at 128 px, 2x2-averaged, then occluder,
    lighting and (reduced) noise at 64 px: float32 [N, 4, 3, 64, 64]."""
    fi = np.asarray(DECODED_FRAME_INDEX)
    img = _half(_render_scene(params, DECODED_FRAME_INDEX))
    return _to_chw(_post(img, params, fi))


# ---------------------------------------------------------------- audio
def render_audio_batch(params: Sequence[dict]) -> np.ndarray:
    """float32 [N, 32000] in [-1, 1] at 16 kHz."""
    n = len(params)
    e = [LABELS.index(p["e_a"]) for p in params]
    a = np.asarray([p["a_a"] for p in params], np.float32)
    w = _weights(e, a, [p["a_amb_dir"] for p in params], AUDIO_GAMMA)          # [N,6]
    pr = _AUD_REST[None] + w @ _AUD_DELTA                                      # [N,10]
    shift, rng_st, rate, energy, tilt, attack, breath, tremor, jitter, pause = pr.T
    P = _stack(params, ["f0_base", "level_db", "rate_mul", "tilt_off", "syll_phase",
                        "contour_phase", "tremor_hz", "voice_onset_s", "bg_noise"])
    t = (np.arange(NUM_SAMPLES, dtype=np.float32) / SAMPLE_RATE_HZ)[None]    # [1,S]
    tau = t / CLIP_SECONDS
    # contour: weights of the emotion-specific shapes (neutral shape keeps the rest weight)
    w_n = np.clip(1.0 - w[:, 1:].sum(1), 0.0, 1.0)[:, None]
    syl = (rate * P["rate_mul"])[:, None] * t + P["syll_phase"][:, None]       # syllable count
    frac = syl - np.floor(syl)
    ph = P["contour_phase"][:, None]
    shapes = (w_n * (-(tau - 0.5) + 0.3 * np.sin(2 * np.pi * 0.8 * t + ph))  # neutral: declination
              + w[:, 1:2] * (1.0 - 2.0 * frac)  # angry: falling accents
              + w[:, 2:3] * np.sin(2 * np.pi * 1.6 * t + ph)  # happy: wide up-down
              + w[:, 3:4] * (0.5 - tau)  # sad: slow fall
              + w[:, 4:5] * 0.4 * np.sin(2 * np.pi * 0.7 * t + ph)  # worried
              + w[:, 5:6] * (2.0 * tau ** 1.5 - 0.6))  # surprise: strong rise
    jit = np.stack([np.random.default_rng(int(p["jitter_seed"])).standard_normal(64)
                    for p in params])
    jit = jit.astype(np.float32) @ _UP_JITTER.T
    st = (shift[:, None] + rng_st[:, None] * 0.5 * shapes
          + tremor[:, None] * np.sin(2 * np.pi * P["tremor_hz"][:, None] * t)
          + jitter[:, None] * jit)
    f0 = P["f0_base"][:, None] * np.exp2(st / 12.0)                            # [N,S]
    f0 *= np.float32(1.0 / SAMPLE_RATE_HZ)                                     # cycles per sample
    theta = np.cumsum(f0, axis=1, dtype=np.float32)
    theta -= np.floor(theta)
    theta *= np.float32(2 * np.pi)
    s1 = np.sin(theta)
    c2 = 2.0 * np.cos(theta)
    # harmonic amplitudes: spectral tilt and speaker formants at the mean f0
    f0m = f0.mean(1) * SAMPLE_RATE_HZ
    k = np.arange(1, _K_HARM + 1, dtype=np.float32)[None]
    fk = k * f0m[:, None]
    form = np.asarray([p["formants"] for p in params], np.float32)
    env_f = 0.3 + sum(np.exp(-((fk - form[:, j:j + 1]) / (120.0 + 60 * j)) ** 2) for j in range(3))
    amp = k ** (-(tilt + P["tilt_off"])[:, None]) * env_f * (fk < 7000)
    sig = amp[:, 0:1] * s1
    s_prev, s_cur = np.zeros_like(s1), s1
    for h in range(1, _K_HARM):
        s_prev, s_cur = s_cur, c2 * s_cur - s_prev
        sig += amp[:, h:h + 1] * s_cur
    sig /= np.sqrt((amp ** 2).sum(1) / 2.0)[:, None]
    # syllable envelope: attack exponent k < 1 peaks early (abrupt), > 1 late (slow)
    fr_k = frac ** np.clip(attack, 0.3, 2.0)[:, None]
    env = np.sin(np.pi * fr_k) ** 2
    si = (syl - frac).astype(np.int32) & 15
    samp = np.asarray([p["syll_amp"] for p in params], np.float32)
    spause = np.asarray([p["syll_pause"] for p in params], np.float32)
    rows = np.arange(n)[:, None]
    sy_amp = samp[rows, si] * (spause[rows, si] >= pause[:, None])
    # surprise bursts: the first syllables stressed
    sy_amp = sy_amp * (1.0 + 0.8 * w[:, 5:6] * (syl < (P["syll_phase"][:, None] + 2.0)))
    onset = np.clip((t - P["voice_onset_s"][:, None]) / 0.05, 0, 1)
    env = env * sy_amp * onset * np.clip((CLIP_SECONDS - t) / 0.05, 0, 1)
    white, pink = _audio_noise_bank()
    breath_n = np.stack([white[p["noise_start"]:p["noise_start"] + NUM_SAMPLES] for p in params])
    third = NUM_SAMPLES // 3
    bg_n = np.stack([pink[p["noise_start"] + third:p["noise_start"] + third + NUM_SAMPLES]
                     for p in params])
    level = 0.06 * 10 ** ((energy + P["level_db"]) / 20.0)
    y = level[:, None] * env * ((1 - breath[:, None]) * sig + 2.0 * breath[:, None] * breath_n)
    y += P["bg_noise"][:, None] * bg_n
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def render_audio(params: dict) -> np.ndarray:
    """float32 [32000] in [-1, 1] at 16 kHz."""
    return render_audio_batch([params])[0]


# ---------------------------------------------------------------- fast training path
def model_tensors_batch(params: Sequence[dict]) -> Tuple[np.ndarray, np.ndarray]:
    return render_model_frames(params), render_audio_batch(params)


def model_tensors(params: dict, rng: Optional[np.random.Generator] = None
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """(frames float32 [4,3,64,64], audio float32 [32000]) as the decode spec would produce them
    (up to codec loss). `rng` is unused: every random choice lives in `params`."""
    f, a = model_tensors_batch([params])
    return f[0], a[0]


def sample_batch_params(rng: np.random.Generator, n: int, mix: Dict[str, float]) -> List[dict]:
    names = list(mix)
    prob = np.asarray([mix[k] for k in names], np.float64)
    prob = prob / prob.sum()
    subs = rng.choice(len(names), size=n, p=prob)
    return [sample_clip_params(rng, names[s]) for s in subs]


def batch(rng: np.random.Generator, n: int, mix: Dict[str, float]
          ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, List[str]]:
    """(frames [n,4,3,64,64], audio [n,32000], labels int64 [n], subsets) rendered on the fly."""
    params = sample_batch_params(rng, n, mix)
    frames, audio = model_tensors_batch(params)
    labels = np.asarray([p["label_index"] for p in params], np.int64)
    return frames, audio, labels, [p["subset"] for p in params]


# ---------------------------------------------------------------- files
VIDEO_CRF = 30
AUDIO_BITRATE = "24k"


def write_clip_mp4(params: dict, path: str, crf: int = VIDEO_CRF,
                   audio_bitrate: str = AUDIO_BITRATE, preset: str = "veryslow") -> None:
    """Encode one clip: H.264 yuv420p 128x128 10 fps + AAC mono 16 kHz, 2.0 s, faststart."""
    frames = render_video(params)
    audio = render_audio(params)
    with tempfile.TemporaryDirectory() as td:
        apath = os.path.join(td, "audio.f32")
        audio.astype("<f4").tofile(apath)
        args = ["ffmpeg", "-v", "error", "-nostdin", "-y",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{SIZE}x{SIZE}", "-r", str(FPS),
                "-i", "pipe:0",
                "-f", "f32le", "-ar", str(SAMPLE_RATE_HZ), "-ac", "1", "-i", apath,
                "-map", "0:v:0", "-map", "1:a:0",
                "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
                "-threads", "1", "-x264-params", "log-level=error",
                "-c:a", "aac", "-b:a", audio_bitrate, "-ar", str(SAMPLE_RATE_HZ), "-ac", "1",
                "-t", f"{CLIP_SECONDS:.6f}", "-map_metadata", "-1", "-fflags", "+bitexact",
                "-flags:v", "+bitexact", "-flags:a", "+bitexact",
                "-movflags", "+faststart", path]
        proc = subprocess.run(args, input=frames.tobytes(), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg failed: {proc.stderr.decode(errors='replace')}")
