"""Column names of the tracks contract that the analysis functions read, and point extraction."""
from __future__ import annotations

import numpy as np
import pandas as pd

N_POINTS = 68
X_COLS = [f"x_{i}" for i in range(N_POINTS)]
Y_COLS = [f"y_{i}" for i in range(N_POINTS)]
TRACK_KEYS = ["video", "face_id"]


def require(tracks: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise ValueError naming the missing columns when `tracks` lacks any of `columns`."""
    if not isinstance(tracks, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame of vidkp tracks, got {type(tracks).__name__}")
    missing = [c for c in columns if c not in tracks.columns]
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        raise ValueError(f"{what}: the tracks lack column(s) {shown} (see the vidkp output contract)")


def points(tracks: pd.DataFrame, what: str = "points") -> np.ndarray:
    """The 68 points of every row as an (n, 68, 2) float64 array in pixels (NaN stays NaN)."""
    require(tracks, X_COLS + Y_COLS, what)
    return np.stack([tracks[X_COLS].to_numpy(np.float64), tracks[Y_COLS].to_numpy(np.float64)], axis=2)


def track_groups(tracks: pd.DataFrame) -> list[np.ndarray]:
    """Row positions of each track (video, face_id), each ordered by frame."""
    keys = [k for k in TRACK_KEYS if k in tracks.columns]
    require(tracks, ["face_id", "frame"], "tracks")
    order = np.lexsort([tracks["frame"].to_numpy()] + [tracks[k].astype(str).to_numpy() if k == "video"
                                                       else tracks[k].to_numpy() for k in reversed(keys)])
    sorted_keys = tracks.iloc[order][keys]
    change = np.zeros(len(order), bool)
    if len(order):
        change[0] = True
        for k in keys:
            v = sorted_keys[k].to_numpy()
            change[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(change)
    return np.split(order, starts[1:]) if len(order) else []
