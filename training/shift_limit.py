"""Calibrate a model's shift-test limit on validation faces:
`python -m training.shift_limit DATA --weights runs/NAME/weights.safetensors [--keep 0.997]`.

The shift test (`vidkp.detect.candidates.shift_error`) drops a candidate whose points move by more
than a limit (in outer-eye distances) when its crop is moved by `SHIFT`. How far a real face's
points move depends on the model (how much box jitter it was trained on), so the limit belongs
to the weights: `training.score_head --max-shift-error X` stores it in their metadata and
`LandmarkModel.max_shift_error` reads it. Run this on a model trained without the validation
people (`--train-set train`): it measures the shift error of the labelled validation faces as
`find_faces` sees them (detector box, refined crop: `vidkp.detect.candidates.refine`) and of non-face candidates (stills detector
at min_neighbors 1, boxes not touching the face, face score >= 0.5), and prints, per limit, the
share of faces kept and non-faces rejected, and the least limit keeping `--keep` of the faces.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from training.boxfit import match
from training.dataset import make_splits
from vidkp.detect.candidates import refine, shift_error
from vidkp.detect.haar import HaarDetector, still_detector
from vidkp.landmarks import LandmarkModel
from vidkp.landmarks.shape import box_from_landmarks
from vidkp.boxes import iou_matrix


def measure(model: LandmarkModel, split: str, data_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """Shift errors of the labelled faces found by the stills detector, and of non-face candidates."""
    data = make_splits(data_dir)[split].load_images()
    faces_det, wide = still_detector(), HaarDetector(min_face=12, max_side=1280, min_neighbors=1,
                                                     cascades=("default", "alt2"))
    pos, neg = [], []
    for i in range(len(data)):
        image, gt = data.image(i), data.keypoints[i]
        found = faces_det(image).boxes
        j = match(found, gt)
        if j >= 0:
            kps, _, crops, angles = refine(model, image, found[j:j + 1])
            pos.append(shift_error(model, image, crops, angles, kps))
        boxes = wide(image).boxes
        face = box_from_landmarks(gt[None], model.box_relation)
        away = boxes[iou_matrix(boxes, face)[:, 0] < 0.05]
        if len(away):
            kps, scores, crops, angles = refine(model, image, away)
            ok = (scores >= 0.5) & (iou_matrix(model.box_from_landmarks(kps), face)[:, 0] < 0.05)
            if ok.any():
                neg.append(shift_error(model, image, crops[ok], angles[ok], kps[ok]))
    return np.concatenate(pos), np.concatenate(neg) if neg else np.zeros(0)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="facial_keypoints folder")
    ap.add_argument("--weights", required=True, help="a model trained without the validation people")
    ap.add_argument("--set", default="val", choices=["val", "train"])
    ap.add_argument("--keep", type=float, default=0.997, help="share of faces the limit must keep")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = LandmarkModel(a.weights)
    pos, neg = measure(model, a.set, a.data)
    print(f"{a.weights}: {len(pos)} {a.set} faces (median shift error {np.median(pos):.3f}), "
          f"{len(neg)} non-faces scoring >= 0.5 (median {np.median(neg) if len(neg) else float('nan'):.3f})")
    print("| limit | faces kept | non-faces rejected |\n| --- | --- | --- |")
    for lim in (0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.14):
        print(f"| {lim:.2f} | {(pos <= lim).mean():.2%} | {(neg > lim).mean() if len(neg) else float('nan'):.2%} |")
    limit = float(np.ceil(np.quantile(pos, a.keep) * 100) / 100)
    print(f"least limit (0.01 steps) keeping {a.keep:.1%} of faces: {limit:.2f}")


if __name__ == "__main__":
    main()
