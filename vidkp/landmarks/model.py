"""The landmark network at run time: crops faces (the geometry training uses), runs the network
in ONNX Runtime, maps the points back to image pixels. No torch: the ONNX graph that `training`
exports ships beside the safetensors weights, whose metadata (crop, calibrations) it reads.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np
from safetensors import safe_open

from vidkp.errors import ModelError
from vidkp.faces import N_POINTS
from vidkp.landmarks.crop import CropSpec, apply_matrix, box_matrix, invert, to_gray, to_tensor_batch, warp
from vidkp.landmarks.patches import PatchSpec
from vidkp.landmarks.refine import Refiner, ShapeGain, part_paths
from vidkp.landmarks.runtime import OnnxNetwork, onnx_path
from vidkp.landmarks.shape import MIRROR_PERM, BoxRelation, box_from_landmarks

DEFAULT_WEIGHTS = "landmarks_default.safetensors"

STILL_JITTER = 0.08
"""Jitter averaging of still images (`LandmarkModel.predict`): crops moved by 8% of their side
(chosen on validation people; models/MODEL_CARD.md)."""

JITTER_OFFSETS = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)], np.float32)
"""Directions (right, down) of the five crops of jitter averaging, in units of `jitter` x box side."""

MAX_BATCH = 32
"""Most crops per network call: a photo of many faces (ten crops each with jitter and mirror) is
run in several calls, so the network's buffers stay small."""

MAX_SHIFT_ERROR = 0.08
"""Shift-test limit of a model whose weights do not carry their own (metadata `max_shift_error`)."""


def default_weights_path(name: str = DEFAULT_WEIGHTS) -> Path:
    """Path of shipped weights: packaged as `vidkp._models` when installed, `models/` in a checkout."""
    try:
        return Path(str(resources.files("vidkp._models").joinpath(name)))
    except ModuleNotFoundError:  # imported from a source tree that shadows the installed package
        return Path(__file__).resolve().parents[2] / "models" / name


def read_metadata(path: str | Path) -> dict[str, str]:
    """Checkpoint metadata: arch, arch_kwargs, crop (CropSpec fields), version, calibrations."""
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    if "arch" not in meta or "crop" not in meta:
        raise ModelError(f"expected 'arch' and 'crop' in the metadata of {path}, got {sorted(meta)}")
    return meta


def load_refiner(weights: str | Path, meta: dict[str, str], threads: int | None = None) -> Refiner | None:
    """The refinement stage of a first-stage checkpoint whose metadata `meta` lists its parts
    (`vidkp.landmarks.refine.part_paths`), each run from its ONNX graph in ONNX Runtime on `threads`
    threads with the patch of its own metadata (`patch`), its `ShapeGain` (`gain`) and its blend
    weight of the first stage's points (`blend`, a number), each when present; None when no parts
    are listed."""
    specs, networks, gains, blends = {}, {}, {}, {}
    for name, path in part_paths(weights, meta).items():
        if not path.is_file():
            raise ModelError(f"refinement weights not found at {path}")
        part = read_metadata(path)
        if "patch" not in part:
            raise ModelError(f"expected 'patch' in the metadata of {path}, got {sorted(part)}")
        specs[name] = PatchSpec(**json.loads(part["patch"]))
        networks[name] = OnnxNetwork(onnx_path(path), threads)
        if "gain" in part:
            gains[name] = ShapeGain.from_json(part["gain"])
        if "blend" in part:
            blends[name] = float(part["blend"])
    return Refiner(networks, specs, gains, blends) if networks else None


class PointNetwork(Protocol):
    """A keypoint network: crops (n, 1, S, S) float32 in [0, 1] -> outputs (n, 136) or (n, 137):
    68 (x, y) pairs in crop sides around the crop centre, then an optional face/no-face logit."""

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


class LandmarkModel:
    """A trained keypoint network plus the crop it expects and its calibrations.

    `weights`: a `.safetensors` checkpoint (None: the shipped model); its metadata gives the crop
    and calibrations, and the network runs from the ONNX graph beside it (`<stem>.onnx`, written by
    `python -m training.export`) in ONNX Runtime on `threads` threads (None: ONNX Runtime's
    default). `network` replaces that graph with any `PointNetwork` (training passes a PyTorch one).
    When the metadata names refinement parts (`refine`), their networks re-place the eye and mouth
    points (`vidkp.landmarks.refine`); `refiner` replaces them with any `Refiner` (for example one
    of PyTorch networks);
    `refine=False` leaves the stage out (first-stage points, faster).
    """

    def __init__(self, weights: str | Path | None = None, threads: int | None = None,
                 network: PointNetwork | None = None, refiner: Refiner | None = None, refine: bool = True) -> None:
        path = Path(weights) if weights else default_weights_path()
        if not path.is_file():
            raise ModelError(f"model weights not found at {path}")
        meta = read_metadata(path)
        self.path = path
        self.arch = meta["arch"]
        self.version = meta.get("version", "unknown")
        self.spec = CropSpec(**json.loads(meta["crop"]))
        self.network: PointNetwork = network or OnnxNetwork(onnx_path(path), threads)
        self.refiner: Refiner | None = (refiner or load_refiner(path, meta, threads)) if refine else None
        """The refinement stage (None: the first stage's points are final)."""
        self.threads = threads
        """Threads of the ONNX Runtime session (None: its default; unused with `network`)."""
        probe = self.network(np.zeros((1, 1, self.spec.size, self.spec.size), np.float32))
        self.has_score = probe.shape[1] > 2 * N_POINTS
        """Whether the network outputs a face/no-face logit after the points (else scores are 1)."""
        rel = meta.get("box_relation")
        self.box_relation: BoxRelation | None = BoxRelation.from_json(rel) if rel else None
        self.max_shift_error = float(meta.get("max_shift_error", MAX_SHIFT_ERROR))
        """Shift-test limit calibrated with these weights (`training.shift_limit`), else the default."""
        self.label_x_offset = float(meta.get("label_x_offset", 0.0))
        """Image pixels that `predict` adds to every x of single-pass points: how far right of them
        the training labels sit on people the network never saw (`training.label_offset`). A
        network trained on crops flipped left-right cannot learn a left-right offset of the labels'
        pixel convention; adding it puts the points in the labels' convention. 0 without metadata."""
        self.label_x_offset_mirror = float(meta.get("label_x_offset_mirror", self.label_x_offset))
        """The same for mirror-averaged points, which lose any left-right offset the network learnt."""

    def box_from_landmarks(self, kps: np.ndarray) -> np.ndarray:
        """Haar-like boxes (n, 4) framing points (n, 68, 2), e.g. to crop a face from its previous frame."""
        if self.box_relation is None:
            raise ModelError(f"{self.path} has no fitted box relation (metadata 'box_relation')")
        return box_from_landmarks(kps, self.box_relation)

    def crops(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Gray crops (n, S, S) uint8 and their image->crop matrices (n, 2, 3)."""
        angles = np.zeros(len(boxes)) if angles is None else angles
        mats = np.stack([box_matrix(b, self.spec, a) for b, a in zip(boxes, angles)])
        # warp first, then gray (as training does): cheaper than converting a whole frame
        crops = [warp(image, m, self.spec.size) for m in mats]
        crops = np.stack([to_gray(c) for c in crops] if self.spec.gray else crops)
        return crops, mats

    def forward(self, crops: np.ndarray, mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Crops (n, S, S) -> points in crop pixels (n, 68, 2) and face scores (n,) in [0, 1].

        `mirror`: also predict each crop mirrored left-right and average every point with its
        mirrored twin (flip test-time averaging: twice the network work, more accurate points);
        the scores stay those of the crops as given."""
        n = len(crops)
        batch = list(crops) + ([c[:, ::-1] for c in crops] if mirror else [])
        out = np.concatenate([self.network(to_tensor_batch(batch[i:i + MAX_BATCH]))
                              for i in range(0, len(batch), MAX_BATCH)])
        pts = (out[:, : 2 * N_POINTS].reshape(-1, N_POINTS, 2) + 0.5) * self.spec.size
        if mirror:
            twin = pts[n:, MIRROR_PERM]
            twin[..., 0] = self.spec.size - 1 - twin[..., 0]  # pixel centres: x -> S - 1 - x
            pts = (pts[:n] + twin) / 2
        out = out[:n]
        scores = 1.0 / (1.0 + np.exp(-out[:, 2 * N_POINTS])) if self.has_score else np.ones(len(out), np.float32)
        return pts, scores.astype(np.float32)

    def refine(self, image: np.ndarray, kps: np.ndarray, mirror: bool = False) -> np.ndarray:
        """Points (n, 68, 2) of `predict(..., refine=False)` with the refinement stage applied
        (`mirror`: mouth flip averaging); unchanged without one."""
        if self.refiner is None:
            return np.asarray(kps, np.float32)
        dx = self.label_x_offset_mirror if mirror else self.label_x_offset
        out = self.refiner(image, kps - [dx, 0.0], mirror)
        out[..., 0] += dx
        return out

    def predict(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None,
                mirror: bool = False, jitter: float = 0.0, refine: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints (n, 68, 2) in image pixels and face scores (n,) for boxes (n, 4) = x, y, w, h
        (`mirror`: flip test-time averaging, see `forward`). `jitter` > 0: jitter averaging, each
        face is also predicted from its box moved by `jitter` of its side right, left, down and
        up, and the five predictions are averaged in image pixels (five times the network work;
        the scores stay those of the boxes as given). With `refine` and a refinement stage, the eye
        and mouth points are then re-placed (`refine`). Every x gets `label_x_offset` (single
        pass) or `label_x_offset_mirror` (mirror-averaged)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        n = len(boxes)
        if n == 0:
            return np.zeros((0, N_POINTS, 2), np.float32), np.zeros(0, np.float32)
        angles = np.zeros(n) if angles is None else np.asarray(angles, np.float64).reshape(n)
        offsets = JITTER_OFFSETS if jitter else JITTER_OFFSETS[:1]
        moved = np.tile(boxes, (len(offsets), 1))  # offset-major: every face for offset 0, then 1, ...
        moved[:, :2] += jitter * np.repeat(offsets, n, axis=0) * moved[:, 2:]
        crops, mats = self.crops(image, moved, np.tile(angles, len(offsets)))
        pts, scores = self.forward(crops, mirror)
        out = np.stack([apply_matrix(p, invert(m)) for p, m in zip(pts, mats)])
        out = out.reshape(len(offsets), n, N_POINTS, 2).mean(axis=0)
        if refine and self.refiner is not None:
            out = self.refiner(image, out, mirror)
        out[..., 0] += self.label_x_offset_mirror if mirror else self.label_x_offset
        return out.astype(np.float32), scores[:n]
