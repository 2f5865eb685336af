"""Timing of the landmark stage (crop + forward + map back), single thread."""
from __future__ import annotations

import time

import numpy as np
import torch

from vidkp.landmarks import LandmarkModel


def ms_per_face(model: LandmarkModel, image: np.ndarray, box: np.ndarray, batch: int, repeats: int = 50,
                threads: int = 1, mirror: bool = False) -> float:
    """Median over `repeats` of the wall time of `model.predict` on `batch` copies of `box`, per face
    (`mirror`: with flip test-time averaging)."""
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        boxes = np.repeat(np.asarray(box, np.float32).reshape(1, 4), batch, axis=0)
        for _ in range(5):
            model.predict(image, boxes, mirror=mirror)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model.predict(image, boxes, mirror=mirror)
            times.append(time.perf_counter() - t)
        return float(np.median(times) * 1000.0 / batch)
    finally:
        torch.set_num_threads(old)
