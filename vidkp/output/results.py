"""Read a finished vidkp output (OUT) for the report and the exports."""
from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from vidkp.errors import OutputError


@dataclass(frozen=True)
class Results:
    """The tracks and the manifest of one vidkp output."""

    out: str
    tracks: pd.DataFrame
    manifest: pd.DataFrame

    def frame_sizes(self) -> dict[str, tuple[float, float]]:
        """{video: (width, height)} from the manifest (the camera of `head_pose`)."""
        m = self.manifest
        return {str(v): (float(w), float(h)) for v, w, h in m[["video", "width", "height"]].itertuples(index=False)}

    def tracks_of(self, video: str) -> pd.DataFrame:
        """Rows of one input, in (face_id, frame) order."""
        t = self.tracks[self.tracks["video"] == video]
        return t.sort_values(["face_id", "frame"], kind="stable")


def load_results(out: str | os.PathLike) -> Results:
    """Tracks and manifest of OUT; OutputError when OUT is not a finished vidkp output."""
    from vidkp import load_manifest, load_tracks

    out = os.fspath(out)
    try:
        manifest = load_manifest(out)
    except (OSError, ValueError) as e:
        raise OutputError(f"{out} is not a vidkp output: no readable _manifest.parquet there "
                          f"({' '.join(str(e).split())[:200]})") from e
    ok = manifest[manifest["status"] == "ok"]
    try:
        tracks = load_tracks(out) if int(ok["face_rows"].sum()) else pd.DataFrame(columns=["video", "face_id", "frame"])
    except (OSError, ValueError) as e:
        raise OutputError(f"cannot read the tracks of {out}: {' '.join(str(e).split())[:200]}") from e
    if len(tracks):
        tracks = tracks.assign(video=tracks["video"].astype(str))
    return Results(out, tracks, manifest)
