"""Relation between 68 landmarks and the Haar box drawn around the same face.

Fitted on training data (`training.boxfit`) and stored in each checkpoint's metadata, so that a
tracker can turn the previous frame's points into a box like the one Haar would have drawn, and
training can synthesise Haar-like boxes (with the detector's natural jitter) from ground truth.

Landmark frame: centre `c` and size `s` of the points' bounding box (`s = sqrt(w * h)`).
Haar box centre = c + (dx, dy) * s, Haar box side = s * exp(log_side); the residual jitter of real
Haar boxes around that fit is Gaussian with standard deviations (sd_x, sd_y, sd_log_side).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

MIRROR_PAIRS = ([(i, 16 - i) for i in range(8)] + [(17 + i, 26 - i) for i in range(5)] + [(31, 35), (32, 34)]
                + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
                + [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67)])
"""iBUG 68-point left/right pairs: jaw, brows, nose base, eyes, outer and inner lips."""


def _mirror_perm() -> np.ndarray:
    perm = np.arange(68)
    for a, b in MIRROR_PAIRS:
        perm[a], perm[b] = b, a
    return perm


MIRROR_PERM = _mirror_perm()
"""Point order of a horizontally mirrored face: `kps[MIRROR_PERM]` relabels left as right."""


@dataclass(frozen=True)
class BoxRelation:
    """Mean Haar box relative to the landmark frame, and the residual jitter of real Haar boxes."""

    dx: float
    dy: float
    log_side: float
    sd_x: float
    sd_y: float
    sd_log_side: float

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "BoxRelation":
        return cls(**json.loads(text))


def landmark_frame(kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (n, 2) and sizes (n,) of the bounding boxes of points (n, 68, 2) (or one (68, 2))."""
    pts = np.asarray(kps, np.float64).reshape(-1, kps.shape[-2], 2)
    lo, hi = np.nanmin(pts, axis=1), np.nanmax(pts, axis=1)
    wh = np.maximum(hi - lo, 1e-6)
    return (lo + hi) / 2.0, np.sqrt(wh[:, 0] * wh[:, 1])


def box_from_landmarks(kps: np.ndarray, rel: BoxRelation, jitter: np.ndarray | None = None) -> np.ndarray:
    """Haar-like boxes (n, 4) = x, y, w, h for points (n, 68, 2) (or (68, 2) -> (1, 4)).

    `jitter` (n, 3), in units of the fitted standard deviations, perturbs centre x, y and log side.
    """
    c, s = landmark_frame(kps)
    j = np.zeros((len(s), 3)) if jitter is None else np.asarray(jitter, np.float64).reshape(-1, 3)
    cx = c[:, 0] + (rel.dx + j[:, 0] * rel.sd_x) * s
    cy = c[:, 1] + (rel.dy + j[:, 1] * rel.sd_y) * s
    side = s * np.exp(rel.log_side + j[:, 2] * rel.sd_log_side)
    return np.stack([cx - side / 2, cy - side / 2, side, side], axis=1).astype(np.float32)


def roll_degrees(kps: np.ndarray) -> np.ndarray:
    """In-plane roll (n,) in degrees from the eye centres of points (n, 68, 2)."""
    left, right = kps[:, 36:42].mean(axis=1), kps[:, 42:48].mean(axis=1)
    d = right - left
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))
