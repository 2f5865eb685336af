"""The refinement stage: small networks re-place the eye and mouth points from patches of the image.

The first stage sees the whole face at a coarse scale and keeps eyelids and lips close to a mean
shape. Each part network sees one eye or the mouth, framed by the first stage's points
(`vidkp.landmarks.patches`), and outputs that part's points in patch units; they replace the first
stage's. One network serves both eyes (the image-right eye is mirrored). A part's blend weight w
mixes in the first stage's own points: its output becomes (1 - w) x the network's + w x the first
stage's, in patch units (the two see the face differently and their errors partly cancel). A part's
`ShapeGain`, fitted on the training people, then undoes what remains of the pull toward a mean shape.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidkp.landmarks.crop import to_tensor_batch
from vidkp.landmarks.patches import (LEFT_EYE, MOUTH, MOUTH_MIRRORED, RIGHT_EYE, PatchSpec, cut, eye_line,
                                     frame_matrices, to_image, to_patch_units)

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


@dataclass(frozen=True)
class ShapeGain:
    """Undoes a part network's pull toward a mean shape, in patch units. Each output's points (k, 2),
    less their centroid c, become c + `label_mean` + `scale` x (p - c - `pred_mean`): the mean
    centred shape is moved to the labels' (`pred_mean` / `label_mean`: what the network outputs /
    what the labels hold on the training people, each centred) and the deviations from it are
    widened by `scale` ((k, 2) per point and axis, or (2,) for all points) so that the part's
    measures spread as widely as the labels' (`training.refine.fit_gain`). Stored in a part
    checkpoint's metadata as JSON (`gain`)."""

    pred_mean: np.ndarray
    label_mean: np.ndarray
    scale: np.ndarray

    def __call__(self, units: np.ndarray) -> np.ndarray:
        """Points (n, k, 2) in patch units with the gain applied."""
        c = units.mean(axis=1, keepdims=True)
        return c + self.label_mean + np.asarray(self.scale) * (units - c - self.pred_mean)

    def to_json(self) -> str:
        return json.dumps({k: np.round(np.asarray(v, np.float64), 6).tolist()
                           for k, v in (("pred_mean", self.pred_mean), ("label_mean", self.label_mean),
                                        ("scale", self.scale))})

    @classmethod
    def from_json(cls, text: str) -> "ShapeGain":
        d = json.loads(text)
        return cls(*(np.asarray(d[k], np.float64) for k in ("pred_mean", "label_mean", "scale")))


class Refiner:
    """Part networks (`PointNetwork`-like: patches (n, 1 or 3 (`PatchSpec.colour`), S, S) float32 in
    [0, 1] -> (n, 2k) patch units) with their patch specs, optional `ShapeGain`s and optional blend
    weights (w in [0, 1], absent: 0) of the first stage's points, by part name (`PARTS`)."""

    def __init__(self, networks: dict, specs: dict[str, PatchSpec], gains: dict[str, ShapeGain] | None = None,
                 blends: dict[str, float] | None = None) -> None:
        unknown = set(networks) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown refinement parts {sorted(unknown)}; known: {sorted(PARTS)}")
        bad = {k: w for k, w in (blends or {}).items() if not 0.0 <= w <= 1.0}
        if bad:
            raise ValueError(f"blend weights must lie in [0, 1]; got {bad}")
        self.networks, self.specs = networks, specs
        self.gains, self.blends = dict(gains or {}), dict(blends or {})

    def points(self, kps: np.ndarray, name: str, both: bool) -> np.ndarray:
        """The part `name`'s points of faces (n, 68, 2), (n, k, 2) in the network's output order, then
        with `both` (n, k, 2) more of its twin, in the order of `frames`."""
        part = PARTS[name]
        return np.concatenate([kps[:, part.points], kps[:, part.twin]]) if both else kps[:, part.points]

    def frames(self, kps: np.ndarray, name: str, both: bool) -> np.ndarray:
        """Image->patch matrices of part `name` of faces (n, 68, 2): (n, 2, 3) framed by the part's
        points, then with `both` (n, 2, 3) more for its twin, mirrored."""
        spec, part = self.specs[name], PARTS[name]
        dists, angles = eye_line(kps)
        mats = frame_matrices(kps[:, part.points].mean(axis=1), dists, angles, spec)
        if both:
            twin = frame_matrices(kps[:, part.twin].mean(axis=1), dists, angles, spec, mirror=True)
            mats = np.concatenate([mats, twin])
        return mats

    def units(self, image: np.ndarray, name: str, mats: np.ndarray, first: np.ndarray, gain: bool = True
              ) -> np.ndarray:
        """Points (m, k, 2) in patch units of part `name` in the patches of `image` under `mats`
        (m, 2, 3), blended with the first stage's points `first` (m, k, 2, image pixels; `points`) by
        the part's weight, then with the part's `ShapeGain` when it has one and `gain`."""
        net, k, spec = self.networks[name], len(PARTS[name].points), self.specs[name]
        patches = cut(image, mats, spec.size, spec.colour)
        out = np.concatenate([net(to_tensor_batch(patches[i:i + MAX_BATCH]))
                              for i in range(0, len(patches), MAX_BATCH)]).reshape(-1, k, 2)
        w = self.blends.get(name, 0.0)
        if w:
            out = (1.0 - w) * out + w * to_patch_units(first, mats, spec.size)
        return self.gains[name](out) if gain and name in self.gains else out

    def __call__(self, image: np.ndarray, kps: np.ndarray, mirror: bool = False) -> np.ndarray:
        """Points (n, 68, 2) in image pixels with each part's points re-placed from patches of `image`,
        every patch framed by the given points `kps` (n, 68, 2). `mirror`: the mouth is also refined
        mirrored and the two averaged."""
        first = np.asarray(kps, np.float64).reshape(-1, 68, 2)
        out = first.copy()
        n = len(first)
        for name, part in PARTS.items():
            if name not in self.networks or n == 0:
                continue
            both = part.twin_is_other or mirror
            mats = self.frames(first, name, both)
            pts = to_image(self.units(image, name, mats, self.points(first, name, both)), mats, self.specs[name].size)
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

