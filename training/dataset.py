"""Reader for the Udacity facial-keypoints layout and vidkp's people-disjoint splits.

Layout: `<root>/training_frames_keypoints.csv` and `<root>/test_frames_keypoints.csv` (header row,
then `name,x0,y0,...,x67,y67`), images in `<root>/training/` and `<root>/test/`, and
`<root>/holdout_people.txt` (one `Person_Name` a line). Images may be PNG data under `.jpg` names.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

N_POINTS = 68
SPLIT_FILES = {"training": "training_frames_keypoints.csv", "test": "test_frames_keypoints.csv"}


def person_of(name: str) -> str:
    """`Person_Name_VF.jpg` -> `Person_Name`."""
    return Path(name).stem.rsplit("_", 1)[0]


def video_of(name: str) -> str:
    """`Person_Name_VF.jpg` -> `Person_Name_V` (the labelled frames F of one video V share it)."""
    return Path(name).stem[:-1]


def person_folds(names: list[str], k: int, seed: int = 0) -> list[np.ndarray]:
    """Indices (sorted) of `k` people-disjoint folds of the samples named `names`: the people
    (`person_of`) are dealt to the folds in a seeded random order, so each fold holds about 1/k of them."""
    people = sorted({person_of(n) for n in names})
    if not 1 <= k <= len(people):
        raise ValueError(f"cannot deal the people of {len(names)} samples into {k} folds")
    fold_of = {people[p]: i % k for i, p in enumerate(np.random.default_rng(seed).permutation(len(people)))}
    return [np.array([i for i, n in enumerate(names) if fold_of[person_of(n)] == j], np.int64) for j in range(k)]


def turn(kps: np.ndarray) -> np.ndarray:
    """How far each face (n, 68, 2) is turned left or right: the nose tip's offset from the jaw
    ends' midpoint along the eye line, in jaw widths (0 frontal, about +-0.5 in profile)."""
    k = np.asarray(kps, np.float64)
    u = k[:, 45] - k[:, 36]
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-9)
    mid = (k[:, 0] + k[:, 16]) / 2
    return ((k[:, 30] - mid) * u).sum(axis=1) / np.maximum(((k[:, 16] - k[:, 0]) * u).sum(axis=1), 1e-9)


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image by content (JPEG, PNG, ... whatever the extension says) as BGR uint8."""
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"could not decode image {path}")
    return img


def read_csv(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Names and keypoints (n, 68, 2) float32 from a Udacity keypoint CSV."""
    names, rows = [], []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            if not row:
                continue
            names.append(row[0])
            rows.append([float(v) for v in row[1:1 + 2 * N_POINTS]])
    return names, np.asarray(rows, np.float32).reshape(-1, N_POINTS, 2)


@dataclass
class Samples:
    """A set of labelled images: names, split ('training'/'test') of each, keypoints (n, 68, 2)."""

    root: Path
    names: list[str]
    splits: list[str]
    keypoints: np.ndarray
    images: list[np.ndarray] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def path(self, i: int) -> Path:
        return self.root / self.splits[i] / self.names[i]

    def image(self, i: int) -> np.ndarray:
        return self.images[i] if self.images is not None else read_image(self.path(i))

    def people(self) -> list[str]:
        return [person_of(n) for n in self.names]

    def key(self, i: int) -> str:
        return f"{self.splits[i]}/{self.names[i]}"

    def subset(self, idx) -> "Samples":
        idx = list(np.asarray(idx, dtype=np.int64))
        imgs = [self.images[i] for i in idx] if self.images is not None else None
        return Samples(self.root, [self.names[i] for i in idx], [self.splits[i] for i in idx],
                       self.keypoints[idx], imgs)

    def load_images(self) -> "Samples":
        """Decode every image into RAM (the dataset is small: a few hundred MB)."""
        if self.images is None:
            self.images = [read_image(self.path(i)) for i in range(len(self))]
        return self


def load_split(root: str | Path, split: str) -> Samples:
    """All samples of the upstream `training` or `test` split."""
    root = Path(root)
    csv_path = root / SPLIT_FILES[split]
    if not csv_path.is_file():
        raise FileNotFoundError(f"no {csv_path}: is {root} a facial_keypoints data folder?")
    names, kps = read_csv(csv_path)
    return Samples(root, names, [split] * len(names), kps)


def holdout_people(root: str | Path) -> set[str]:
    path = Path(root) / "holdout_people.txt"
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def concat(a: Samples, b: Samples) -> Samples:
    imgs = a.images + b.images if a.images is not None and b.images is not None else None
    return Samples(a.root, a.names + b.names, a.splits + b.splits,
                   np.concatenate([a.keypoints, b.keypoints]), imgs)


def make_splits(root: str | Path, val_fraction: float = 0.12, seed: int = 0) -> dict[str, Samples]:
    """People-disjoint sets.

    `train` / `val`: training CSV minus hold-out people, split by person (seeded);
    `trainval`: both; `holdout`: every image (both CSVs) of a hold-out person;
    `test`: upstream test CSV minus hold-out people.
    """
    held = holdout_people(root)
    tr, te = load_split(root, "training"), load_split(root, "test")
    tr_people, te_people = tr.people(), te.people()
    pool = sorted({p for p in tr_people if p not in held})
    rng = np.random.default_rng(seed)
    val_people = set(rng.choice(pool, size=max(1, round(val_fraction * len(pool))), replace=False).tolist())
    idx_tr = [i for i, p in enumerate(tr_people) if p not in held and p not in val_people]
    idx_va = [i for i, p in enumerate(tr_people) if p in val_people]
    idx_tv = [i for i, p in enumerate(tr_people) if p not in held]
    holdout = concat(tr.subset([i for i, p in enumerate(tr_people) if p in held]),
                     te.subset([i for i, p in enumerate(te_people) if p in held]))
    test = te.subset([i for i, p in enumerate(te_people) if p not in held])
    return {"train": tr.subset(idx_tr), "val": tr.subset(idx_va), "trainval": tr.subset(idx_tv),
            "holdout": holdout, "test": test}
