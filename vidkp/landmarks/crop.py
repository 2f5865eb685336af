"""Face crop geometry shared by training and inference, so both see the same crops.

A crop is a square of side `scale * max(w, h)` centred on the box centre shifted down by
`shift * h`, optionally rotated, resampled to `size` x `size`. It is described by a 2x3
affine matrix mapping image pixels to crop pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CropSpec:
    """How a model's input crop relates to a detector box (stored in each checkpoint)."""

    size: int = 96
    scale: float = 1.3
    shift: float = 0.0
    gray: bool = True


def crop_matrix(center: tuple[float, float], side: float, size: int, angle_deg: float = 0.0) -> np.ndarray:
    """2x3 affine matrix mapping image pixels to a `size` crop of `side` pixels around `center`."""
    k = size / float(side)
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a) * k, np.sin(a) * k
    cx, cy = center
    # rotate about the centre by -angle (so a face tilted by +angle comes out upright), scale, recentre
    m = np.array([[c, s, 0.0], [-s, c, 0.0]], dtype=np.float64)
    m[:, 2] = np.array([size / 2.0, size / 2.0]) - m[:, :2] @ np.array([cx, cy])
    return m


def box_matrix(box: np.ndarray, spec: CropSpec, angle_deg: float = 0.0) -> np.ndarray:
    """Crop matrix for a detector box (x, y, w, h) under `spec`."""
    x, y, w, h = (float(v) for v in box)
    center = (x + w / 2.0, y + h / 2.0 + spec.shift * h)
    side = max(spec.scale * max(w, h), 1.0)
    return crop_matrix(center, side, spec.size, angle_deg)


def warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Resample `image` into a `size` x `size` crop (border replicated)."""
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR or gray uint8 image -> gray uint8 image."""
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return image if image.ndim == 2 else image[..., 0]


def to_bgr(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or gray uint8 image -> BGR uint8 image (gray repeated in all three channels)."""
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return cv2.cvtColor(image if image.ndim == 2 else image[..., 0], cv2.COLOR_GRAY2BGR)


def apply_matrix(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) points through a 2x3 affine matrix."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    return cv2.invertAffineTransform(matrix)


def to_tensor_batch(crops: list[np.ndarray]) -> np.ndarray:
    """List of gray (s, s) or BGR (s, s, 3) uint8 crops -> float32 array (n, 1 or 3, s, s) in [0, 1]."""
    arr = np.stack(crops).astype(np.float32) / 255.0
    return arr[:, None] if arr.ndim == 3 else arr.transpose(0, 3, 1, 2)
