"""One row per track: how long, how complete, mean pose, blinks and mouth activity."""
from __future__ import annotations

import numpy as np
import pandas as pd

from vidkp.analysis.blinks import blinks
from vidkp.analysis.columns import require, track_groups
from vidkp.analysis.openness import OPENNESS_COLUMNS, openness
from vidkp.analysis.pose import POSE_COLUMNS, FrameSize, head_pose

SUMMARY_COLUMNS = ["video", "face_id", "start", "end", "duration", "rows", "coverage", "pose_Rx", "pose_Ry",
                   "pose_Rz", "eye_open", "blinks", "blink_rate", "mouth_open", "mouth_activity"]
"""start, end, duration: seconds; coverage: rows / processed frames from first to last row;
pose_*: mean, radians; eye_open, mouth_open: means; blink_rate: blinks per minute (NaN for a
track shorter than one frame interval); mouth_activity: standard deviation of mouth_open."""


def analyse(tracks: pd.DataFrame, frame_size: FrameSize = None) -> pd.DataFrame:
    """The tracks with `POSE_COLUMNS` and `OPENNESS_COLUMNS` added (a new DataFrame)."""
    return pd.concat([tracks, head_pose(tracks, frame_size), openness(tracks)], axis=1)


def summarize(tracks: pd.DataFrame, frame_size: FrameSize = None) -> pd.DataFrame:
    """Per-track summary (columns `SUMMARY_COLUMNS`), ordered by video and face_id.

    Pose and openness columns already in `tracks` are used as they are, else computed.
    """
    require(tracks, ["video", "face_id", "frame", "timestamp"], "summarize")
    extra = []
    if not set(POSE_COLUMNS) <= set(tracks.columns):
        extra.append(head_pose(tracks, frame_size))
    if not set(OPENNESS_COLUMNS) <= set(tracks.columns):
        extra.append(openness(tracks))
    t = pd.concat([tracks, *extra], axis=1) if extra else tracks
    events = blinks(t)
    counts = events.groupby(["video", "face_id"]).size().to_dict() if len(events) else {}
    strides = {v: (int(np.diff(np.unique(f)).min()) if f.nunique() > 1 else 1)
               for v, f in t.groupby("video", sort=False)["frame"]}
    rows = []
    for g in track_groups(t):
        sub = t.iloc[g]
        video, fid = sub["video"].iloc[0], int(sub["face_id"].iloc[0])
        ts = sub["timestamp"].to_numpy(np.float64)
        frames = sub["frame"].to_numpy()
        dt = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
        duration = float(ts[-1] - ts[0]) + dt
        expected = (frames[-1] - frames[0]) // strides[video] + 1
        n_blinks = int(counts.get((video, fid), 0))
        rows.append((video, fid, float(ts[0]), float(ts[-1]), duration, len(sub), len(sub) / expected,
                     *sub[POSE_COLUMNS].mean().to_numpy(), sub["eye_open"].mean(), n_blinks,
                     60.0 * n_blinks / duration if duration > 0 else np.nan,
                     sub["mouth_open"].mean(), sub["mouth_open"].std(ddof=0)))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
