"""Overlay art for the face filters, drawn procedurally (ours to ship; no image files).

Every piece is an RGBA image (BGR + straight alpha, uint8) drawn at `EYE_PX` pixels per
inter-eye distance, with an anchor: the art pixel that goes on the face's anchor point
(`vidkp.output.filters`). Shapes are drawn at 4x and reduced, for smooth edges.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

EYE_PX = 200
"""Art pixels per inter-eye distance (eye centre to eye centre)."""
_SS = 4  # supersampling factor


@dataclass(frozen=True)
class Art:
    rgba: np.ndarray
    """(h, w, 4) uint8, BGR and straight alpha."""
    anchor: tuple[float, float]
    """(x, y) art pixel placed on the face's anchor point."""


def _canvas(w: int, h: int) -> np.ndarray:
    return np.zeros((h * _SS, w * _SS, 4), np.uint8)


def _pts(points: list[tuple[float, float]]) -> np.ndarray:
    return np.round(np.asarray(points) * _SS).astype(np.int32)


def _finish(canvas: np.ndarray, anchor: tuple[float, float]) -> Art:
    h, w = canvas.shape[0] // _SS, canvas.shape[1] // _SS
    c = canvas.astype(np.float32)
    a = c[..., 3:4] / 255.0
    premult = cv2.resize(np.concatenate([c[..., :3] * a, a * 255.0], axis=2), (w, h), interpolation=cv2.INTER_AREA)
    alpha = premult[..., 3:4]
    bgr = np.where(alpha > 0, premult[..., :3] * 255.0 / np.maximum(alpha, 1e-6), 0)
    return Art(np.concatenate([bgr, alpha], axis=2).round().clip(0, 255).astype(np.uint8), anchor)


@lru_cache(maxsize=None)
def sunglasses() -> Art:
    """Two dark lenses centred on the eyes (anchor: midway between the eye centres)."""
    w, h = 470, 170
    cx, cy, half = w / 2, 70.0, EYE_PX / 2
    c = _canvas(w, h)
    frame, lens = (20, 20, 20, 255), (45, 35, 30, 225)
    for sx in (-1, 1):
        centre = _pts([(cx + sx * half, cy)])[0]
        axes = (int(88 * _SS), int(62 * _SS))
        cv2.ellipse(c, tuple(centre), axes, 0, 0, 360, lens, -1, cv2.LINE_AA)
        cv2.ellipse(c, tuple(centre), axes, 0, 0, 360, frame, 9 * _SS, cv2.LINE_AA)
        glint = _pts([(cx + sx * half - 40, cy - 30)])[0]
        cv2.ellipse(c, tuple(glint), (22 * _SS, 9 * _SS), -30, 0, 360, (255, 255, 255, 110), -1, cv2.LINE_AA)
        # temple arm towards the ear
        cv2.line(c, tuple(_pts([(cx + sx * (half + 86), cy - 12)])[0]),
                 tuple(_pts([(cx + sx * (w / 2 - 6), cy - 20)])[0]), frame, 9 * _SS, cv2.LINE_AA)
    cv2.polylines(c, [_pts([(cx - 18, cy - 20), (cx, cy - 30), (cx + 18, cy - 20)])], False, frame, 9 * _SS,
                  cv2.LINE_AA)
    return _finish(c, (cx, cy))


@lru_cache(maxsize=None)
def moustache() -> Art:
    """A curled handlebar moustache (anchor: midway between the nose base and the upper lip)."""
    w, h = 300, 130
    cx, cy = w / 2, 60.0
    c = _canvas(w, h)
    t = np.linspace(0.0, 1.0, 60)
    upper = [(cx + 140 * s, cy - 26 + 14 * s - 44 * s ** 6) for s in t]         # top edge, curling up at the tip
    lower = [(cx + 140 * s, cy + 30 - 46 * s ** 1.5 - 36 * s ** 6) for s in t[::-1]]
    half = np.array(upper + lower)
    for sx in (-1, 1):
        poly = half.copy()
        poly[:, 0] = cx + sx * (poly[:, 0] - cx)
        cv2.fillPoly(c, [_pts(poly)], (25, 40, 70, 255), cv2.LINE_AA)
    return _finish(c, (cx, cy))


@lru_cache(maxsize=None)
def hat() -> Art:
    """A top hat with a red band (anchor: the brim's centre, placed above the brows)."""
    w, h = 520, 430
    cx, brim_y = w / 2, 390.0
    c = _canvas(w, h)
    black, band = (28, 28, 28, 255), (40, 40, 175, 255)
    crown = _pts([(cx - 150, brim_y - 10), (cx - 135, 20), (cx + 135, 20), (cx + 150, brim_y - 10)])
    cv2.fillPoly(c, [crown], black, cv2.LINE_AA)
    cv2.ellipse(c, tuple(_pts([(cx, 20)])[0]), (135 * _SS, 16 * _SS), 0, 0, 360, (50, 50, 50, 255), -1, cv2.LINE_AA)
    band_poly = _pts([(cx - 148, brim_y - 10), (cx - 145, brim_y - 60), (cx + 145, brim_y - 60),
                      (cx + 148, brim_y - 10)])
    cv2.fillPoly(c, [band_poly], band, cv2.LINE_AA)
    cv2.ellipse(c, tuple(_pts([(cx, brim_y)])[0]), (250 * _SS, 32 * _SS), 0, 0, 360, black, -1, cv2.LINE_AA)
    return _finish(c, (cx, brim_y))
