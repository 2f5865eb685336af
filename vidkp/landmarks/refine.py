"""The refinement stage: small networks re-place the eye and mouth points from patches of the image.

The first stage sees the whole face at a coarse scale and keeps eyelids and lips close to a mean
shape. Each part network sees one eye or the mouth, framed by the first stage's points
(`vidkp.landmarks.patches`), and outputs that part's points in patch units; they replace the first
stage's. One network serves both eyes (the image-right eye is mirrored).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidkp.landmarks.crop import to_tensor_batch
from vidkp.landmarks.patches import (LEFT_EYE, MOUTH, MOUTH_MIRRORED, RIGHT_EYE, PatchSpec, cut, eye_line,
                                     frame_matrices, to_image)

MAX_BATCH = 64
"""Most patches per network call (a photo of many faces is run in several calls)."""


@dataclass(frozen=True)
class Part:
    """A refined part: its points in the network's output order, and those of its mirrored twin
    (the other eye, or the mouth's own mirror image) in the same order."""

    points: np.ndarray
    twin: np.ndarray
    twin_is_other: bool
    """True: the twin is a second instance (the other eye), refined too; False: it is the same part
    seen mirrored, used only for flip averaging."""


PARTS = {"eye": Part(LEFT_EYE, RIGHT_EYE, True), "mouth": Part(MOUTH, MOUTH_MIRRORED, False)}
"""The parts a refinement stage may hold, by name."""


class Refiner:
    """Part networks (`PointNetwork`-like: patches (n, 1, S, S) float32 in [0, 1] -> (n, 2k) patch units)
    with their patch specs, by part name (`PARTS`)."""

    def __init__(self, networks: dict, specs: dict[str, PatchSpec]) -> None:
        unknown = set(networks) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown refinement parts {sorted(unknown)}; known: {sorted(PARTS)}")
        self.networks, self.specs = networks, specs

    def _run(self, name: str, patches: np.ndarray) -> np.ndarray:
        net, k = self.networks[name], len(PARTS[name].points)
        out = [net(to_tensor_batch(patches[i:i + MAX_BATCH])) for i in range(0, len(patches), MAX_BATCH)]
        return np.concatenate(out).reshape(-1, k, 2)

    def __call__(self, image: np.ndarray, kps: np.ndarray, mirror: bool = False) -> np.ndarray:
        """Points (n, 68, 2) in image pixels with each part's points re-placed from patches of `image`,
        every patch framed by the given points `kps` (n, 68, 2). `mirror`: the mouth is also refined
        mirrored and the two averaged."""
        first = np.asarray(kps, np.float64).reshape(-1, 68, 2)
        out = first.copy()
        n = len(first)
        dists, angles = eye_line(first)
        for name, part in PARTS.items():
            if name not in self.networks or n == 0:
                continue
            spec = self.specs[name]
            both = part.twin_is_other or mirror
            mats = frame_matrices(first[:, part.points].mean(axis=1), dists, angles, spec)
            if both:
                twin = frame_matrices(first[:, part.twin].mean(axis=1), dists, angles, spec, mirror=True)
                mats = np.concatenate([mats, twin])
            pts = to_image(self._run(name, cut(image, mats, spec.size)), mats, spec.size)
            out[:, part.points] = pts[:n]
            if part.twin_is_other:
                out[:, part.twin] = pts[n:]
            elif mirror:
                out[:, part.twin] = (out[:, part.twin] + pts[n:]) / 2
        return out.astype(np.float32)


def part_path(weights: str | Path, name: str) -> Path:
    """Where the `name` part of a first-stage checkpoint lives: `<stem>.<name>.safetensors` beside it
    (its ONNX graph: `<stem>.<name>.onnx`)."""
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}.{name}.safetensors")


def part_paths(weights: str | Path, meta: dict[str, str]) -> dict[str, Path]:
    """The part checkpoints of a first stage whose metadata `refine` lists part names (JSON list),
    by part; empty without that key."""
    return {name: part_path(weights, name) for name in json.loads(meta.get("refine", "[]"))}

