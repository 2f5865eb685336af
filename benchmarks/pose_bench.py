"""Head pose on the people hold-out: roll under in-plane rotation, yaw under mirroring.

Each hold-out image (both CSVs, people in holdout_people.txt) is rotated about its centre by
+15 and -15 degrees (same size, so the stated camera is unchanged) and mirrored left-right. The
points come from `FaceLandmarker().detect` on each image (end to end; the face nearest the
labelled face is used, a miss counts as a failure), with `--boxes` from
`FaceLandmarker().landmarks` on the Haar-like box of the labelled points (the model without the
detector, which misses many rotated faces), or with `--labels` from the labelled points moved the
same way. Prints the share of faces whose roll differs by 30 +- 4 degrees and the
median |yaw + yaw_mirrored|, in `head_pose`'s default ("screen") order or OpenFace's.

    python -m benchmarks.pose_bench ../shared/data/facial_keypoints [--labels | --boxes]
        [--convention screen|openface] [--limit N]
"""
from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import pandas as pd

from training.dataset import make_splits
from vidkp.analysis import head_pose
from vidkp.analysis.pose import CONVENTIONS, euler_angles, rotation_matrix
from vidkp.landmarks.shape import MIRROR_PERM


def _row(kps: np.ndarray) -> dict:
    d = {"video": "x", "face_id": 0, "frame": 0, "timestamp": 0.0}
    d.update({f"x_{i}": kps[i, 0] for i in range(68)})
    d.update({f"y_{i}": kps[i, 1] for i in range(68)})
    return d


def _pose(kps: np.ndarray, size: tuple[int, int], convention: str) -> np.ndarray:
    return np.degrees(head_pose(pd.DataFrame([_row(kps)]), frame_size=size, convention=convention).to_numpy()[0])


def _detect(lm, image: np.ndarray, near: np.ndarray) -> np.ndarray | None:
    faces = lm.detect(image)
    if not faces:
        return None
    return min(faces, key=lambda f: float(np.linalg.norm(f.keypoints.mean(0) - near.mean(0)))).keypoints


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default="../shared/data/facial_keypoints")
    ap.add_argument("--labels", action="store_true", help="labelled points instead of detection")
    ap.add_argument("--boxes", action="store_true", help="the model on the labelled points' box, no detector")
    ap.add_argument("--convention", choices=CONVENTIONS, default="screen", help="order of the angles")
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args()
    hold = make_splits(a.data)["holdout"]
    n = len(hold) if a.limit is None else min(a.limit, len(hold))
    lm = None
    if not a.labels:
        from vidkp import FaceLandmarker

        lm = FaceLandmarker()
    t0 = time.time()
    rolls, yaws, predicted, frontal, missed = [], [], [], [], 0
    for i in range(n):
        img, lab = hold.image(i), hold.keypoints[i].astype(np.float64)
        h, w = img.shape[:2]
        variants = {}
        for name, angle in (("ccw", 15.0), ("cw", -15.0)):
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            variants[name] = (cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE),
                              lab @ m[:, :2].T + m[:, 2])
        mirrored = lab.copy()
        mirrored[:, 0] = w - mirrored[:, 0]   # pixel centres: x -> w - x (the labels' convention)
        variants["orig"] = (img, lab)
        variants["mirror"] = (img[:, ::-1].copy(), mirrored[MIRROR_PERM])
        pts = {}
        for name, (im, lb) in variants.items():
            if lm is None:
                pts[name] = lb
            elif a.boxes:
                pts[name] = lm.landmarks(im, lm.model.box_from_landmarks(lb[None]))[0].keypoints
            else:
                pts[name] = _detect(lm, im, lb)
        if any(p is None for p in pts.values()):
            missed += 1
            rolls.append(np.nan)
            yaws.append(np.nan)
            predicted.append(np.nan)
            frontal.append(False)
            continue
        p = {k: _pose(v, (w, h), a.convention) for k, v in pts.items()}
        rolls.append(p["cw"][2] - p["ccw"][2])
        yaws.append(abs(p["orig"][1] + p["mirror"][1]))
        # what the convention itself gives: the unrotated pose turned by -+15 degrees about the
        # camera axis (exactly 30 in the screen order; in OpenFace's only near frontal)
        r0 = rotation_matrix(*np.radians(p["orig"]), a.convention)
        predicted.append(np.degrees(euler_angles(rotation_matrix(0, 0, np.radians(15)) @ r0, a.convention)[2]
                                    - euler_angles(rotation_matrix(0, 0, np.radians(-15)) @ r0, a.convention)[2]))
        frontal.append(bool(np.all(np.abs(p["orig"][:2]) <= 25.0)))
    rolls, yaws = np.array(rolls), np.array(yaws)
    ok = np.abs(rolls - 30.0) <= 4.0  # NaN (missed) counts as a failure
    found = np.isfinite(rolls)
    source = "labels" if lm is None else "FaceLandmarker().landmarks on label boxes" if a.boxes else \
        "FaceLandmarker().detect"
    print(f"points: {source}; {a.convention} order; {n} hold-out images; "
          f"{missed} with a face missed in one of the four versions; {time.time() - t0:.0f} s")
    print(f"roll(-15 deg image) - roll(+15 deg image): {ok.mean() * 100:.1f}% within 30 +- 4 deg "
          f"(median {np.nanmedian(rolls):.2f}, 5th-95th pct {np.nanpercentile(rolls, 5):.2f}.."
          f"{np.nanpercentile(rolls, 95):.2f}); {ok[found].mean() * 100:.1f}% of the {found.sum()} found in all four")
    frontal = np.array(frontal)
    print(f"  faces with |pitch|, |yaw| <= 25 deg (unrotated): {ok[frontal].mean() * 100:.1f}% of {frontal.sum()}; "
          f"all found faces: |difference - the convention's exact value for their pose| <= 4 deg in "
          f"{(np.abs(rolls - np.array(predicted))[found] <= 4).mean() * 100:.1f}%")
    print(f"|yaw + yaw_mirrored|: median {np.nanmedian(yaws):.2f} deg, 90th pct {np.nanpercentile(yaws, 90):.2f} deg")


if __name__ == "__main__":
    main()
