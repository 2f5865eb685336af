"""Face filters: overlay art placed, scaled and rotated by each face's keypoints, alpha-blended.

The face frame: origin midway between the eye centres (means of points 36-41 and 42-47), x along
the eye line (so the art rolls with the head), one unit = the inter-eye distance. Each style puts
its art's anchor on a point of the face: `sunglasses` on the eye midpoint, `moustache` midway
between the nose base (33) and the upper lip (51), `hat` 0.8 units above the brows (19, 24).
Pixels the art does not cover are left exactly as they were; art beyond the frame is clipped.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from vidkp.output.art import EYE_PX, Art, hat, moustache, sunglasses

STYLES = ("points", "sunglasses", "moustache", "hat")
"""Annotation styles: `points` draws boxes, ids and points; the others are filters."""


def _eye_frame(kps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin, x axis and y axis (pixels per face unit) of the face frame of points (68, 2)."""
    right, left = kps[36:42].mean(axis=0), kps[42:48].mean(axis=0)
    ex = left - right
    return (right + left) / 2, ex, np.array([-ex[1], ex[0]])


def _anchor_sunglasses(kps: np.ndarray, origin, ex, ey) -> np.ndarray:
    return origin


def _anchor_moustache(kps: np.ndarray, origin, ex, ey) -> np.ndarray:
    return (kps[33] + kps[51]) / 2


def _anchor_hat(kps: np.ndarray, origin, ex, ey) -> np.ndarray:
    return (kps[19] + kps[24]) / 2 - 0.8 * ey


FILTERS: dict[str, tuple[Callable[[], Art], Callable[..., np.ndarray]]] = {
    "sunglasses": (sunglasses, _anchor_sunglasses),
    "moustache": (moustache, _anchor_moustache),
    "hat": (hat, _anchor_hat),
}


def placement(style: str, kps: np.ndarray) -> np.ndarray:
    """The 2x3 affine map from art pixels to image pixels for one face's points (68, 2)."""
    art_fn, anchor_fn = FILTERS[style]
    art = art_fn()
    origin, ex, ey = _eye_frame(kps)
    lin = np.column_stack([ex, ey]) / EYE_PX
    anchor = anchor_fn(kps, origin, ex, ey)
    return np.column_stack([lin, anchor - lin @ np.asarray(art.anchor)])


def apply_filter(image: np.ndarray, keypoints: np.ndarray, style: str) -> np.ndarray:
    """A copy of BGR `image` with `style`'s art on every face of `keypoints` (n, 68, 2), pixels;
    faces with missing points or eyes closer than 2 px are skipped."""
    if style not in FILTERS:
        raise ValueError(f"unknown filter style {style!r}; expected one of {sorted(FILTERS)}")
    out = image.copy()
    art = FILTERS[style][0]()
    rgba = art.rgba.astype(np.float32) / 255.0
    premult = np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=2)
    h, w = image.shape[:2]
    ah, aw = art.rgba.shape[:2]
    corners = np.array([[0, 0, 1], [aw, 0, 1], [0, ah, 1], [aw, ah, 1]], np.float64)
    for kps in np.asarray(keypoints, np.float64).reshape(-1, 68, 2):
        if not np.isfinite(kps).all() or np.linalg.norm(_eye_frame(kps)[1]) < 2.0:
            continue
        m = placement(style, kps)
        dst = corners @ m.T
        x0, y0 = np.floor(dst.min(axis=0)).astype(int)
        x1, y1 = np.ceil(dst.max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        shifted = m - np.array([[0, 0, x0], [0, 0, y0]], np.float64)
        layer = cv2.warpAffine(premult, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
        alpha = layer[..., 3:]
        roi = out[y0:y1, x0:x1].astype(np.float32)
        blended = roi * (1.0 - alpha) + layer[..., :3] * 255.0
        out[y0:y1, x0:x1] = np.where(alpha > 0, np.clip(np.round(blended), 0, 255), roi).astype(np.uint8)
    return out
