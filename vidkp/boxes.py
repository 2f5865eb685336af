"""Box geometry shared by the stages. Boxes are (x, y, w, h) in image pixels."""
from __future__ import annotations

import numpy as np


def pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes `a` (..., 4) and `b` (..., 4), broadcast over the leading axes; 0 for empty unions."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    iw = np.clip(np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU (n, m) of every box in `a` (n, 4) with every box in `b` (m, 4)."""
    return pair_iou(np.asarray(a).reshape(-1, 4)[:, None], np.asarray(b).reshape(-1, 4)[None])
