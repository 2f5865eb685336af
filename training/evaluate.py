"""Evaluate landmark models: `python -m training.evaluate DATA_DIR [--weights W ...] [--json OUT]`.

For each model and set (people hold-out, upstream test minus hold-out people) two settings:
(i) `landmarks`: the landmark stage alone, cropped from the Haar-like box derived from the ground
truth with the checkpoint's fitted box relation; (ii) `end-to-end`: Haar on the raw image (the
detection matching the labelled face; a face not found counts as a failure). Metrics: NME by the
outer eye corners (mean, median, failure rate NME > 10%, per region), detection rate, and the
landmark stage's ms per face (single thread, batch 1 and 32).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from training.boxfit import match
from training.dataset import Samples, make_splits
from training.metrics import summarize
from training.speed import ms_per_face
from vidkp.detect import HaarDetector
from vidkp.landmarks import LandmarkModel, default_weights_path, read_metadata
from vidkp.shape import BoxRelation, box_from_landmarks


def model_relation(path: str | Path) -> BoxRelation:
    return BoxRelation.from_json(read_metadata(path)["box_relation"])


def detect_boxes(data: Samples, rel: BoxRelation, detector: HaarDetector, pad: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Matched Haar box (n, 4) per image (NaN if none) and the found mask; `pad` adds a reflected
    border of `pad` * image side before detection (boxes are returned in original pixels)."""
    boxes, found = np.full((len(data), 4), np.nan, np.float32), np.zeros(len(data), bool)
    for i in range(len(data)):
        img = data.image(i)
        p = int(round(pad * max(img.shape[:2])))
        if p:
            img = cv2.copyMakeBorder(img, p, p, p, p, cv2.BORDER_REFLECT_101)
        faces = detector(img)
        b = faces.boxes - np.float32([p, p, 0, 0])
        j = match(b, data.keypoints[i])
        if j >= 0:
            boxes[i], found[i] = b[j], True
    return boxes, found


def predict(model: LandmarkModel, data: Samples, boxes: np.ndarray) -> np.ndarray:
    """Keypoints (n, 68, 2) through the inference code path; NaN where the box is NaN."""
    out = np.full((len(data), 68, 2), np.nan, np.float32)
    for i in range(len(data)):
        if np.isfinite(boxes[i]).all():
            out[i] = model.predict(data.image(i), boxes[i:i + 1])[0][0]
    return out


def evaluate(weights: list[str | Path], data_dir: str | Path, sets: list[str], pads: list[float],
             speed: bool = True) -> list[dict]:
    """One row (dict) per model x set x setting."""
    splits = make_splits(data_dir)
    detector = HaarDetector()
    rows = []
    for name in sets:
        data = splits[name].load_images()
        det = {p: detect_boxes(data, model_relation(weights[0]), detector, p) for p in pads}
        for w in weights:
            model = LandmarkModel(w)
            rel = model_relation(w)
            base = {"model": model.arch, "weights": Path(w).name, "set": name}
            gt_boxes = box_from_landmarks(data.keypoints, rel)
            rows.append({**base, "setting": "landmarks (GT-derived box)",
                         **summarize(predict(model, data, gt_boxes), data.keypoints)})
            for p, (boxes, found) in det.items():
                label = "end-to-end (Haar)" + (f", image padded {p:.0%}" if p else "")
                rows.append({**base, "setting": label, **summarize(predict(model, data, boxes), data.keypoints, found)})
    if speed:
        img = splits["holdout"].image(0)
        box = box_from_landmarks(splits["holdout"].keypoints[0], model_relation(weights[0]))[0]
        for w in weights:
            model = LandmarkModel(w)
            for r in rows:
                if r["weights"] == Path(w).name:
                    r["ms_b1"] = ms_per_face(model, img, box, 1)
                    r["ms_b32"] = ms_per_face(model, img, box, 32, repeats=10)
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
    ap.add_argument("--pad", type=float, action="append", default=None,
                    help="also run end-to-end on images with a reflected border of this fraction (repeatable)")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--json", help="write the rows as JSON here")
    a = ap.parse_args(argv)
    weights = a.weights or [str(default_weights_path())]
    rows = evaluate(weights, a.data, a.sets.split(","), [0.0] + (a.pad or []), speed=not a.no_speed)
    print(table(rows))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
