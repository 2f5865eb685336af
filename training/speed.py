"""Timing of the landmark stage (crop + forward + map back), single thread."""
from __future__ import annotations

import time

import numpy as np
import torch

from vidkp.landmarks import STILL_JITTER, LandmarkModel

AVERAGING = {"none": (False, 0.0), "mirror": (True, 0.0), "mirror+jitter": (True, STILL_JITTER)}
"""Test-time averaging settings by name: (mirror, jitter) of `LandmarkModel.predict`; video frames
use none, still images mirror+jitter."""


def ms_per_face(model: LandmarkModel, image: np.ndarray, box: np.ndarray, batch: int, repeats: int = 50,
                threads: int = 1, mirror: bool = False, jitter: float = 0.0, refine: bool = True) -> float:
    """Median over `repeats` of the wall time of `model.predict` on `batch` copies of `box`, per face
    (`mirror`, `jitter`: with test-time averaging; `refine`: with the refinement stage; see
    `LandmarkModel.predict`). An onnx-backend model
    must have been loaded with `threads` threads: its thread count is fixed at load."""
    if model.threads is not None and model.threads != threads:
        raise ValueError(f"model runs on {model.threads} threads (fixed at load), asked to time {threads}")
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        boxes = np.repeat(np.asarray(box, np.float32).reshape(1, 4), batch, axis=0)
        for _ in range(5):
            model.predict(image, boxes, mirror=mirror, jitter=jitter, refine=refine)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            model.predict(image, boxes, mirror=mirror, jitter=jitter, refine=refine)
            times.append(time.perf_counter() - t)
        return float(np.median(times) * 1000.0 / batch)
    finally:
        torch.set_num_threads(old)
