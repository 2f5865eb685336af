"""Train a keypoint network: `python -m training.train DATA_DIR --out runs/NAME [options]`.

Runs on CPU by default; `--device cuda --workers N` trains on a GPU with N processes making the
augmented batches (the batches are the same for any N: each is a function of its step).
Seeded and resumable (re-running the same command continues from `OUT/checkpoint.pt`), with
progress lines, loss curves in `OUT/curves.csv`, and the final weights exported as safetensors
(`OUT/weights.safetensors`) with the metadata `vidkp.landmarks.model.LandmarkModel` needs.

Recipes: `haar` (default models: crops made from Haar-like boxes as inference makes them,
strong augmentation, negatives for the face score, wing loss, AdamW + cosine) and `udacity`
(the NaimishNet write-up: whole image Rescale(250) + RandomCrop(224), SmoothL1, Adam 1e-3; for other
input sizes the rescale keeps the ratio 250 / 224, e.g. Rescale(100) + RandomCrop(90)).
"""
from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from training import baselines  # noqa: F401  (registers the write-ups' baseline nets)
from training import transforms as T
from training.boxfit import fit_relation, matched_residuals
from training.export import save_checkpoint
from training.dataset import Samples, make_splits, turn
from training.haar_cache import DEFAULT_CACHE, load_or_compute
from training.metrics import summarize
from training import nets
from vidkp.landmarks.crop import CropSpec, apply_matrix, box_matrix, invert, to_gray
from vidkp.landmarks.shape import BoxRelation, box_from_landmarks

VERSION = "1"


def wing_loss(pred: torch.Tensor, target: torch.Tensor, w: float, eps: float) -> torch.Tensor:
    """Wing loss (Feng et al. 2018) on errors in percent of the crop side."""
    x = (pred - target).abs() * 100.0
    c = w - w * np.log(1 + w / eps)
    return torch.where(x < w, w * torch.log1p(x / eps), x - c).mean()


def create_net(arch: str, arch_kwargs: dict, init: str | Path | None = None) -> nn.Module:
    """The network to train: at random, or (fine-tuning) with the weights in the safetensors file `init`."""
    net = nets.create(arch, **arch_kwargs)
    if init:
        try:
            net.load_state_dict(load_file(str(init)))
        except RuntimeError as e:
            raise ValueError(f"--init {init}: these weights do not fit {arch} {arch_kwargs}: {e}") from e
    return net


def epoch_batch(n: int, batch: int, step: int, seed: int) -> np.ndarray:
    """Sample indices of batch `step`: epochs are seeded permutations, consecutive batches cut from them."""
    start = step * batch
    idx = []
    while len(idx) < batch:
        epoch, pos = divmod(start + len(idx), n)
        perm = np.random.default_rng([seed, epoch, 7]).permutation(n)
        idx += perm[pos:pos + batch - len(idx)].tolist()
    return np.asarray(idx)


def sample_pool(keypoints: np.ndarray, turned_repeat: int = 1, turned_min: float = 0.3) -> np.ndarray:
    """Sample indices of one epoch: every face once, faces turned at least `turned_min`
    (`training.dataset.turn`; under-represented in the data) `turned_repeat` times."""
    turned = np.abs(turn(keypoints)) >= turned_min
    return np.repeat(np.arange(len(keypoints)), np.where(turned, turned_repeat, 1))


# Point pairs whose differences are the face's openings (0-based iBUG), by group.
LIP_PAIRS = ((61, 67), (62, 66), (63, 65), (50, 58), (51, 57), (52, 56))
EYELID_PAIRS = ((37, 41), (38, 40), (43, 47), (44, 46))
OPENING_PAIRS = {"all": LIP_PAIRS + EYELID_PAIRS, "lips": LIP_PAIRS, "eyes": EYELID_PAIRS}


def opening_loss(pred: torch.Tensor, target: torch.Tensor, wing_w: float = 8.0, wing_eps: float = 1.5,
                 pairs: str = "all") -> torch.Tensor:
    """Wing loss on the difference vectors of `OPENING_PAIRS[pairs]` (pred and target (n, 136) in crop
    units): penalises a mouth or an eye predicted more closed or open than labelled, whatever the position."""
    a, b = (torch.tensor(i) for i in zip(*OPENING_PAIRS[pairs]))
    p, t = pred.reshape(-1, 68, 2), target.reshape(-1, 68, 2)
    return wing_loss(p[:, a] - p[:, b], t[:, a] - t[:, b], wing_w, wing_eps)


def losses(net: nn.Module, crops: np.ndarray, tgts: np.ndarray, labels: np.ndarray, recipe: str, size: int,
           wing_w: float = 8.0, wing_eps: float = 1.5, opening_weight: float = 0.0, opening_pairs: str = "all"
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Point loss (plus `opening_weight` x `opening_loss` over `opening_pairs`) and face-score loss of one
    batch (crops (n, S, S) uint8, targets (n, 68, 2), labels (n,))."""
    dev = next(net.parameters()).device
    x = torch.from_numpy(crops.astype(np.float32)[:, None] / 255.0).to(dev)
    y = torch.from_numpy(tgts.reshape(len(tgts), -1)).to(dev)
    lab = torch.from_numpy(labels).to(dev)
    out = net(x)
    if recipe == "udacity":
        return point_loss(out[:, :136], y, recipe, size, wing_w, wing_eps), torch.zeros(())
    pos = lab > 0.5
    pl = point_loss(out[pos, :136], y[pos], recipe, size, wing_w, wing_eps) if pos.any() else torch.zeros(())
    if opening_weight and pos.any():
        pl = pl + opening_weight * opening_loss(out[pos, :136], y[pos], wing_w, wing_eps, opening_pairs)
    return pl, nn.functional.binary_cross_entropy_with_logits(out[:, 136], lab)


def point_loss(pred: torch.Tensor, target: torch.Tensor, recipe: str, size: int, wing_w: float = 8.0,
               wing_eps: float = 1.5) -> torch.Tensor:
    """The recipe's point loss of (n, 136) predictions and targets in crop units (crop side 1, origin at
    the centre): wing for `haar`, SmoothL1 in the write-up's units ((px - 100) / 50 at 224 px) for `udacity`."""
    if recipe == "udacity":
        k = size / 50.0
        return nn.functional.smooth_l1_loss(pred * k, target * k)
    return wing_loss(pred, target, wing_w, wing_eps)


def crop_units(points: np.ndarray, boxes: np.ndarray, spec: CropSpec) -> np.ndarray:
    """Image points (n, 68, 2) in the crop units of each box's crop (n, 68, 2), as the networks output them."""
    return np.stack([apply_matrix(p, box_matrix(b, spec)) / spec.size - 0.5 for p, b in zip(points, boxes)])


def haar_batch(data: Samples, idx: np.ndarray, rel: BoxRelation, spec: CropSpec, rng: np.random.Generator,
               cfg: T.AugmentConfig, haar: dict[str, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crops (n, S, S) uint8, targets (n, 68, 2), labels (n,) (1 face, 0 negative)."""
    crops, tgts, labels = [], [], []
    for i in idx:
        img, kps = data.image(i), data.keypoints[i]
        if rng.random() < cfg.negatives:
            box = None
            if haar is not None and rng.random() < 0.3:  # a real Haar false alarm of this image, if any
                boxes = haar.get(data.key(i), np.zeros((0, 5), np.float32))[:, :4]
                good = box_from_landmarks(kps, rel)[0]
                far = [b for b in boxes if np.hypot(*(b[:2] + b[2:] / 2 - good[:2] - good[2:] / 2)) > 0.6 * good[2]]
                box = far[rng.integers(len(far))] if far else None
            kind = rng.random()
            if box is not None:
                crops.append(T.negative(img, box, spec, rng, cfg))
            elif kind < 0.15:  # the face itself, sideways or upside down
                crops.append(T.negative(img, box_from_landmarks(kps, rel)[0], spec, rng, cfg, rng.uniform(75, 285)))
            elif kind < 0.3:
                crops.append(T.photometric(T.clutter(spec.size, rng), rng, cfg))
            else:
                crops.append(T.negative(img, T.negative_box(img.shape, kps, rel, rng), spec, rng, cfg))
            tgts.append(np.zeros((68, 2), np.float32))
            labels.append(0.0)
        else:
            c, t = T.positive(img, kps, rel, spec, rng, cfg)
            crops.append(c)
            tgts.append(t)
            labels.append(1.0)
    return np.stack(crops), np.stack(tgts), np.asarray(labels, np.float32)


def udacity_rescale(size: int) -> int:
    """Shorter image side (px) the udacity recipe rescales to before cropping `size` px: 250 for 224."""
    return round(250 * size / 224)


def udacity_batch(data: Samples, idx: np.ndarray, spec: CropSpec, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The write-up's pipeline: gray, Rescale(250) (shorter side), RandomCrop(224) (`udacity_rescale`)."""
    crops, tgts, r = [], [], udacity_rescale(spec.size)
    for i in idx:
        img, kps = to_gray(data.image(i)), data.keypoints[i].astype(np.float64)
        h, w = img.shape
        nh, nw = (int(r * h / w), r) if h > w else (r, int(r * w / h))
        img = cv2.resize(img, (nw, nh))
        kps = kps * [nw / w, nh / h]
        top, left = int(rng.integers(0, nh - spec.size + 1)), int(rng.integers(0, nw - spec.size + 1))
        crops.append(img[top:top + spec.size, left:left + spec.size])
        tgts.append(((kps - [left, top]) / spec.size - 0.5).astype(np.float32))
    return np.stack(crops), np.stack(tgts), np.ones(len(idx), np.float32)


def udacity_crop_spec(data: Samples, haar: dict[str, np.ndarray], rel: BoxRelation, size: int = 224) -> CropSpec:
    """CropSpec that makes, from a Haar box, the framing the udacity recipe trains on (median over data)."""
    ratios, shifts = [], []
    for i in range(len(data)):
        h, w = data.image(i).shape[:2]
        box = box_from_landmarks(data.keypoints[i], rel)[0]
        crop_side = min(h, w) * size / udacity_rescale(size)
        ratios.append(crop_side / box[2])
        shifts.append((h / 2.0 - (box[1] + box[3] / 2)) / box[3])
    return CropSpec(size=size, scale=float(np.median(ratios)), shift=float(np.median(shifts)), gray=True)


@torch.inference_mode()
def predict_boxes(net: nn.Module, spec: CropSpec, images: list[np.ndarray], boxes: np.ndarray,
                  batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 68, 2) in image pixels and face probabilities (n,) for one box per image."""
    pts, scores = [], []
    for s in range(0, len(images), batch):
        mats = [box_matrix(b, spec) for b in boxes[s:s + batch]]
        crops = [to_gray(cv2.warpAffine(im, m, (spec.size, spec.size), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)) for im, m in zip(images[s:s + batch], mats)]
        x = torch.from_numpy(np.stack(crops).astype(np.float32)[:, None] / 255.0)
        out = net(x.to(next(net.parameters()).device)).cpu().numpy()
        p = (out[:, :136].reshape(-1, 68, 2) + 0.5) * spec.size
        pts += [apply_matrix(q, invert(m)) for q, m in zip(p, mats)]
        scores.append(1 / (1 + np.exp(-out[:, 136])) if out.shape[1] > 136 else np.ones(len(out)))
    return np.stack(pts), np.concatenate(scores)


Batch = tuple[np.ndarray, np.ndarray, np.ndarray]  # crops, targets, labels
_MAKE_BATCH: Callable[[int], Batch] | None = None  # set before forking the batch workers


def _worker_batch(step: int) -> Batch:
    return _MAKE_BATCH(step)


def batch_stream(make: Callable[[int], Batch], start: int, stop: int, workers: int) -> Iterator[Batch]:
    """Batches of steps start..stop-1 in order; `workers` > 0 makes them in forked processes.

    A batch is a function of its step alone, so the stream is the same for any number of workers.
    At most 4 batches per worker are made ahead.
    """
    global _MAKE_BATCH
    if workers <= 0:
        yield from (make(s) for s in range(start, stop))
        return
    _MAKE_BATCH = make
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # stops OpenCV's thread pool: a forked child cannot use (or stop) the parent's
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            pending, nxt = deque(), start
            while pending or nxt < stop:
                while nxt < stop and len(pending) < 4 * workers:
                    pending.append(pool.apply_async(_worker_batch, (nxt,)))
                    nxt += 1
                yield pending.popleft().get()
    finally:
        cv2.setNumThreads(threads)


def export(net: nn.Module, arch: str, arch_kwargs: dict, spec: CropSpec, rel: BoxRelation, path: Path,
           extra: dict | None = None) -> None:
    """Weights as safetensors with the metadata LandmarkModel reads."""
    meta = {"arch": arch, "arch_kwargs": json.dumps(arch_kwargs), "crop": json.dumps(asdict(spec)),
            "version": VERSION, "box_relation": rel.to_json()}
    meta.update({k: str(v) for k, v in (extra or {}).items()})
    state = {k: v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
    save_checkpoint(state, path, meta)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="facial_keypoints folder (Udacity layout + holdout_people.txt)")
    ap.add_argument("--out", required=True, help="run folder (checkpoint, curves, weights)")
    ap.add_argument("--arch", default="kpnet")
    ap.add_argument("--arch-kwargs", default="{}", help="JSON keyword arguments of the architecture")
    ap.add_argument("--recipe", choices=["haar", "udacity"], default="haar")
    ap.add_argument("--size", type=int, help="crop size (default: the architecture's)")
    ap.add_argument("--scale", type=float, help="crop side / Haar box side (default: the architecture's)")
    ap.add_argument("--train-set", choices=["train", "trainval"], default="train",
                    help="train: minus validation people (choosing settings); trainval: final model")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--epochs", type=float, help="set --steps from epochs of the training set")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--wing-w", type=float, default=8.0)
    ap.add_argument("--wing-eps", type=float, default=1.5)
    ap.add_argument("--opening-weight", type=float, default=0.0,
                    help="weight of an added wing loss on the lip and eyelid openings (haar recipe; 0: off)")
    ap.add_argument("--opening-pairs", choices=sorted(OPENING_PAIRS), default="all",
                    help="which openings --opening-weight applies to")
    ap.add_argument("--init", help="start from these weights (safetensors; fine-tuning) instead of at random")
    ap.add_argument("--score-weight", type=float, default=1.0)
    ap.add_argument("--aug", default="{}", help="JSON overrides of training.transforms.AugmentConfig")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda)")
    ap.add_argument("--workers", type=int, default=0, help="processes making batches (0: in the training loop)")
    ap.add_argument("--turned-repeat", type=int, default=1,
                    help="each epoch, show faces turned at least --turned-min this many times (1: off)")
    ap.add_argument("--turned-min", type=float, default=0.3,
                    help="|turn| (training.dataset.turn, jaw widths) from which a face counts as turned")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--cache-dir", default=str(DEFAULT_CACHE))
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    splits = make_splits(a.data)
    data, val = splits[a.train_set].load_images(), splits["val"].load_images()
    haar = load_or_compute(a.data, a.cache_dir)
    res, _ = matched_residuals(haar, [data.key(i) for i in range(len(data))], data.keypoints)
    rel = fit_relation(res)
    arch_kwargs = json.loads(a.arch_kwargs)
    base = nets.DEFAULT_CROPS[a.arch]
    spec = CropSpec(size=a.size or base.size, scale=a.scale or base.scale, shift=base.shift, gray=True)
    if a.recipe == "udacity":
        spec = udacity_crop_spec(data, haar, rel, spec.size)
    if a.arch != "naimishnet":
        arch_kwargs.setdefault("size", spec.size)
    cfg = T.AugmentConfig(**json.loads(a.aug))
    if a.turned_repeat < 1:
        ap.error(f"--turned-repeat must be at least 1, got {a.turned_repeat}")
    pool = sample_pool(data.keypoints, a.turned_repeat, a.turned_min)
    steps = int(round(a.epochs * len(data) / a.batch)) if a.epochs else a.steps
    print(f"{len(data)} training images ({a.train_set}), {len(val)} validation; relation {rel}; crop {spec}; "
          f"{steps} steps of {a.batch}; {len(pool) - len(data)} repeats of turned faces; loaded in {time.time() - t0:.1f} s",
          flush=True)

    torch.manual_seed(a.seed)
    try:
        net = create_net(a.arch, arch_kwargs, a.init).to(a.device)
    except ValueError as e:
        ap.error(str(e))
    n_params = sum(p.numel() for p in net.parameters())
    if a.recipe == "udacity":
        opt = torch.optim.Adam(net.parameters(), lr=a.lr)
        sched = None
    else:
        opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.wd)
        warm = min(200, steps // 10)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    ckpt, step, elapsed = out / "checkpoint.pt", 0, 0.0
    if ckpt.is_file():
        st = torch.load(ckpt, weights_only=False, map_location=a.device)
        net.load_state_dict(st["net"])
        opt.load_state_dict(st["opt"])
        if sched is not None:
            sched.load_state_dict(st["sched"])
        torch.set_rng_state(st["torch_rng"].cpu())
        step, elapsed = st["step"], st["elapsed"]
        print(f"resumed at step {step}", flush=True)
    curves = out / "curves.csv"
    if step == 0:
        curves.write_text("step,epoch,seconds,lr,loss,point_loss,score_loss,val_mean_nme,val_failure,val_score_neg_acc,"
                          "val_point_loss\n")

    val_boxes = box_from_landmarks(val.keypoints, rel)
    val_targets = crop_units(val.keypoints, val_boxes, spec).reshape(len(val), -1)
    run_loss = np.zeros(3)
    n_run = 0
    t_start = time.time() - elapsed

    def make(s: int) -> Batch:
        rng = np.random.default_rng([a.seed, s])  # per-step stream: resuming gives the same batches
        idx = pool[epoch_batch(len(pool), a.batch, s, a.seed)]
        if a.recipe == "udacity":
            return udacity_batch(data, idx, spec, rng)
        return haar_batch(data, idx, rel, spec, rng, cfg, haar)

    for crops, tgts, labels in batch_stream(make, step, steps, a.workers):
        net.train()
        pl, sl = losses(net, crops, tgts, labels, a.recipe, spec.size, a.wing_w, a.wing_eps, a.opening_weight,
                        a.opening_pairs)
        loss = pl + a.score_weight * sl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        step += 1
        run_loss += [loss.item(), pl.item(), sl.item()]
        n_run += 1
        last = step == steps
        if step % a.log_every == 0 and step % a.eval_every:
            print(f"step {step}/{steps} {(time.time() - t_start) / 60:.1f} min loss {run_loss[0] / n_run:.4f}", flush=True)
        if step % a.eval_every == 0 or last:
            net.eval()
            pred, _ = predict_boxes(net, spec, val.images, val_boxes)
            m = summarize(pred, val.keypoints)
            val_pl = point_loss(torch.from_numpy(crop_units(pred, val_boxes, spec).reshape(len(pred), -1)),
                                torch.from_numpy(val_targets), a.recipe, spec.size, a.wing_w, a.wing_eps).item()
            neg_acc = float("nan")
            if getattr(net, "has_score", False):
                nrng = np.random.default_rng([a.seed, 10**9])
                nb = np.stack([T.negative_box(val.images[i].shape, val.keypoints[i], rel, nrng) for i in range(len(val))])
                _, ns = predict_boxes(net, spec, val.images, nb)
                _, ps = predict_boxes(net, spec, val.images, val_boxes)
                neg_acc = float(((ns < 0.5).mean() + (ps >= 0.5).mean()) / 2)
            el = time.time() - t_start
            lr = opt.param_groups[0]["lr"]
            rl = run_loss / max(n_run, 1)
            with curves.open("a") as f:
                csv.writer(f).writerow([step, f"{step * a.batch / len(data):.2f}", f"{el:.0f}", f"{lr:.2e}",
                                        *(f"{v:.5f}" for v in rl), f"{m['mean']:.5f}", f"{m['failure']:.4f}",
                                        f"{neg_acc:.4f}", f"{val_pl:.5f}"])
            print(f"step {step}/{steps} ep {step * a.batch / len(data):.1f} {el / 60:.1f} min loss {rl[0]:.4f} "
                  f"(pts {rl[1]:.4f} score {rl[2]:.4f}) val pts {val_pl:.4f} NME {100 * m['mean']:.2f}% fail {100 * m['failure']:.1f}% "
                  f"score acc {neg_acc:.3f}", flush=True)
            run_loss[:] = 0
            n_run = 0
            st = {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict() if sched else None,
                  "torch_rng": torch.get_rng_state(), "step": step, "elapsed": el, "args": vars(a)}
            torch.save(st, out / "checkpoint.tmp")
            (out / "checkpoint.tmp").replace(ckpt)
            export(net.eval(), a.arch, arch_kwargs, spec, rel, out / "weights.safetensors",
                   {"train_steps": step, "train_seconds": f"{el:.0f}", "params": n_params,
                    "train_command": " ".join(["python -m training.train", *(argv or __import__("sys").argv[1:])])})
    print(f"done: {out / 'weights.safetensors'}", flush=True)


if __name__ == "__main__":
    main()
