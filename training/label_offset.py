"""Measure how far right of a model's points the labels sit, and store it:
`python -m training.label_offset DATA --weights runs/NAME/weights.safetensors [--write W.safetensors]`.

A network trained on crops flipped left-right (with the left/right point swap) is left-right
symmetric: if the labels sit a constant distance right of the features they mark (a pixel
convention, e.g. 1-based x), it learns the average of +offset (unflipped crops) and -offset
(flipped ones), i.e. nothing, and every prediction is that far left of the labels on faces it has
not memorised. A network trained without flips learns the offset, but averaging its points with
those of the mirrored crop (`mirror=True`) cancels it again. So the offset is measured for both
kinds of points, single pass and mirror-averaged. A vertical offset is learnt (nothing flips
vertically), so only x needs this. It is measured on people the network never saw: `--weights`
must be trained with `--train-set train`, and it is measured on the validation people (their
frames in both upstream CSVs) from crops of the labelled points as the tracker makes them.
`--write` copies the two values (rounded to 0.01 px) into the metadata of a model (e.g. the same
recipe trained on all people), where `LandmarkModel.label_x_offset` and `label_x_offset_mirror`
read them; the tensors are copied unchanged.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from training.dataset import Samples, concat, make_splits
from training.evaluate import predict
from training.export import add_metadata
from vidkp.landmarks import LandmarkModel, read_metadata


def validation_faces(data_dir: str | Path) -> Samples:
    """Validation people's images from the training CSV and from the upstream test CSV."""
    splits = make_splits(data_dir)
    people = set(splits["val"].people())
    test = splits["test"]
    return concat(splits["val"], test.subset([i for i, p in enumerate(test.people()) if p in people]))


def residuals(model: LandmarkModel, data: Samples, mirror: bool) -> np.ndarray:
    """Mean (x, y) of prediction - label per face (n, 2), image pixels, without any stored offset."""
    stored = model.label_x_offset, model.label_x_offset_mirror
    model.label_x_offset = model.label_x_offset_mirror = 0.0
    try:
        pts = predict(model, data, model.box_from_landmarks(data.keypoints), mirror=mirror)
    finally:
        model.label_x_offset, model.label_x_offset_mirror = stored
    return (pts - data.keypoints).mean(axis=1)


def people_interval(values: np.ndarray, people: list[str], reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean, resampling whole people (their faces are not independent)."""
    groups = [np.flatnonzero(np.array(people) == p) for p in sorted(set(people))]
    rng = np.random.default_rng(seed)
    means = [values[np.concatenate([groups[j] for j in rng.integers(0, len(groups), len(groups))])].mean()
             for _ in range(reps)]
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


def write_offsets(path_in: str | Path, path_out: str | Path, single: float, mirror: float, source: dict) -> None:
    """Copy weights with `label_x_offset`, `label_x_offset_mirror` (and how they were measured)
    added to their metadata."""
    add_metadata(path_in, path_out, {"label_x_offset": f"{single:.2f}", "label_x_offset_mirror": f"{mirror:.2f}",
                                     "label_offset_source": json.dumps(source)})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="facial_keypoints folder")
    ap.add_argument("--weights", required=True, help="a model trained without the validation people")
    ap.add_argument("--write", help="weights to store the measured offsets in (rewritten in place)")
    a = ap.parse_args(argv)
    if re.search(r"--train-set[ =]trainval", read_metadata(a.weights).get("train_command", "")):
        ap.error(f"{a.weights} was trained on the validation people; measure with a --train-set train model")
    model = LandmarkModel(a.weights, threads=1)
    data = validation_faces(a.data).load_images()
    print(f"{a.weights}: {len(data)} faces of {len(set(data.people()))} validation people")
    offsets, source = {}, {"weights": str(a.weights), "faces": len(data)}
    for kind, mirror in (("single pass", False), ("mirror-averaged", True)):
        res = residuals(model, data, mirror)
        dx, dy = -res[:, 0], -res[:, 1]
        lo, hi = people_interval(dx, data.people())
        print(f"{kind}: labels right of the points by {dx.mean():.3f} px (median {np.median(dx):.3f}, "
              f"people-bootstrap 95% {lo:.3f} to {hi:.3f}); below them by {dy.mean():.3f} px")
        offsets[mirror] = float(dx.mean())
        source["mirror" if mirror else "single"] = {"mean_dx": round(float(dx.mean()), 3), "mean_dy": round(float(dy.mean()), 3),
                                                    "interval": [round(lo, 3), round(hi, 3)]}
    if a.write:
        write_offsets(a.write, a.write, offsets[False], offsets[True], source)
        print(f"stored label_x_offset {offsets[False]:.2f}, label_x_offset_mirror {offsets[True]:.2f} in {a.write}")


if __name__ == "__main__":
    main()
