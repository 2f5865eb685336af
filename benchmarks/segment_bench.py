"""Long video split into segments: unsplit on 1 Ray worker vs split on N workers, id continuity
and warm-up differences, on a generated video of one moving face (written once to a cache dir).

    python -m benchmarks.segment_bench [--minutes 20] [--fps 10] [--size 320x180] [--workers 2]
                                       [--segment-seconds 300] [--cache ~/.cache/vidkp-bench]

Prints a Markdown table (paste into benchmarks/RESULTS.md with the machine and date).
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

import vidkp
from vidkp.batch.workers import init_local_ray
from vidkp.sample import render_frames, write_clip

POINTS = [f"{a}_{i}" for a in "xy" for i in range(68)]


def long_video(cache: Path, minutes: float, fps: float, size: tuple[int, int]) -> Path:
    """One face moving and zooming in 20-s cycles for `minutes` (made once, then reused)."""
    path = cache / f"face_{minutes:g}min_{fps:g}fps_{size[0]}x{size[1]}.mp4"
    if not path.is_file():
        cycle = list(render_frames(20.0, fps, size))
        n = int(round(minutes * 60 * fps))
        tmp = path.with_suffix(".part.mp4")
        write_clip(tmp, (cycle[i % len(cycle)] for i in range(n)), fps, size)
        tmp.rename(path)
    return path


def timed_run(video: Path, out: Path, **options) -> tuple[float, pd.DataFrame, pd.Series]:
    t0 = time.perf_counter()
    s = vidkp.run(str(video), out, **options)
    dt = time.perf_counter() - t0
    assert s.ok == 1, s.failed
    return dt, pd.read_parquet(out), vidkp.load_manifest(out).iloc[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--size", default="320x180")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--segment-seconds", type=float, default=300.0)
    ap.add_argument("--overlap-seconds", type=float, default=2.0)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "vidkp-bench")
    ap.add_argument("--weights", default=None)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    args.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    video = long_video(args.cache, args.minutes, args.fps, size)
    print(f"video {video} ({time.perf_counter() - t0:.0f} s to make or find)")
    init_local_ray(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        t1, a, m1 = timed_run(video, Path(tmp) / "unsplit", workers=1, segment_seconds=0, weights=args.weights)
        t2, b, m = timed_run(video, Path(tmp) / "split", workers=args.workers, segment_seconds=args.segment_seconds,
                             overlap_seconds=args.overlap_seconds, weights=args.weights)
    import ray

    ray.shutdown()
    same_keys = a[["frame", "face_id"]].equals(b[["frame", "face_id"]])
    merged = a.merge(b, on=["frame", "face_id"], suffixes=("_a", "_b"))
    err = np.abs(merged[[f"{p}_a" for p in POINTS]].to_numpy() - merged[[f"{p}_b" for p in POINTS]].to_numpy())
    per_row = err.max(axis=1)
    n_frames = int(m.frames)
    print(f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"opencv {cv2.__version__}, load average {os.getloadavg()[0]:.1f} at the end")
    print("| measure | value |\n| --- | --- |")
    rows = [
        ("video", f"{args.minutes:g} min, {n_frames} frames, {args.fps:g} fps, {args.size}, one face throughout"),
        ("unsplit, 1 Ray worker", f"{t1:.1f} s ({n_frames / t1:.1f} frames/s)"),
        (f"split, {args.workers} Ray workers", f"{t2:.1f} s ({n_frames / t2:.1f} frames/s), {m.segments} segments "
                                               f"of {args.segment_seconds:g} s, overlap {args.overlap_seconds:g} s"),
        ("speed-up", f"{t1 / t2:.2f}x (ideal {args.workers}x)"),
        ("seconds inside the workers (manifest `seconds`, summed over segments)",
         f"unsplit {float(m1.seconds):.1f} s, split {float(m.seconds):.1f} s"),
        ("distinct face ids", f"unsplit {a.face_id.nunique()}, split {b.face_id.nunique()}"),
        ("rows", f"unsplit {len(a)}, split {len(b)}; same (frame, face_id) keys: {same_keys}"),
        ("warm-up differences (max abs point difference per row)",
         f"max {per_row.max():.4f} px, mean {per_row.mean():.6f} px; rows > 0.01 px: {(per_row > 0.01).sum()}, "
         f"> 0.1 px: {(per_row > 0.1).sum()} of {len(per_row)}"),
    ]
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
