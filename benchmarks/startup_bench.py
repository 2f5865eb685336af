"""Start-up of small work: `vidkp run one.jpg` against the same detection through the Python API,
each a fresh process, alternated in one run; and whether torch gets imported.

    python -m benchmarks.startup_bench [--image ../shared/data/images/obamas.jpg] [--repeats 5]

Prints one table: median and range of the wall time of each command (process start to exit),
and the ratio of the medians.
"""
from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

API = ("import sys, cv2; from vidkp import FaceLandmarker; "
       "faces = FaceLandmarker().detect(cv2.imread(sys.argv[1])); "
       "assert 'torch' not in sys.modules; print(len(faces))")


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default="../shared/data/images/obamas.jpg")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    vidkp = str(Path(sys.executable).with_name("vidkp"))
    times: dict[str, list[float]] = {"python API: FaceLandmarker().detect": [], "vidkp run one.jpg --out OUT": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.repeats):
            times["python API: FaceLandmarker().detect"].append(_timed([sys.executable, "-c", API, a.image]))
            times["vidkp run one.jpg --out OUT"].append(
                _timed([vidkp, "run", a.image, "--out", f"{tmp}/out{i}", "--quiet"]))
    print(f"image: {a.image}; {a.repeats} repeats, alternated; wall time of a fresh process")
    print("| command | median s | range s |\n| --- | --- | --- |")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f}-{max(ts):.2f} |")
    api, cli = (statistics.median(ts) for ts in times.values())
    print(f"\nvidkp run / API: {cli / api:.2f}x")


if __name__ == "__main__":
    main()
