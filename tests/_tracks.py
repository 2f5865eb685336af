"""Generated tracks DataFrames (the output contract's columns) for the analysis tests."""
from __future__ import annotations

import numpy as np
import pandas as pd


def tracks_from_points(kps: np.ndarray, video: str = "v.mp4", face_id: int = 0, fps: float = 30.0,
                       frames: np.ndarray | None = None) -> pd.DataFrame:
    """One track: points (n, 68, 2) in frame order, frames 0..n-1 unless given."""
    kps = np.asarray(kps, np.float64)
    n = len(kps)
    f = np.arange(n) if frames is None else np.asarray(frames)
    lo, hi = kps.min(axis=1), kps.max(axis=1)
    cols = {"video": [video] * n, "frame": f.astype(np.int64), "timestamp": f / fps,
            "face_id": np.full(n, face_id, np.int64),
            "box_x": lo[:, 0].astype(np.float32), "box_y": lo[:, 1].astype(np.float32),
            "box_w": (hi - lo)[:, 0].astype(np.float32), "box_h": (hi - lo)[:, 1].astype(np.float32),
            "confidence": np.full(n, 0.9, np.float32)}
    cols.update({f"x_{i}": kps[:, i, 0].astype(np.float32) for i in range(68)})
    cols.update({f"y_{i}": kps[:, i, 1].astype(np.float32) for i in range(68)})
    return pd.DataFrame(cols)


def with_eyes(kps: np.ndarray, openness: np.ndarray) -> np.ndarray:
    """Points (n, 68, 2) with each eyelid's gap scaled by `openness` (n,) around the eye's centre line."""
    out = np.array(kps, np.float64, copy=True)
    for c0 in (36, 42):
        mid = (out[:, c0] + out[:, c0 + 3]) / 2  # centre line of the eye
        for j in (1, 2, 4, 5):
            out[:, c0 + j, 1] = mid[:, 1] + (out[:, c0 + j, 1] - mid[:, 1]) * openness
    return out
