"""Throughput of `vidkp run`: decode only vs the full pipeline on the real clip (one worker),
and inputs/s with 1 vs 2 Ray workers on a batch of equal generated clips.

    python benchmarks/run_bench.py [--clip ../shared/data/videos/short_hamilton_clip.mp4]
                                   [--weights W] [--batch 8] [--batch-frames 240]

Prints a Markdown table (paste into benchmarks/RESULTS.md with the machine and date).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import vidkp  # noqa: E402
from vidkp.config import RunConfig  # noqa: E402
from vidkp.io.decode import VideoReader  # noqa: E402
from vidkp.batch.workers import init_local_ray  # noqa: E402
from vidkp.batch.pipeline import Pipeline  # noqa: E402
from vidkp.sample import render_frames, write_clip  # noqa: E402
from vidkp.io.sources import expand  # noqa: E402

DEFAULT_CLIP = ROOT.parent / "shared" / "data" / "videos" / "short_hamilton_clip.mp4"


def decode_only(clip: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    with VideoReader(clip) as r:
        n = sum(1 for _ in r.frames())
    return n, time.perf_counter() - t0


def full_pipeline(clip: Path, weights: str | None, out: Path) -> tuple[int, float, dict]:
    pipe = Pipeline(RunConfig(weights=weights, workers=0))
    src = expand([str(clip)])[0]
    t0 = time.perf_counter()
    s = pipe.process(src, out)
    dt = time.perf_counter() - t0
    assert s.status == "ok", s.error
    return s.frames, dt, json.loads(s.timings_ms)


def batch_clips(d: Path, n: int, frames: int) -> list[str]:
    base = write_clip(d / "c0.mp4", render_frames(frames / 12.0, 12.0, (640, 360)), 12.0, (640, 360))
    paths = [base]
    for i in range(1, n):
        p = d / f"c{i}.mp4"
        p.write_bytes(base.read_bytes())
        paths.append(p)
    return [str(p) for p in paths]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    ap.add_argument("--weights", default=None, help="landmark weights (default: shipped model)")
    ap.add_argument("--batch", type=int, default=8, help="clips in the worker-scaling batch")
    ap.add_argument("--batch-frames", type=int, default=240, help="frames per batch clip (640x360)")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as in a worker
    cv2.setNumThreads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.clip.is_file():
            n, dt = decode_only(args.clip)
            rows.append(("decode only, 1 worker", f"{args.clip.name} ({n} frames)", f"{n / dt:.1f} frames/s", ""))
            (tmp / "p").mkdir()
            n, dt, st = full_pipeline(args.clip, args.weights, tmp / "p")
            per = ", ".join(f"{k} {v / n:.1f}" for k, v in st.items())
            rows.append(("full pipeline, 1 worker", f"{args.clip.name} ({n} frames)", f"{n / dt:.2f} frames/s",
                         f"ms/frame: {per}"))
        else:
            print(f"clip {args.clip} not found: skipping the single-clip rows", file=sys.stderr)
        clips = batch_clips(tmp, args.batch, args.batch_frames)
        init_local_ray(2)
        rates: dict[int, float] = {}
        cores: dict[int, float] = {}
        for workers in (1, 2):
            best = 0.0
            for r in range(args.repeats):
                t0 = time.perf_counter()
                s = vidkp.run(clips, tmp / f"w{workers}-{r}", workers=workers, weights=args.weights)
                dt = time.perf_counter() - t0
                assert s.ok == len(clips), s.failed
                if len(clips) / dt > best:
                    best, cores[workers] = len(clips) / dt, s.stage_ms.get("cpu", 0.0) / 1000.0 / dt
            rates[workers] = best
            rows.append((f"batch, {workers} Ray worker{'s' * (workers > 1)}",
                         f"{len(clips)} x {args.batch_frames}-frame 640x360 clips", f"{best:.3f} inputs/s",
                         f"{best * args.batch_frames:.1f} frames/s; workers got {cores[workers]:.2f} CPU cores"
                         + (f"; speed-up {best / rates[1]:.2f}x; per CPU-second of the workers "
                            f"{(best / cores[2]) / (rates[1] / cores[1]):.2f}x" if workers > 1 else "")))
        import ray

        ray.shutdown()
    print(f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, opencv {cv2.__version__}, load average {os.getloadavg()[0]:.1f} at the end")
    print("| measure | input | throughput | notes |\n| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
