"""Same rows before and after a change: run `vidkp.run` serially on a fixed set of inputs, or compare two such runs.

    python -m benchmarks.equivalence write DIR [--data ../shared/data]   # rows of this checkout
    python -m benchmarks.equivalence compare DIR_A DIR_B [--tol 1e-4]    # exit 1 if rows differ

Inputs: the real clip and the stills of the shared data (when present) and generated test clips
(the moving sample face, and one clip of each `benchmarks.gtvideo` kind made from validation people).
Two runs match when they have the same (video, frame, face_id) rows, the same boxes and scores within
`tol`, and every point within `tol` pixels.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEY = ["video", "frame", "face_id"]


def make_inputs(work: Path, data: Path | None) -> list[str]:
    """Write the generated clips under `work` and return every input path (relative names are stable)."""
    from benchmarks import gtvideo
    from vidkp.sample import render_frames, write_clip

    clips = work / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    size, fps = (320, 180), 12.0
    inputs = [str(write_clip(clips / "sample_face.mp4", render_frames(36 / fps, fps, size), fps, size))]
    if data is not None and (data / "facial_keypoints").is_dir():
        faces = gtvideo.load_faces(data, people="val", limit=4, seed=0)
        for kind in gtvideo.KINDS:
            clip = gtvideo.make_clip(kind, faces, n_frames=45)
            inputs.append(str(clip.write(clips / f"{kind}.mp4")))
    if data is not None:
        inputs += [str(data / "videos" / "short_hamilton_clip.mp4"), str(data / "images")]
    return inputs


def rows(out: Path) -> pd.DataFrame:
    df = pd.read_parquet(out)
    df["video"] = df["video"].map(lambda v: Path(v).name)
    return df.sort_values(KEY).reset_index(drop=True)


def compare(a: Path, b: Path, tol: float) -> list[str]:
    """Differences between two runs' rows, as lines (empty when they match)."""
    ra, rb = rows(a), rows(b)
    if not ra[KEY].equals(rb[KEY]):
        merged = ra[KEY].merge(rb[KEY], how="outer", indicator=True)
        only = merged[merged["_merge"] != "both"]
        return [f"{len(only)} rows are in one run only, e.g.\n{only.head(10).to_string()}"]
    numeric = [c for c in ra.columns if c not in KEY and c != "timestamp"]
    diffs = []
    for col in numeric:
        d = np.abs(ra[col].to_numpy(np.float64) - rb[col].to_numpy(np.float64))
        if np.nanmax(d, initial=0.0) > tol or not np.array_equal(np.isnan(ra[col]), np.isnan(rb[col])):
            diffs.append(f"{col}: max difference {np.nanmax(d):.3g}")
    if not np.allclose(ra["timestamp"], rb["timestamp"], atol=1e-9):
        diffs.append("timestamp differs")
    return diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("dir", type=Path)
    w.add_argument("--data", type=Path, default=Path("../shared/data"))
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args(argv)
    if args.cmd == "write":
        import vidkp

        data = args.data if args.data.is_dir() else None
        inputs = make_inputs(args.dir, data)
        summary = vidkp.run(inputs, str(args.dir / "tracks"), workers=0, overwrite=True)
        print(summary)
        return 0
    diffs = compare(args.a / "tracks", args.b / "tracks", args.tol)
    n = len(rows(args.a / "tracks"))
    print("\n".join(diffs) if diffs else f"same rows: {n} rows, every value within {args.tol}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
