"""How far this machine's cores scale without Ray: the same serial vidkp job (`workers=0`, one
thread) in 1 process alone, then in N independent processes at once.

    python -m benchmarks.cpu_ceiling [--minutes 5] [--processes 2] [--repeats 2] [--cache DIR]

The ratio N x (time alone) / (time of the N concurrent runs) is the most any parallel vidkp
(Ray workers, segments) can reach here; it is below N when the virtual cores share physical
resources. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.segment_bench import long_video

JOB = ("import sys, cv2, torch, vidkp; torch.set_num_threads(1); cv2.setNumThreads(1); "
       "s = vidkp.run(sys.argv[1], sys.argv[2], workers=0, segment_seconds=0); assert s.ok == 1")


def concurrent(video: Path, n: int, tmp: Path) -> float:
    """Wall seconds for `n` copies of the serial job started together."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", JOB, str(video), str(tmp / f"out{n}_{i}_{time.time_ns()}")])
             for i in range(n)]
    if any(p.wait() for p in procs):
        raise SystemExit("a job failed")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "vidkp-bench")
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    video = long_video(a.cache, a.minutes, 10.0, (320, 180))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for r in range(a.repeats):  # alternate, so drift in machine load hits both alike
            alone = concurrent(video, 1, Path(d))
            together = concurrent(video, a.processes, Path(d))
            rows.append((r + 1, alone, together, a.processes * alone / together))
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the end; video {video.name}")
    print(f"| repeat | 1 process alone (s) | {a.processes} processes at once (s) | speed-up (ideal {a.processes}x) |")
    print("| --- | --- | --- | --- |")
    for r, alone, together, k in rows:
        print(f"| {r} | {alone:.1f} | {together:.1f} | {k:.2f}x |")


if __name__ == "__main__":
    main()
