"""Refit a model's face-score output on mined hard negatives:
`python -m training.score_head DATA --weights IN.safetensors --out OUT.safetensors`.

The face score decides which detector boxes become faces (`vidkp.detect.candidates.find_faces`) and
when a track is lost. Here it is refitted on candidates made exactly as inference makes them:
the stills detector, run with `min_neighbors=1` so that it fires on far more non-faces
(clothing, hair, background) than at inference, over training images; every candidate is
predicted from its box, then re-cropped from its own points (as `find_faces` refines and as
the tracker crops), and the hidden layer before the output (256 values) is recorded for that
second crop. Candidates that frame the labelled face are positives, candidates that do not
touch it are negatives; crops from the labelled points with small jitter (tracking crops) add
positives, and boxes shifted off the face by 0.6-1.5 sides (a face leaving its track) add
negatives. A class-balanced L2 logistic regression on those features replaces the score row of
the last layer: the 136 point outputs are untouched, so the points do not change at all.

`--val-report` fits on the training people and prints score accuracy on the validation people
for the old and new score (used to choose `--l2`); the final fit uses all training people.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from training.boxfit import match
from training import nets
from training.dataset import Samples, make_splits
from training.export import save_checkpoint
from vidkp.landmarks.crop import to_tensor_batch
from vidkp.detect.haar import HaarDetector
from vidkp.faces import N_POINTS
from vidkp.landmarks import LandmarkModel
from vidkp.landmarks.shape import box_from_landmarks, roll_degrees
from vidkp.boxes import iou_matrix

SCORE_ROW = 2 * N_POINTS
"""Index of the face logit in the last layer (after the 68 x 2 coordinates)."""


@torch.inference_mode()
def hidden(model: LandmarkModel, image: np.ndarray, boxes: np.ndarray, angles: np.ndarray | None = None) -> np.ndarray:
    """Hidden features (n, H) before the last layer, for crops of `image` from `boxes` (`model`
    runs a `training.nets.TorchNetwork`)."""
    crops, _ = model.crops(image, boxes, angles)
    x = torch.from_numpy(to_tensor_batch(list(crops)))
    net = model.network.net
    return net.head[:-1](net.features(x)).numpy()


def refined_features(model: LandmarkModel, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, H) of the second (refined) crop of each box, as `find_faces` scores it, and
    the refined boxes (n, 4)."""
    kps, _ = model.predict(image, boxes, refine=False)
    kps = kps[np.isfinite(kps).all(axis=(1, 2))]
    if not len(kps):
        return np.zeros((0, model.network.net.head[-1].in_features), np.float32), np.zeros((0, 4), np.float32)
    refined = model.box_from_landmarks(kps)
    return hidden(model, image, refined, roll_degrees(kps)), refined


def mine(model: LandmarkModel, data: Samples, seed: int = 0, log_every: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Features (m, H) and labels (m,) from every image of `data`."""
    rng = np.random.default_rng(seed)
    detector = HaarDetector(min_face=12, max_side=1280, min_neighbors=1, cascades=("default", "alt2"))
    feats, labels = [], []
    t0 = time.time()
    for i in range(len(data)):
        image, gt = data.image(i), data.keypoints[i]
        face = box_from_landmarks(gt[None], model.box_relation)
        boxes = detector(image).boxes
        if len(boxes):
            j = match(boxes, gt)
            away = iou_matrix(boxes, face)[:, 0] < 0.05
            for sel, label in (([j] if j >= 0 else [], 1.0), (np.flatnonzero(away), 0.0)):
                if len(sel):
                    f, refined = refined_features(model, image, boxes[sel])
                    if label == 0.0:  # a refinement that slid onto the labelled face is no negative
                        f = f[iou_matrix(refined, face)[:, 0] < 0.05]
                    feats.append(f)
                    labels.append(np.full(len(f), label, np.float32))
        side = face[0, 2]
        jitter = face + np.concatenate([rng.normal(0, 0.05, 2) * side, [0, 0]]).astype(np.float32)
        feats.append(hidden(model, image, jitter, roll_degrees(gt[None])))
        labels.append(np.ones(1, np.float32))
        angle = rng.uniform(0, 2 * np.pi)
        shift = face + np.concatenate([rng.uniform(0.6, 1.5) * side * np.array([np.cos(angle), np.sin(angle)]),
                                       [0, 0]]).astype(np.float32)
        feats.append(hidden(model, image, shift))  # a tracker's crop as its face leaves: not refined
        labels.append(np.zeros(1, np.float32))
        if log_every and (i + 1) % log_every == 0:
            n = sum(len(v) for v in labels)
            print(f"  mined {i + 1}/{len(data)} images, {n} candidates, {time.time() - t0:.0f} s", flush=True)
    return np.concatenate(feats), np.concatenate(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression (LBFGS); returns weights (H,) and bias."""
    xt, yt = torch.from_numpy(x).double(), torch.from_numpy(y).double()
    wpos = 0.5 / max(float(yt.mean()), 1e-9)
    wneg = 0.5 / max(1.0 - float(yt.mean()), 1e-9)
    sample_w = torch.where(yt > 0.5, wpos, wneg)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt, reduction="none")
                * sample_w).mean() + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().float().numpy(), float(b.detach())


def accuracy(logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Share of positives accepted and of negatives rejected at score 0.5 (and at the 0.3 keep score)."""
    p = 1 / (1 + np.exp(-logits))
    pos, neg = y > 0.5, y < 0.5
    return {"pos_accept@0.5": float((p[pos] >= 0.5).mean()), "neg_reject@0.5": float((p[neg] < 0.5).mean()),
            "pos_keep@0.3": float((p[pos] >= 0.3).mean()), "neg_reject@0.3": float((p[neg] < 0.3).mean()),
            "n_pos": int(pos.sum()), "n_neg": int(neg.sum())}


def last_layer(state: dict[str, torch.Tensor]) -> str:
    """Name of the output layer in a KpNet state dict (`head.<n>`, the highest index)."""
    return max((k.rsplit(".", 1)[0] for k in state if k.startswith("head.") and k.endswith(".weight")),
               key=lambda name: int(name.split(".")[1]))


def old_logits(path: str | Path, x: np.ndarray) -> np.ndarray:
    state = load_file(str(path))
    last = last_layer(state)
    return x @ state[f"{last}.weight"][SCORE_ROW].numpy() + float(state[f"{last}.bias"][SCORE_ROW])


def write(path_in: str | Path, path_out: str | Path, w: np.ndarray, b: float, extra: dict,
          max_shift_error: float | None = None) -> None:
    """Copy the weights with the score row replaced (metadata kept, plus `score_head` and, if
    given, the shift-test limit `max_shift_error`)."""
    with safe_open(str(path_in), "pt") as f:
        meta = dict(f.metadata())
    state = load_file(str(path_in))
    last = last_layer(state)
    state[f"{last}.weight"][SCORE_ROW] = torch.from_numpy(w)
    state[f"{last}.bias"][SCORE_ROW] = b
    meta["score_head"] = json.dumps(extra)
    if max_shift_error is not None:
        meta["max_shift_error"] = f"{max_shift_error:g}"
    save_checkpoint(state, path_out, meta)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="facial_keypoints folder")
    ap.add_argument("--weights", required=True, help="trained model (.safetensors)")
    ap.add_argument("--out", required=True, help="where to write the model with the refitted score")
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--val-report", action="store_true", help="fit on train people, report on validation people")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-shift-error", type=float,
                    help="shift-test limit to store with the weights (from `python -m training.shift_limit`)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    # the shipped score was mined and fitted with eager PyTorch and contiguous weights; ONNX Runtime
    # and channels-last weights (the inference defaults) differ by ~1e-5, enough to change low bits
    # of the refit
    model = LandmarkModel(a.weights, network=nets.TorchNetwork(nets.load(a.weights)))
    splits = make_splits(a.data)
    t0 = time.time()
    if a.val_report:
        xtr, ytr = mine(model, splits["train"].load_images())
        xva, yva = mine(model, splits["val"].load_images(), seed=1)
        for l2 in sorted({a.l2, a.l2 * 10, a.l2 / 10}):
            w, b = fit_logistic(xtr, ytr, l2)
            print(f"l2 {l2:g} new score on validation: {accuracy(xva @ w + b, yva)}")
        print(f"old score on validation: {accuracy(old_logits(a.weights, xva), yva)}")
    x, y = mine(model, splits["trainval"].load_images())
    w, b = fit_logistic(x, y, a.l2)
    print(f"trainval fit: old {accuracy(old_logits(a.weights, x), y)}\n              new {accuracy(x @ w + b, y)}")
    write(a.weights, a.out, w, b, {"l2": a.l2, "n_pos": int(y.sum()), "n_neg": int((1 - y).sum()),
                                   "command": "python -m training.score_head"}, a.max_shift_error)
    print(f"wrote {a.out} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
