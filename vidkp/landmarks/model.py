"""68-point landmarks: crop faces (the same geometry training uses), batched forward, map back.

`LandmarkModel` runs a trained network on given boxes; `FaceLandmarker` is the public API that
adds Haar detection. `vidkp run` uses exactly these classes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from vidkp import nets
from vidkp.candidates import MAX_SHIFT_ERROR, ShiftLimit, check_jitter, find_faces
from vidkp.crop import CropSpec, apply_matrix, box_matrix, invert, to_gray, to_tensor_batch, warp
from vidkp.detect import HaarDetector, fallback_detector, still_detector
from vidkp.errors import ModelError
from vidkp.faces import N_POINTS, Faces
from vidkp.runtime import OnnxRunner
from vidkp.shape import MIRROR_PERM, BoxRelation, box_from_landmarks

DEFAULT_WEIGHTS = "landmarks_default.safetensors"
BACKENDS = ("onnx", "torch")

STILL_JITTER = 0.08
"""Jitter averaging of still images (`LandmarkModel.predict`): crops moved by 8% of their side.
Chosen on the validation people (two models trained without them, refined crops, mirror-averaged):
NME 5.48 -> 5.39% and 5.56 -> 5.45%; 3% and 5% gave 5.41/5.50% and 5.40/5.46%."""

JITTER_OFFSETS = np.array([(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)], np.float32)
"""Directions (right, down) of the five crops of jitter averaging, in units of `jitter` x box side."""


def default_weights_path(name: str = DEFAULT_WEIGHTS) -> Path:
    """Path of shipped weights: packaged as `vidkp._models` when installed, `models/` in a checkout."""
    try:
        return Path(str(resources.files("vidkp._models").joinpath(name)))
    except ModuleNotFoundError:  # imported from a source tree that shadows the installed package
        return Path(__file__).resolve().parent.parent / "models" / name


def read_metadata(path: str | Path) -> dict:
    """Checkpoint metadata: arch, arch_kwargs, crop (CropSpec fields), version, ..."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "arch" not in meta or "crop" not in meta:
        raise ModelError(f"expected 'arch' and 'crop' in the metadata of {path}, got {sorted(meta)}")
    return meta


class LandmarkModel:
    """A trained keypoint network plus the crop it expects. Loading uses safetensors (no pickle)."""

    def __init__(self, weights: str | Path | None = None, device: str = "cpu", backend: str = "onnx",
                 threads: int | None = None, memory_format: torch.memory_format = torch.channels_last) -> None:
        """`backend`: "onnx" (default, CPU only) runs the network with ONNX Runtime
        (`vidkp.runtime`) on `threads` threads (None: as many as torch has when the model loads;
        fixed for the model's life); "torch" runs it
        with PyTorch on `device`. Outputs of the two differ by ~1e-5 crop units; ONNX Runtime is
        2.5-3x faster at batch 1 on one thread (benchmarks/bench_landmarks.py --backends). `memory_format`
        of the PyTorch weights: channels-last (default) is faster on one CPU thread, outputs differ
        from `torch.contiguous_format` by ~1e-5. `net` is always the PyTorch module."""
        if backend not in BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
        if backend == "onnx" and device != "cpu":
            raise ModelError(f"the onnx backend runs on the CPU only; use backend='torch' for device {device!r}")
        path = Path(weights) if weights else default_weights_path()
        if not path.is_file():
            raise ModelError(f"model weights not found at {path}")
        meta = read_metadata(path)
        self.path = path
        self.arch = meta["arch"]
        self.version = meta.get("version", "unknown")
        self.spec = CropSpec(**json.loads(meta["crop"]))
        net = nets.create(self.arch, **json.loads(meta.get("arch_kwargs", "{}")))
        try:
            net.load_state_dict(load_file(str(path)))
        except RuntimeError as e:
            raise ModelError(f"weights at {path} do not fit architecture {self.arch!r}: {e}") from e
        self.net = nets.fuse_batchnorm(net.eval()).to(device, memory_format=memory_format)
        self.device = device
        self.backend = backend
        self._runner = (OnnxRunner(self.net, self.spec.size, threads or torch.get_num_threads())
                        if backend == "onnx" else None)
        self.threads = self._runner.threads if self._runner else None
        """Threads of the onnx backend; None for torch, which follows `torch.set_num_threads`."""
        self.has_score = bool(getattr(net, "has_score", False))
        rel = meta.get("box_relation")
        self.box_relation: BoxRelation | None = BoxRelation.from_json(rel) if rel else None
        self.max_shift_error = float(meta.get("max_shift_error", MAX_SHIFT_ERROR))
        """Shift-test limit calibrated with these weights (`training.score_head`), else the default."""
        self.label_x_offset = float(meta.get("label_x_offset", 0.0))
        """Image pixels that `predict` adds to every x of single-pass points: how far right of them
        the training labels sit on people the network never saw (`training.label_offset`). A
        network trained on crops flipped left-right cannot learn a left-right offset of the labels'
        pixel convention (it does learn a vertical one); adding it puts the points in the labels'
        convention on both axes. 0 without metadata."""
        self.label_x_offset_mirror = float(meta.get("label_x_offset_mirror", self.label_x_offset))
        """The same for mirror-averaged points, which lose any left-right offset the network learnt
        (a network trained without flips learns it; averaging with the mirror cancels it)."""

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

    @torch.inference_mode()
    def forward(self, crops: np.ndarray, mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Crops (n, S, S) -> points in crop pixels (n, 68, 2) and face scores (n,) in [0, 1].

        `mirror`: also predict each crop mirrored left-right and average every point with its
        mirrored twin (flip test-time averaging: twice the network work, more accurate points);
        the scores stay those of the crops as given."""
        n = len(crops)
        batch = list(crops) + ([c[:, ::-1] for c in crops] if mirror else [])
        x = to_tensor_batch(batch)
        if self._runner is not None:
            out = self._runner(x)
        else:
            out = self.net(torch.from_numpy(x).to(self.device)).float().cpu().numpy()
        pts = (out[:, : 2 * N_POINTS].reshape(-1, N_POINTS, 2) + 0.5) * self.spec.size
        if mirror:
            twin = pts[n:, MIRROR_PERM]
            twin[..., 0] = self.spec.size - 1 - twin[..., 0]  # pixel centres: x -> S - 1 - x
            pts = (pts[:n] + twin) / 2
        out = out[:n]
        scores = 1.0 / (1.0 + np.exp(-out[:, 2 * N_POINTS])) if self.has_score else np.ones(len(out), np.float32)
        return pts, scores.astype(np.float32)

    def predict(self, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None,
                mirror: bool = False, jitter: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints (n, 68, 2) in image pixels and face scores (n,) for boxes (n, 4) = x, y, w, h
        (`mirror`: flip test-time averaging, see `forward`). `jitter` > 0: jitter averaging, each
        face is also predicted from its box moved by `jitter` of its side right, left, down and
        up, and the five predictions are averaged in image pixels (five times the network work;
        the scores stay those of the boxes as given). Every x then gets `label_x_offset` (single
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
        out[..., 0] += self.label_x_offset_mirror if mirror else self.label_x_offset
        return out.astype(np.float32), scores[:n]


@dataclass(frozen=True)
class Face:
    """One face: `box` (x, y, w, h), `score` (detector or model confidence), `keypoints` (68, 2)."""

    box: np.ndarray
    score: float
    keypoints: np.ndarray


class FaceLandmarker:
    """Detect faces and predict their 68 iBUG landmarks (CPU, default weights).

    >>> lm = FaceLandmarker()
    >>> faces = lm.detect(image_bgr)   # [Face(box, score, keypoints), ...]

    `detect` searches like `vidkp run` does for a still image (`vidkp.candidates.find_faces`):
    the detector's boxes are predicted (twice: from the box, then from the points); boxes whose
    face score is below `accept_score`, or whose points move with a shifted crop (more than
    `max_shift_error`; "auto": the limit stored with the weights; None: no shift test), are
    dropped as false alarms; duplicates on one face are merged. `mirror` (default on): the final
    points are averaged with those of the mirrored crop (flip test-time averaging: each face kept
    is predicted once more, its crop and the mirrored crop in one batch of two), as `vidkp run`
    does for still images. `jitter` (default `STILL_JITTER`; 0: off): those final points are also
    averaged over crops moved by that share of their side right, left, down and up (five crops,
    each with its mirror: ten network passes per face kept). `fallback` (default on): an image in
    which no face is found is searched again with the detector at `min_neighbors=1`
    (`vidkp.detect.fallback_detector`), as `vidkp run` does for still images.
    """

    def __init__(self, weights: str | Path | None = None, min_face: int = 24,
                 detector: HaarDetector | None = None, accept_score: float = 0.5,
                 max_shift_error: ShiftLimit = "auto", mirror: bool = True, jitter: float = STILL_JITTER,
                 fallback: bool = True) -> None:
        self.model = LandmarkModel(weights)
        self.detector = detector or still_detector(min_face)
        self.fallback = fallback_detector(self.detector) if fallback else None
        self.accept_score = float(accept_score)
        self.max_shift_error = max_shift_error
        self.mirror = bool(mirror)
        self.jitter = check_jitter(jitter, "FaceLandmarker jitter")

    def search(self, image_bgr: np.ndarray) -> tuple[Faces, dict[str, float]]:
        """`detect_faces`, plus the seconds spent in the detectors ("detect") and the model ("landmarks")."""
        return find_faces(self.model, self.detector, image_bgr, self.accept_score, self.max_shift_error,
                          mirror=self.mirror, jitter=self.jitter, fallback=self.fallback)

    def detect_faces(self, image_bgr: np.ndarray) -> Faces:
        """Columnar result for one image: boxes (Haar-like, framing the points), face scores, keypoints."""
        return self.search(image_bgr)[0]

    def detect(self, image_bgr: np.ndarray) -> list[Face]:
        """Find the faces of one image and return one `Face` per face, left to right."""
        return _to_list(self.detect_faces(image_bgr))

    def landmarks(self, image_bgr: np.ndarray, boxes) -> list[Face]:
        """Predict landmarks for boxes (n, 4) = x, y, w, h that the caller already has."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        kps, scores = self.model.predict(image_bgr, boxes, mirror=self.mirror, jitter=self.jitter)
        return _to_list(Faces(boxes, scores, kps))


def _to_list(faces: Faces) -> list[Face]:
    return [Face(faces.boxes[i].copy(), float(faces.scores[i]), faces.keypoints[i].copy()) for i in range(len(faces))]
