"""Fill short gaps in tracks by linear interpolation; long gaps stay empty.

A gap is a run of processed frames with no row between two rows of the same track. A gap of at
most `max_missing` processed frames gets one new row per missing frame (every float column
interpolated linearly in frame number, other columns copied from the row before, `filled` True);
a longer gap gets no row at all. The processing stride of a video is the smallest step between
its distinct frame numbers (so `vidkp run --every N` output is handled).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from vidkp.analysis.columns import require, track_groups


def _strides(tracks: pd.DataFrame) -> dict:
    out = {}
    for video, frames in tracks.groupby("video", sort=False)["frame"] if "video" in tracks.columns \
            else [("", tracks["frame"])]:
        steps = np.diff(np.unique(frames.to_numpy()))
        out[video] = int(steps.min()) if len(steps) else 1
    return out


def fill_gaps(tracks: pd.DataFrame, max_missing: int = 5) -> pd.DataFrame:
    """`tracks` plus interpolated rows for gaps of <= `max_missing` processed frames, and a
    boolean `filled` column; ordered by video, face_id, frame, with a fresh RangeIndex."""
    require(tracks, ["face_id", "frame"], "fill_gaps")
    if max_missing < 0:
        raise ValueError(f"fill_gaps: max_missing must be >= 0, got {max_missing}")
    strides = _strides(tracks)
    floats = [c for c in tracks.columns if pd.api.types.is_float_dtype(tracks[c])]
    new_parts = []
    for g in track_groups(tracks):
        sub = tracks.iloc[g]
        step = strides[sub["video"].iloc[0] if "video" in sub.columns else ""]
        f = sub["frame"].to_numpy()
        missing = np.diff(f) // step - 1
        for j in np.flatnonzero((missing > 0) & (missing <= max_missing)):
            new_frames = f[j] + step * np.arange(1, missing[j] + 1)
            w = ((new_frames - f[j]) / (f[j + 1] - f[j]))[:, None]
            a, b = sub.iloc[j][floats].to_numpy(np.float64), sub.iloc[j + 1][floats].to_numpy(np.float64)
            copied = sub.iloc[np.repeat(j, len(new_frames))].drop(columns=floats).reset_index(drop=True)
            copied["frame"] = new_frames
            rows = pd.concat([copied, pd.DataFrame(a + w * (b - a), columns=floats)], axis=1)[list(sub.columns)]
            new_parts.append(rows.astype(tracks.dtypes.to_dict()))
    out = tracks.assign(filled=False)
    if new_parts:
        new = pd.concat(new_parts, ignore_index=True).copy()  # copy: one block per dtype again
        out = pd.concat([out, new.assign(filled=True)], ignore_index=True)
    keys = [k for k in ("video", "face_id", "frame") if k in out.columns]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)
