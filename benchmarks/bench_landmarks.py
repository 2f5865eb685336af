"""Landmark-stage speed: ms per face (crop + forward + map back + refinement), `LandmarkModel.predict`.

    python -m benchmarks.bench_landmarks [--weights W ...] [--threads 1] [--batches 1,32] [--refine on,off]
        [--backends onnx,torch --rounds 5] [--averaging none,mirror,mirror+jitter]

Times the shipped default weights unless --weights is given; the image content does not
matter for timing, so a synthetic 640x480 frame with a 200 px face box is used.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from training.speed import AVERAGING, ms_per_face
from training import baselines, nets  # noqa: F401 - baselines registers the write-ups' nets
from vidkp.landmarks import default_weights_path, read_metadata
from vidkp.landmarks.refine import part_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", action="append")
    ap.add_argument("--threads", default="1",
                    help="comma list of thread counts (torch's, and the onnx backend's, fixed when a model loads)")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--backends", default="onnx",
                    help=f"comma list of backends to compare ({', '.join(nets.BACKENDS)}; onnx is the default of "
                         "LandmarkModel, torch runs eager PyTorch with channels-last weights)")
    ap.add_argument("--averaging", default="none",
                    help=f"comma list of test-time averaging settings ({', '.join(AVERAGING)}): none is one "
                         "pass, as video frames; mirror+jitter is that of still images")
    ap.add_argument("--refine", default="on",
                    help="comma list of on,off: with and without the refinement stage (eyes and mouth; off: "
                         "the first stage alone)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure every row this many times, interleaved, and print the median and range")
    a = ap.parse_args()
    unknown = set(a.averaging.split(",")) - set(AVERAGING)
    if unknown:
        ap.error(f"unknown --averaging {sorted(unknown)}; known: {', '.join(AVERAGING)}")
    if set(a.refine.split(",")) - {"on", "off"}:
        ap.error(f"--refine: expected a comma list of on, off; got {a.refine!r}")
    unknown = set(a.backends.split(",")) - set(nets.BACKENDS)
    if unknown:
        ap.error(f"unknown --backends {sorted(unknown)}; known: {', '.join(nets.BACKENDS)}")
    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    box = np.array([220.0, 140.0, 200.0, 200.0])
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads available")
    rows: dict[tuple, list[float]] = {}
    models = {}  # an onnx model's threads are fixed at load: one model per thread count
    for w in a.weights or [str(default_weights_path())]:
        for backend in a.backends.split(","):
            for t in (int(v) for v in a.threads.split(",")):
                models[(w, backend, t)] = nets.landmark_model(w, backend, threads=t)
    for _ in range(a.rounds):
        for (w, backend, t), model in models.items():
            for refine in a.refine.split(","):
                for averaging in a.averaging.split(","):
                    mirror, jitter = AVERAGING[averaging]
                    for b in (int(v) for v in a.batches.split(",")):
                        ms = ms_per_face(model, img, box, b, repeats=max(5, a.repeats // b), threads=t,
                                         mirror=mirror, jitter=jitter, refine=refine == "on")
                        rows.setdefault((w, backend, refine, averaging, t, b), []).append(ms)
    print("| file | model | params | input | refinement | backend | averaging | threads | batch | ms/face | range |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (w, backend, refine, averaging, t, b), ms in rows.items():
        model = models[(w, backend, t)]
        parts = part_paths(w, read_metadata(w)) if refine == "on" else {}
        params = sum(p.numel() for f in [w, *parts.values()] for p in nets.load(f).parameters())
        stage = " + ".join(f"{n} {model.refiner.specs[n].size} px" for n in parts) or "none"
        print(f"| {w} | {model.arch} | {params / 1e6:.2f} M | {model.spec.size} px | {stage} | {backend} | "
              f"{averaging} | {t} | {b} | {np.median(ms):.2f} | {min(ms):.2f}-{max(ms):.2f} |")


if __name__ == "__main__":
    main()
