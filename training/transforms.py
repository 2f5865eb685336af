"""Augmentation where keypoints follow the image, producing crops exactly as inference makes them.

A positive sample: a Haar-like box is synthesised from the ground-truth points with the detector's
fitted jitter (`vidkp.landmarks.shape.BoxRelation`), the crop matrix comes from `vidkp.landmarks.crop.box_matrix`
(the inference code path), composed with random extra scale, rotation and horizontal flip, and
one `warpAffine` takes the image to the crop; points go through the same matrix. Photometric
changes (colour, brightness, contrast, gamma, blur, low resolution, noise, JPEG) follow.
A negative sample is a crop that holds no properly framed face (random background patch, or a
box shifted or scaled far off the face), used to train the face/no-face score.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidkp.landmarks.crop import CropSpec, apply_matrix, box_matrix, to_bgr, to_gray
from vidkp.landmarks.shape import MIRROR_PERM, BoxRelation, box_from_landmarks


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random changes (all applied per sample)."""

    jitter: float = 1.5          # Haar box jitter, in units of its fitted standard deviations
    fine: float = 0.0            # probability of a sample with `fine_jitter` instead (a crop from points)
    fine_jitter: float = 0.3     # box jitter of those samples, in fitted standard deviations
    scale: float = 0.08          # extra log-scale sd
    rotate: float = 12.0         # rotation sd in degrees (clipped at 3 sd)
    flip: float = 0.5            # probability of a horizontal flip
    colour: float = 0.15         # per-channel gain sd
    brightness: float = 0.25     # additive, in units of 255 * this (uniform +-)
    contrast: float = 0.3        # multiplicative, 1 +- this
    gamma: float = 0.3           # log-gamma sd
    blur: float = 0.3            # probability of a Gaussian blur
    lowres: float = 0.2          # probability of down- then up-sampling
    noise: float = 0.3           # probability of Gaussian noise
    jpeg: float = 0.3            # probability of JPEG re-encoding
    negatives: float = 0.2       # fraction of negative (no face) samples
    erase: float = 0.0           # probability of a random rectangle painted over (occlusion; 0: no draw)
    desaturate: float = 0.2      # colour crops only: probability of gray in all three channels


NO_AUGMENT = AugmentConfig(jitter=0.0, scale=0.0, rotate=0.0, flip=0.0, colour=0.0, brightness=0.0,
                           contrast=0.0, gamma=0.0, blur=0.0, lowres=0.0, noise=0.0, jpeg=0.0, negatives=0.0,
                           desaturate=0.0)


def flip_matrix(size: int) -> np.ndarray:
    """3x3 matrix mirroring crop pixel x (pixel centres: x -> size - 1 - x)."""
    return np.array([[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def _h(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def scale_about_center(size: int, k: float) -> np.ndarray:
    """3x3 matrix zooming a crop by `k` about its centre (k > 1: the face gets larger)."""
    c = size / 2.0
    return np.array([[k, 0.0, c * (1 - k)], [0.0, k, c * (1 - k)], [0.0, 0.0, 1.0]])


def geometric(kps: np.ndarray, rel: BoxRelation, spec: CropSpec, rng: np.random.Generator,
              cfg: AugmentConfig) -> tuple[np.ndarray, bool]:
    """Random image->crop matrix (2x3) for a face with points `kps`, and whether it flips."""
    z = np.clip(rng.normal(size=3), -3, 3)
    fine = cfg.fine > 0 and rng.random() < cfg.fine  # framed as a crop from predicted points is
    jit = z * (cfg.fine_jitter if fine else cfg.jitter)
    box = box_from_landmarks(kps, rel, jit)[0]
    angle = float(np.clip(rng.normal(), -3, 3) * cfg.rotate)
    m = _h(box_matrix(box, spec, angle))
    m = scale_about_center(spec.size, float(np.exp(np.clip(rng.normal(), -3, 3) * cfg.scale))) @ m
    flip = bool(rng.random() < cfg.flip)
    if flip:
        m = flip_matrix(spec.size) @ m
    return m[:2], flip


def target_points(kps: np.ndarray, matrix: np.ndarray, flip: bool, size: int) -> np.ndarray:
    """Ground-truth points mapped into the crop, in the network's output units (crop side, centred)."""
    pts = apply_matrix(kps, matrix)
    if flip:
        pts = pts[MIRROR_PERM]
    return (pts / size - 0.5).astype(np.float32)


def photometric(crop: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig, colour: bool = False) -> np.ndarray:
    """Colour/brightness/contrast/gamma on a BGR crop, then gray (or with `colour` BGR, made gray in
    all three channels with probability `cfg.desaturate`), blur, low-res, noise, JPEG."""
    x = crop.astype(np.float32)
    if crop.ndim == 3 and cfg.colour > 0:
        x *= np.exp(rng.normal(size=3) * cfg.colour).astype(np.float32)
    x8 = np.clip(x, 0, 255).astype(np.uint8)
    g = (to_bgr(x8) if colour else to_gray(x8)).astype(np.float32) / 255.0
    if cfg.contrast > 0 or cfg.brightness > 0:
        mean = float(g.mean())
        g = (g - mean) * (1 + rng.uniform(-cfg.contrast, cfg.contrast)) + mean
        g = g + rng.uniform(-cfg.brightness, cfg.brightness)
    if cfg.gamma > 0:
        g = np.clip(g, 0, 1) ** float(np.exp(rng.normal() * cfg.gamma))
    g = np.clip(g * 255.0, 0, 255).astype(np.uint8)
    s = g.shape[0]
    if rng.random() < cfg.blur:
        g = cv2.GaussianBlur(g, (0, 0), float(rng.uniform(0.4, 1.5)))
    if rng.random() < cfg.lowres:
        k = float(rng.uniform(0.3, 0.7))
        small = cv2.resize(g, (max(8, round(s * k)),) * 2, interpolation=cv2.INTER_AREA)
        g = cv2.resize(small, (s, s), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.noise:
        g = np.clip(g + rng.normal(scale=rng.uniform(2, 12), size=g.shape), 0, 255).astype(np.uint8)
    if cfg.erase > 0 and rng.random() < cfg.erase:  # 0 draws nothing: the recipe's streams stay as they were
        w, h = (int(v) for v in rng.uniform(0.15, 0.4, 2) * s)
        x0, y0 = (int(v) for v in rng.integers(0, s - np.array([w, h]) + 1))
        fill = rng.integers(0, 256) if rng.random() < 0.5 else rng.integers(0, 256, (h, w, *g.shape[2:]))
        g[y0:y0 + h, x0:x0 + w] = fill
    if rng.random() < cfg.jpeg:
        ok, buf = cv2.imencode(".jpg", g, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 90))])
        g = cv2.imdecode(buf, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    if colour and rng.random() < cfg.desaturate:
        g = to_bgr(to_gray(g))
    return g


def positive(image: np.ndarray, kps: np.ndarray, rel: BoxRelation, spec: CropSpec,
             rng: np.random.Generator, cfg: AugmentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Augmented gray crop (S, S) uint8 and target points (68, 2) in output units."""
    m, flip = geometric(kps, rel, spec, rng, cfg)
    crop = cv2.warpAffine(image, m, (spec.size, spec.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return photometric(crop, rng, cfg), target_points(kps, m, flip, spec.size)


def negative_box(image_shape: tuple[int, ...], kps: np.ndarray, rel: BoxRelation,
                 rng: np.random.Generator) -> np.ndarray:
    """A box (4,) that does not frame the face: shifted far off it, far too small/large, or elsewhere."""
    face = box_from_landmarks(kps, rel)[0]
    side = face[2]
    kind = rng.integers(3)
    if kind == 0:  # shifted by 0.6-1.5 sides in a random direction, mildly rescaled
        a, d = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.5) * side
        s2 = side * np.exp(rng.uniform(-0.5, 0.5))
        c = face[:2] + side / 2 + d * np.array([np.cos(a), np.sin(a)])
    elif kind == 1:  # far too small (a part of the face) or far too large
        s2 = side * (rng.uniform(0.25, 0.45) if rng.random() < 0.5 else rng.uniform(2.8, 4.0))
        c = face[:2] + side / 2 + rng.uniform(-0.3, 0.3, 2) * side
    else:  # anywhere in the image, small enough to miss most of the face
        h, w = image_shape[:2]
        s2 = rng.uniform(0.15, 0.5) * min(h, w)
        c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        if np.all(np.abs(c - (face[:2] + side / 2)) < 0.5 * side):
            c = c + np.sign(rng.uniform(-1, 1, 2)) * side
    return np.array([c[0] - s2 / 2, c[1] - s2 / 2, s2, s2], np.float32)


def clutter(size: int, rng: np.random.Generator) -> np.ndarray:
    """A synthetic non-face BGR crop: smooth random field plus random lines, boxes and blobs."""
    low = rng.integers(0, 256, (int(rng.integers(2, 17)),) * 2 + (3,)).astype(np.uint8)
    img = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC if rng.random() < 0.5 else cv2.INTER_NEAREST)
    for _ in range(int(rng.integers(0, 8))):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        p, q = rng.integers(0, size, 2), rng.integers(0, size, 2)
        kind = rng.integers(3)
        if kind == 0:
            cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), colour, int(rng.integers(1, 6)))
        elif kind == 1:
            cv2.rectangle(img, tuple(int(v) for v in p), tuple(int(v) for v in q), colour, -1)
        else:
            cv2.circle(img, tuple(int(v) for v in p), int(rng.integers(2, size // 3)), colour, -1)
    return img


def negative(image: np.ndarray, box: np.ndarray, spec: CropSpec, rng: np.random.Generator,
             cfg: AugmentConfig, angle: float | None = None) -> np.ndarray:
    """Augmented gray crop (S, S) of a non-face box (rotated by `angle` degrees if given)."""
    if angle is None:
        angle = float(np.clip(rng.normal(), -3, 3) * cfg.rotate)
    m = box_matrix(box, spec, angle)
    crop = cv2.warpAffine(image, m, (spec.size, spec.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < cfg.flip:
        crop = crop[:, ::-1].copy()
    return photometric(crop, rng, cfg)
