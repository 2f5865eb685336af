"""Blink events per track, from `eye_open` against the track's own baseline.

The baseline is the running median of `eye_open` over `baseline_seconds` (centred). A blink
starts at the first row whose `eye_open` falls below `close_ratio` x baseline and also below
baseline minus `noise_sigmas` x the track's own frame-to-frame noise, and ends at the first row
back above `open_ratio` x baseline. Closures longer than `max_duration` seconds, and one still
open when the track ends, are not blinks.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from vidkp.analysis.columns import require, track_groups
from vidkp.analysis.openness import openness

BLINK_COLUMNS = ["video", "face_id", "start", "end", "duration", "start_frame", "end_frame", "depth"]
"""start/end: seconds (`timestamp` of the first closed row and of the first reopened row);
duration = end - start; depth: 1 - lowest eye_open / baseline."""


def _noise(signal: np.ndarray) -> float:
    """Robust standard deviation of frame-to-frame noise (MAD of first differences / sqrt 2)."""
    d = np.diff(signal[np.isfinite(signal)])
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0)) if len(d) > 2 else 0.0


def track_blinks(timestamps: np.ndarray, eye_open: np.ndarray, baseline_seconds: float = 4.0,
                 close_ratio: float = 0.7, open_ratio: float = 0.85, noise_sigmas: float = 4.0,
                 max_duration: float = 1.0) -> list[tuple[int, int, float]]:
    """Blinks of one track as (first closed row, first reopened row, depth); rows in time order."""
    t = np.asarray(timestamps, np.float64)
    e = np.asarray(eye_open, np.float64)
    if len(e) < 3:
        return []
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    window = max(3, int(round(baseline_seconds / dt)) if dt > 0 else len(e))
    base = pd.Series(e).rolling(window, center=True, min_periods=1).median().to_numpy()
    noise = _noise(e)
    close = np.minimum(close_ratio * base, base - noise_sigmas * noise)
    events, start, low = [], None, np.inf
    for i in range(len(e)):
        if not np.isfinite(e[i]):
            continue
        if start is None:
            if e[i] < close[i]:
                start, low = i, e[i] / base[i]
        else:
            low = min(low, e[i] / base[i])
            if e[i] > open_ratio * base[i]:
                if t[i] - t[start] <= max_duration:
                    events.append((start, i, 1.0 - low))
                start = None
    return events


def blinks(tracks: pd.DataFrame, **params: float) -> pd.DataFrame:
    """Blink events of every track (columns `BLINK_COLUMNS`), ordered by video, face_id, start.

    Uses the `eye_open` column when present, else computes it; `params` go to `track_blinks`.
    """
    require(tracks, ["face_id", "frame", "timestamp"], "blinks")
    eye = tracks["eye_open"].to_numpy(np.float64) if "eye_open" in tracks.columns else \
        openness(tracks)["eye_open"].to_numpy()
    ts, frames = tracks["timestamp"].to_numpy(np.float64), tracks["frame"].to_numpy()
    videos = tracks["video"].to_numpy() if "video" in tracks.columns else np.full(len(tracks), "")
    ids = tracks["face_id"].to_numpy()
    rows = []
    for g in track_groups(tracks):
        for a, b, depth in track_blinks(ts[g], eye[g], **params):
            i, j = g[a], g[b]
            rows.append((videos[i], int(ids[i]), ts[i], ts[j], ts[j] - ts[i], int(frames[i]), int(frames[j]), depth))
    return pd.DataFrame(rows, columns=BLINK_COLUMNS).astype(
        {"face_id": "int64", "start": "float64", "end": "float64", "duration": "float64",
         "start_frame": "int64", "end_frame": "int64", "depth": "float64"})
