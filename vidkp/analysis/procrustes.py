"""Procrustes alignment of every row's 68 points to a mean face, for shape analysis.

Each shape is moved by the least-squares similarity transform (translation, uniform scale,
rotation; no reflection) onto the mean shape, which is centred with unit centroid size. The
default mean is the generalised Procrustes mean of the rows themselves.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from vidkp.analysis.columns import X_COLS, Y_COLS, points


def _normalise(shape: np.ndarray) -> np.ndarray:
    c = shape - shape.mean(axis=0)
    return c / np.linalg.norm(c)


def _align(shapes: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Shapes (n, 68, 2) moved onto `target` (68, 2, centred) by similarity transforms."""
    z = shapes[..., 0] + 1j * shapes[..., 1]
    z = z - z.mean(axis=1, keepdims=True)
    t = target[:, 0] + 1j * target[:, 1]
    s = (np.conj(z) @ t) / np.maximum(np.sum(np.abs(z) ** 2, axis=1), 1e-12)
    a = z * s[:, None]
    return np.stack([a.real, a.imag], axis=2)


def mean_shape(tracks: pd.DataFrame, iterations: int = 10) -> np.ndarray:
    """Generalised Procrustes mean (68, 2) of the rows with all points, centred, unit size."""
    p = points(tracks, "mean_shape")
    p = p[np.isfinite(p).all(axis=(1, 2))]
    if not len(p):
        raise ValueError("mean_shape: no row has all 68 points")
    mean = _normalise(p[0])
    for _ in range(iterations):
        mean = _normalise(_align(p, mean).mean(axis=0))
    return mean


def procrustes_align(tracks: pd.DataFrame, reference: np.ndarray | None = None) -> pd.DataFrame:
    """Aligned `x_i, y_i` (in units of the mean's centroid size) and `procrustes_distance` (the
    root of the summed squared residuals) for every row, on the same index. `reference` (68, 2)
    is any shape to align to (normalised here); default `mean_shape(tracks)`."""
    target = mean_shape(tracks) if reference is None else _normalise(np.asarray(reference, np.float64))
    if target.shape != (68, 2):
        raise ValueError(f"procrustes_align: reference must be (68, 2), got {target.shape}")
    aligned = _align(points(tracks, "procrustes_align"), target)
    dist = np.sqrt(((aligned - target) ** 2).sum(axis=(1, 2)))
    out = pd.DataFrame(np.concatenate([aligned[..., 0], aligned[..., 1]], axis=1), index=tracks.index,
                       columns=X_COLS + Y_COLS)
    out["procrustes_distance"] = dist
    return out
