"""Memory of `vidkp run` on many small stills: peak RSS of the driver and of each Ray worker, and
the per-input cost, for 100 vs 10,000 inputs (64x64 PNGs).

    python -m benchmarks.memory_bench [--counts 100 10000] [--workers 2] [--weights W]

Each count runs in a fresh driver process (so its peak RSS is its own); a thread there samples
the kernel's high-water mark (VmHWM) of every `ray::PipelineWorker` process of its Ray. Prints a
Markdown table (paste into benchmarks/RESULTS.md with the machine and date).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np


def make_stills(d: Path, n: int, size: int = 64) -> Path:
    """`n` tiny noise PNGs in `d` (no faces: the per-input overhead is what is measured)."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        cv2.imwrite(str(d / f"s{i:05d}.png"), rng.integers(0, 255, (size, size, 3), np.uint8))
    return d


def _hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _worker_pids() -> list[int]:
    """`ray::PipelineWorker` processes descended from this process (not other people's Ray)."""
    parent: dict[int, int] = {}
    workers = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                parent[int(p.name)] = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if (p / "cmdline").read_bytes().startswith(b"ray::PipelineWorker"):
                    workers.append(int(p.name))
            except (OSError, IndexError, ValueError):
                continue
    me, found = os.getpid(), []
    for pid in workers:
        up = pid
        while up > 1 and up != me:
            up = parent.get(up, 0)
        if up == me:
            found.append(pid)
    return found


def child(stills: Path, out: Path, workers: int, weights: str | None) -> dict[str, float]:
    """One measured run in this process; returns its figures."""
    import vidkp
    from vidkp.batch.workers import init_local_ray

    init_local_ray(workers)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peaks: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid in _worker_pids():
                hwm = _hwm_mb(pid)
                if hwm is not None:
                    peaks[pid] = max(peaks.get(pid, 0.0), hwm)
            stop.wait(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    s = vidkp.run([str(stills)], out, workers=workers, weights=weights)
    dt = time.perf_counter() - t0
    stop.set()
    t.join()
    return {"inputs": s.inputs, "ok": s.ok, "seconds": dt, "driver_before_mb": rss_before,
            "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_mb": max(peaks.values(), default=0.0), "workers_seen": len(peaks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", type=int, nargs="+", default=[100, 10000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--child", nargs=2, metavar=("STILLS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args.workers, args.weights)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.counts:
            stills = make_stills(Path(tmp) / f"in{n}", n)
            cmd = [sys.executable, "-m", "benchmarks.memory_bench", "--workers", str(args.workers),
                   "--child", str(stills), str(Path(tmp) / f"out{n}")]
            if args.weights:
                cmd += ["--weights", args.weights]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
            if proc.returncode != 0:
                sys.exit(f"run with {n} inputs failed:\n{proc.stderr[-3000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            assert r["ok"] == n, r
            rows.append(r)
    print(f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the end; {args.workers} Ray workers; 64x64 PNG stills")
    print("| inputs | seconds | inputs/s | ms per input | driver RSS before run (MB) | driver peak RSS (MB) "
          "| peak RSS per worker (MB) |\n| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['inputs']} | {r['seconds']:.1f} | {r['inputs'] / r['seconds']:.1f} | "
              f"{1000 * r['seconds'] / r['inputs']:.1f} | {r['driver_before_mb']:.0f} | {r['driver_peak_mb']:.0f} | "
              f"{r['worker_peak_mb']:.0f} ({r['workers_seen']} workers) |")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        growth = (b["driver_peak_mb"] - a["driver_peak_mb"]) / (b["inputs"] - a["inputs"]) * 1024
        print(f"\ndriver peak growth: {growth:.1f} KB per extra input")


if __name__ == "__main__":
    main()
