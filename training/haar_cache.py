"""Run the inference Haar detector over the dataset once and cache its boxes (gitignored cache dir).

Cache: `<cache_dir>/haar_boxes.json` mapping `split/name` -> list of [x, y, w, h, score].
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from training.dataset import Samples, load_split
from vidkp.detect.haar import HaarDetector

DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache"


def detect_all(samples: Samples, detector: HaarDetector | None = None) -> dict[str, list[list[float]]]:
    """Haar boxes with scores for every image of `samples`."""
    det = detector or HaarDetector()
    out = {}
    for i in range(len(samples)):
        faces = det(samples.image(i))
        out[samples.key(i)] = [[*map(float, b), float(s)] for b, s in zip(faces.boxes, faces.scores)]
    return out


def load_or_compute(root: str | Path, cache_dir: str | Path = DEFAULT_CACHE) -> dict[str, np.ndarray]:
    """Cached Haar boxes (k, 5) per `split/name` for both upstream splits; computed if missing."""
    path = Path(cache_dir) / "haar_boxes.json"
    if path.is_file():
        raw = json.loads(path.read_text())
    else:
        raw = {}
        for split in ("training", "test"):
            raw.update(detect_all(load_split(root, split)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(raw))
    return {k: np.asarray(v, np.float32).reshape(-1, 5) for k, v in raw.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", help="facial_keypoints folder")
    ap.add_argument("--cache-dir", default=str(DEFAULT_CACHE))
    a = ap.parse_args()
    t = time.time()
    boxes = load_or_compute(a.data, a.cache_dir)
    found = sum(len(v) > 0 for v in boxes.values())
    print(f"{len(boxes)} images, {found} with >= 1 Haar box, {time.time() - t:.1f} s")


if __name__ == "__main__":
    main()
