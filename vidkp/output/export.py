"""Export the tracks in other tools' formats: `openface`, one CSV per input as OpenFace 2 writes it.

OpenFace columns: `frame` (1-based, as OpenFace counts: vidkp's frame + 1), `face_id`, `timestamp`
(seconds), `confidence`, `success` (1: every vidkp row is a tracked face), `x_0..x_67`,
`y_0..y_67` (pixels), `pose_Rx, pose_Ry, pose_Rz` (radians, `vidkp.analysis.head_pose` in OpenFace's
order R = Rx @ Ry @ Rz, so that tools rebuilding the rotation from them get the same one). Values
are separated by ", " like OpenFace's own files. The file of an input is named after its file
name (`clip.mp4` -> `clip.csv`; `_2`, `_3`, ... when names repeat).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from vidkp.analysis import head_pose
from vidkp.errors import OutputError
from vidkp.output.results import Results, load_results

FORMATS = ("openface",)
OPENFACE_COLUMNS = (["frame", "face_id", "timestamp", "confidence", "success"] + [f"x_{i}" for i in range(68)]
                    + [f"y_{i}" for i in range(68)] + ["pose_Rx", "pose_Ry", "pose_Rz"])


def openface_frame(tracks: pd.DataFrame, frame_size: tuple[float, float] | None) -> pd.DataFrame:
    """One input's rows as an OpenFace 2 table (columns `OPENFACE_COLUMNS`), by frame then face."""
    t = tracks.sort_values(["frame", "face_id"], kind="stable")
    pose = head_pose(t, frame_size, convention="openface")
    out = pd.DataFrame({"frame": t["frame"].to_numpy() + 1, "face_id": t["face_id"].to_numpy(),
                        "timestamp": t["timestamp"].round(3).to_numpy(),
                        "confidence": t["confidence"].round(2).to_numpy(),
                        "success": np.ones(len(t), np.int64)})
    pts = t[[c for c in OPENFACE_COLUMNS if c[:2] in ("x_", "y_")]].round(1).reset_index(drop=True)
    return pd.concat([out, pts, pose.round(3).reset_index(drop=True)], axis=1)[OPENFACE_COLUMNS]


def _names(videos: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for v in videos:
        stem = os.path.splitext(v.rstrip("/").rsplit("/", 1)[-1])[0] or "input"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(f"{stem}.csv" if seen[stem] == 1 else f"{stem}_{seen[stem]}.csv")
    return names


def export(out: str | os.PathLike, to: str | os.PathLike, fmt: str = "openface") -> list[Path]:
    """Write one file per input of the vidkp output `out` (ok inputs) into directory `to`; returns the paths."""
    if fmt not in FORMATS:
        raise OutputError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    res: Results = load_results(out)
    videos = res.manifest.loc[res.manifest["status"] == "ok", "video"].astype(str).tolist()
    to = Path(to)
    try:
        to.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create export directory {to}: {e}") from e
    sizes = res.frame_sizes()
    paths = []
    for video, name in zip(videos, _names(videos)):
        table = openface_frame(res.tracks_of(video), sizes.get(video)) if len(res.tracks) else \
            pd.DataFrame(columns=OPENFACE_COLUMNS)
        path = to / name
        lines = [", ".join(OPENFACE_COLUMNS)] + [", ".join(row) for row in table.astype(str).itertuples(index=False)]
        try:
            path.write_text("\n".join(lines) + "\n")
        except OSError as e:
            raise OutputError(f"cannot write {path}: {e}") from e
        paths.append(path)
    return paths
