"""Evaluate landmark models: `python -m training.evaluate DATA_DIR [--weights W ...] [--json OUT]`.

For each model and set (people hold-out, upstream test minus hold-out people) two settings:
(i) `landmarks`: the landmark stage alone, cropped from the Haar-like box derived from the ground
truth with the checkpoint's fitted box relation; (ii) `end-to-end`: `FaceLandmarker.detect` on the
raw image, the still-image path of `vidkp run` (the output face framing the labelled one; a face
not found counts as a failure). Metrics: NME by the
outer eye corners (mean, median, failure rate NME > 10%, per region), detection rate, and the
landmark stage's ms per face (single thread, batch 1 and 32) with the row's test-time averaging
(`AVERAGING`; end to end: that of `FaceLandmarker`, mirror and jitter), and shape fidelity
(`training.fidelity`: do mouths and eyes open and close with the labels) over the found faces.
`--dlib` adds a reference row: dlib's HOG detector and 68-point predictor end to end (the optional
`bench` extra).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np

from training import baselines  # noqa: F401  (registers the write-ups' baseline nets)
from training import fidelity
from training.boxfit import match
from training.dataset import Samples, make_splits, video_of
from training.metrics import summarize
from training.speed import AVERAGING, ms_per_face
from training.train import udacity_rescale
from vidkp.landmarker import FaceLandmarker
from vidkp.landmarks import LandmarkModel, default_weights_path, read_metadata
from vidkp.landmarks.crop import to_gray
from vidkp.landmarks.shape import BoxRelation, box_from_landmarks


def model_relation(path: str | Path) -> BoxRelation:
    return BoxRelation.from_json(read_metadata(path)["box_relation"])


def end_to_end(landmarker: FaceLandmarker, data: Samples) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 68, 2) of the labelled face as `FaceLandmarker.detect` finds it in each raw
    image (the still-image path of `vidkp run`: detector, face score, shift test, refinement),
    NaN where it was not found, and the found mask (n,). The output face that frames the
    labelled one (`training.boxfit.match`, by box, never by point accuracy) is the match."""
    out, found = np.full((len(data), 68, 2), np.nan, np.float32), np.zeros(len(data), bool)
    for i in range(len(data)):
        faces = landmarker.detect_faces(data.image(i))
        j = match(faces.boxes, data.keypoints[i])
        if j >= 0:
            out[i], found[i] = faces.keypoints[j], True
    return out, found


def dlib_end_to_end(data: Samples, upsample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 68, 2) of the labelled face as dlib's HOG detector (`upsample` times) and 68-point
    predictor find it in each raw image, NaN where not found, and the found mask (n,); matched like
    `end_to_end`. Raises ImportError without the optional `bench` extra."""
    spec = importlib.util.find_spec("face_recognition_models")
    if importlib.util.find_spec("dlib") is None or spec is None:
        raise ImportError("dlib reference row: pip install dlib-bin face-recognition-models (the bench extra)")
    import dlib

    dat = Path(spec.submodule_search_locations[0]) / "models" / "shape_predictor_68_face_landmarks.dat"
    detector, predictor = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dat))
    out, found = np.full((len(data), 68, 2), np.nan, np.float32), np.zeros(len(data), bool)
    for i in range(len(data)):
        rgb = cv2.cvtColor(data.image(i), cv2.COLOR_BGR2RGB)
        rects = detector(rgb, upsample)
        if not rects:
            continue
        boxes = np.array([[r.left(), r.top(), r.width(), r.height()] for r in rects], np.float32)
        j = match(boxes, data.keypoints[i])
        if j >= 0:
            out[i] = [(q.x, q.y) for q in predictor(rgb, rects[j]).parts()]
            found[i] = True
    return out, found


def scored(pred: np.ndarray, gt: np.ndarray, found: np.ndarray | None = None, videos: list[str] | None = None) -> dict:
    """NME summary and shape fidelity of predictions (n, 68, 2) against labels (n, 68, 2); with the
    faces' `videos` (`training.dataset.video_of`) also the fidelity within videos (keys `within_...`,
    `training.fidelity.within_videos`)."""
    found = np.ones(len(gt), bool) if found is None else found
    within = {} if videos is None else fidelity.within_videos(pred, gt, videos, found)
    return {**summarize(pred, gt, found), **fidelity.fidelity(pred, gt, found),
            **{f"within_{k}": v for k, v in within.items()}}


def predict(model: LandmarkModel, data: Samples, boxes: np.ndarray, mirror: bool = False,
            jitter: float = 0.0, refine: bool = True) -> np.ndarray:
    """Keypoints (n, 68, 2) through the inference code path; NaN where the box is NaN."""
    out = np.full((len(data), 68, 2), np.nan, np.float32)
    for i in range(len(data)):
        if np.isfinite(boxes[i]).all():
            out[i] = model.predict(data.image(i), boxes[i:i + 1], mirror=mirror, jitter=jitter, refine=refine)[0][0]
    return out


def predict_whole_image(model: LandmarkModel, data: Samples) -> np.ndarray:
    """Keypoints (n, 68, 2) with the seed write-up's own test framing: the whole image in gray,
    shorter side rescaled as in training (`udacity_rescale`), centre crop of the model's input size
    (no detector)."""
    size = model.spec.size
    rescale = udacity_rescale(size)
    out = np.zeros((len(data), 68, 2), np.float32)
    for i in range(len(data)):
        img = to_gray(data.image(i))
        h, w = img.shape
        k = rescale / min(h, w)
        img = cv2.resize(img, (round(w * k), round(h * k)))
        top, left = (img.shape[0] - size) // 2, (img.shape[1] - size) // 2
        pts, _ = model.forward(img[None, top:top + size, left:left + size])
        out[i] = (pts[0] + [left, top]) / k
    return out


def evaluate(weights: list[str | Path], data_dir: str | Path, sets: list[str], speed: bool = True,
             face_tests: bool = True, dlib: bool = False) -> list[dict]:
    """One row (dict) per model x set x setting, plus one dlib row per set when `dlib`;
    `face_tests=False` keeps every detector box (no face score or shift test), e.g. for a
    baseline that has no face score."""
    splits = make_splits(data_dir)
    rows = []
    for name in sets:
        data = splits[name].load_images()
        videos = [video_of(n) for n in data.names]
        for w in weights:
            landmarker = FaceLandmarker(w) if face_tests else FaceLandmarker(w, accept_score=0.0, max_shift_error=None)
            model = landmarker.model
            base = {"model": model.arch, "weights": Path(w).name, "set": name}
            gt_boxes = model.box_from_landmarks(data.keypoints)
            for averaging, (mirror, jitter) in AVERAGING.items():
                suffix = "" if averaging == "none" else f", {averaging} averaged"
                rows.append({**base, "setting": "landmarks (GT-derived box)" + suffix, "averaging": averaging,
                             **scored(predict(model, data, gt_boxes, mirror, jitter), data.keypoints, videos=videos)})
            if "--recipe udacity" in read_metadata(w).get("train_command", ""):
                rows.append({**base, "setting": "whole image (write-up framing, no detector)", "averaging": "none",
                             **scored(predict_whole_image(model, data), data.keypoints, videos=videos)})
            pts, found = end_to_end(landmarker, data)
            setting = "end-to-end (FaceLandmarker.detect)" + ("" if face_tests else ", no face tests")
            rows.append({**base, "setting": setting, "averaging": "mirror+jitter",
                         **scored(pts, data.keypoints, found, videos)})
        if dlib:
            pts, found = dlib_end_to_end(data)
            rows.append({"model": "dlib 68-point (reference)", "weights": "", "set": name,
                         "setting": "end-to-end (HOG detector, upsample 1)", "averaging": "",
                         **scored(pts, data.keypoints, found, videos)})
    if speed:
        img = splits["holdout"].image(0)
        box = box_from_landmarks(splits["holdout"].keypoints[0], model_relation(weights[0]))[0]
        for w in weights:
            model = LandmarkModel(w, threads=1)
            for averaging, (mirror, jitter) in AVERAGING.items():
                b1 = ms_per_face(model, img, box, 1, mirror=mirror, jitter=jitter)
                b32 = ms_per_face(model, img, box, 32, repeats=10, mirror=mirror, jitter=jitter)
                for r in rows:
                    if r["weights"] == Path(w).name and r["averaging"] == averaging:
                        r["ms_b1"], r["ms_b32"] = b1, b32
    return rows


def table(rows: list[dict]) -> str:
    """Markdown table of evaluation rows."""
    cols = ["model", "set", "setting", "n", "found", "mean", "median", "failure", "jaw", "brows", "nose", "eyes",
            "mouth", "ms_b1", "ms_b32"]
    head = ["model", "set", "setting", "n", "detected", "mean NME", "median", "failure", "jaw", "brows", "nose",
            "eyes", "mouth", "ms/face b1", "ms/face b32"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if c in ("found", "mean", "median", "failure", "jaw", "brows", "nose", "eyes", "mouth"):
                cells.append(f"{100 * v:.2f}%")
            elif c.startswith("ms_") and v != "":
                cells.append(f"{v:.2f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="facial_keypoints folder (Udacity layout + holdout_people.txt)")
    ap.add_argument("--weights", action="append", help="safetensors weights (repeatable; default: shipped default)")
    ap.add_argument("--sets", default="holdout,test", help="comma list of: holdout, test, val")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-face-tests", action="store_true",
                    help="end to end: keep every detector box (no face score, no shift test)")
    ap.add_argument("--dlib", action="store_true", help="add dlib's 68-point model as a reference row (bench extra)")
    ap.add_argument("--json", help="write the rows as JSON here")
    a = ap.parse_args(argv)
    weights = a.weights or [str(default_weights_path())]
    rows = evaluate(weights, a.data, a.sets.split(","), speed=not a.no_speed, face_tests=not a.no_face_tests,
                    dlib=a.dlib)
    print(table(rows))
    print()
    print(fidelity.table(rows))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
