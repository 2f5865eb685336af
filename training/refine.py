"""Train the refinement stage (`vidkp.landmarks.refine`): one network for the eyes, one for the mouth.

    python -m training.refine DATA --out runs/refine [--parts eye,mouth] [--train-set train] [--steps N]
        [--loss wing|l1|l2] [--gain-spread PART=faces|videos] [--blend PART=W] [--gain-folds K]
        [--weights FIRST_STAGE]
        [--install models/landmarks_default.safetensors]

Each network learns its part's points from patches framed as inference frames them
(`vidkp.landmarks.patches`), from the labelled points with the frame moved, scaled and turned at
random by about what the first stage's points are off, then the photometric changes of
`training.transforms`. Loss (the part's `RECIPES` entry, or `--loss`: `POINT_LOSSES`) on the
points plus the same on the openings (eyelid and lip pairs), both in percent of the patch side.
Then each part's `ShapeGain` is fitted on the training people (`fit_gain`: the eyes' spread across
faces, the mouth's within videos, `--gain-spread`; `--no-gain` leaves it out) and stored in the part's
metadata, after each part's blend weight of the first stage's points (`PartRecipe.blend`,
`--blend`; stored as `blend`). With `--gain-folds K` > 1 the spreads are measured out of fold: K more networks per part
(`<out>/fold<j>/`), each trained the same way without one of K people-disjoint folds of the training
people, predict the fold they did not see. Arms of the experiment records: `--colour PART` (BGR
patches), `--pair-weight` (a loss on the change between two frames of one video), `--patch`,
`--noise`. Last, the first stage (`--weights`) is run on the validation people from label-derived
boxes and scored alone, refined without the gains and with them.
Writes `<out>/landmarks.<part>.safetensors` (+ `.onnx`) for each part, `<out>/landmarks.safetensors`
(+ `.onnx`: the first stage, its metadata listing the parts; a model `LandmarkModel` loads whole),
`<out>/curves_<part>.csv` and `<out>/eval.json`; `--install` then copies the parts beside a
first-stage checkpoint and lists them in its metadata (how the shipped model was made).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from torch import nn

from training import nets
from training.dataset import Samples, make_splits, person_folds, video_of
from training.evaluate import predict, scored
from training.export import add_metadata, save_checkpoint
from training.fidelity import fidelity, within_videos
from training.fidelity import table as fidelity_table
from training.train import wing_loss
from training.transforms import AugmentConfig, photometric
from vidkp.landmarks import LandmarkModel, default_weights_path, read_metadata
from vidkp.landmarks.crop import CropSpec, to_tensor_batch
from vidkp.landmarks.patches import PatchSpec, cut, frame_matrices, frame_params, to_patch_units
from vidkp.landmarks.refine import PARTS, Refiner, ShapeGain, part_path

VERSION = "1"
ARCH = "patchnet"
"""Every part network is a `training.nets.PatchNet` (training reads its heatmaps)."""


@dataclass(frozen=True)
class PartRecipe:
    """How one part network is built and trained."""

    spec: PatchSpec
    arch_kwargs: dict
    pairs: tuple[tuple[int, int], ...]
    """Opening pairs in the part's point order (eyelids; inner and outer lips)."""
    loss: str = "wing"
    """The point loss (`POINT_LOSSES`)."""
    steps: int = 6000
    gain_spread: str = "faces"
    """Which spread of the training people the part's `ShapeGain` matches (`fit_gain`): "faces"
    (across faces) or "videos" (within videos: how one person's part changes)."""
    blend: float = 0.0
    """Weight of the first stage's points in the part's output, before the gain (`Refiner`)."""


RECIPES = {
    "eye": PartRecipe(PatchSpec(size=32, side=0.6),
                      {"size": 32, "points": 6, "widths": [16, 24, 48], "fuse_kernel": 1, "half_block": False},
                      ((1, 5), (2, 4)), loss="l2"),
    "mouth": PartRecipe(PatchSpec(size=40, side=1.0),
                        {"size": 40, "points": 20, "widths": [16, 24, 48], "fuse_kernel": 1, "half_block": False},
                        ((13, 19), (14, 18), (15, 17), (2, 10), (3, 9), (4, 8)), gain_spread="videos"),
}


NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
"""A decimal number in a command-line value (one regex group), e.g. 0.25, 1, .5."""

GAIN_FOLDS = 3
"""People-disjoint folds the gains' spreads are measured out of (`fit_gain`; the shipped recipe)."""


@dataclass(frozen=True)
class FrameNoise:
    """Standard deviations of the frame perturbation: centre shift per axis in outer-eye distances,
    log of the scale, eye-line angle in degrees (each clipped at 3 sd)."""

    centre: float = 0.05
    scale: float = 0.07
    angle: float = 5.0


def sample_batch(data: Samples, idx: np.ndarray, name: str, rng: np.random.Generator, noise: FrameNoise,
                 aug: AugmentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Augmented patches (b, S, S) uint8 (or (b, S, S, 3) BGR: `PatchSpec.colour`) and their target
    points (b, k, 2) in patch units."""
    part, spec = PARTS[name], RECIPES[name].spec
    patches, targets = [], []
    for i in idx:
        kps = data.keypoints[i][None]
        mirror = bool(rng.random() < 0.5)  # the other eye, or the mouth mirrored
        pts = part.twin if mirror else part.points
        c, d, a = frame_params(kps, pts)
        z = np.clip(rng.normal(size=4), -3, 3)
        c = c + z[:2] * noise.centre * d
        d = d * np.exp(z[2] * noise.scale)
        a = a + z[3] * noise.angle
        m = frame_matrices(c, d, a, spec, mirror)
        patch = cut(data.image(i), m, spec.size, spec.colour)[0]
        patches.append(photometric(patch, rng, aug, spec.colour))
        targets.append(to_patch_units(kps[:, pts], m, spec.size)[0])
    return np.stack(patches), np.stack(targets)


def same_video(names: list[str]) -> list[np.ndarray]:
    """For each sample, the indices of the other labelled frames of its video (`video_of`)."""
    videos: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        videos.setdefault(video_of(n), []).append(i)
    return [np.array([j for j in videos[video_of(n)] if j != i], np.int64) for i, n in enumerate(names)]


POINT_LOSSES = {
    "wing": lambda p, t: wing_loss(p, t, 8.0, 1.5),
    "l1": lambda p, t: (p - t).abs().mean() * 100.0,
    "l2": lambda p, t: ((p - t) * 100.0).square().mean(),
}
"""Losses on point errors, in percent of the patch side: wing (mode-seeking on small errors), L1
(median), L2 (mean)."""


def part_loss(out: torch.Tensor, target: torch.Tensor, pairs: tuple[tuple[int, int], ...],
              opening_weight: float, kind: str = "wing") -> torch.Tensor:
    """`POINT_LOSSES[kind]` on the points plus `opening_weight` x the same on the pairs' difference vectors."""
    f = POINT_LOSSES[kind]
    p, t = out.reshape(target.shape), target
    loss = f(p, t)
    if opening_weight:
        a, b = (torch.tensor(i) for i in zip(*pairs))
        loss = loss + opening_weight * f(p[:, a] - p[:, b], t[:, a] - t[:, b])
    return loss


def heatmap_loss(prob: torch.Tensor, target: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of heatmaps (n, k, h, w) against Gaussians (sd one grid step) at the target
    points (n, k, 2, patch units): one peak where the point is, no mass on look-alikes."""
    step = float(grid[1] - grid[0])
    h, w = prob.shape[2:]
    gx = torch.exp(-0.5 * ((grid[:w][None, None] - target[..., :1]) / step) ** 2)
    gy = torch.exp(-0.5 * ((grid[:h][None, None] - target[..., 1:]) / step) ** 2)
    g = gy[..., :, None] * gx[..., None, :]
    g = g / g.sum(dim=(2, 3), keepdim=True).clamp_min(1e-12)
    return -(g * prob.clamp_min(1e-12).log()).sum(dim=(2, 3)).mean()


def train_part(data: Samples, name: str, steps: int, batch: int, lr: float, seed: int, opening_weight: float,
               noise: FrameNoise, aug: AugmentConfig, log: Path | None = None, spread_weight: float = 0.0,
               heatmap_weight: float = 0.0, loss_kind: str | None = None, pair_weight: float = 0.0) -> nn.Module:
    """Train the `name` part network on `data` (images loaded); returns it in eval mode (BatchNorm unfused).
    `spread_weight` > 0 adds that times the heatmaps' mean standard deviation (percent of the patch
    side) to the loss (`PatchNet.points_and_spread`), `heatmap_weight` > 0 that times `heatmap_loss`;
    `loss_kind`: the point loss (`POINT_LOSSES`; None: the part's recipe); `pair_weight` > 0: half of
    each batch is other frames of the other half's videos (`same_video`; the frame itself when it is
    its video's only one), and that times the point loss on the pairs' differences (how the part
    changes between two frames of one video) is added."""
    recipe = RECIPES[name]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = nets.create(ARCH, **recipe.arch_kwargs)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    rows, t0, running = [], time.time(), 0.0
    net.train()
    kind, half = loss_kind or recipe.loss, batch // 2
    others = same_video(data.names) if pair_weight else []
    for step in range(steps):
        if pair_weight:
            first = rng.integers(0, len(data), half)
            partners = [others[i][rng.integers(len(others[i]))] if len(others[i]) else i for i in first]
            idx = np.concatenate([first, partners])
        else:
            idx = rng.integers(0, len(data), batch)
        x, y = sample_batch(data, idx, name, rng, noise, aug)
        prob = net.heatmaps(torch.from_numpy(to_tensor_batch(x)))
        out, sd = net.points_from(prob)
        target = torch.from_numpy(y)
        loss = part_loss(out, target, recipe.pairs, opening_weight, kind)
        if pair_weight:
            p = out.reshape(target.shape)
            loss = loss + pair_weight * POINT_LOSSES[kind](p[:half] - p[half:], target[:half] - target[half:])
        if spread_weight:
            loss = loss + spread_weight * 100 * sd.mean()
        if heatmap_weight:
            loss = loss + heatmap_weight * heatmap_loss(prob, target, net.grid)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % 200 == 0:
            rows.append((step + 1, running / 200, time.time() - t0))
            print(f"{name} step {step + 1}/{steps} loss {running / 200:.3f} {time.time() - t0:.0f}s", flush=True)
            running = 0.0
    if log:
        log.write_text("step,train_loss,seconds\n" + "".join(f"{s},{v:.5f},{t:.1f}\n" for s, v, t in rows))
    return net.eval()


def save_part(net: nn.Module, name: str, path: Path, metadata: dict[str, str]) -> None:
    """Write a part network as a checkpoint (safetensors + ONNX) that `nets.load` and the runtime read."""
    recipe = RECIPES[name]
    meta = {"arch": ARCH, "arch_kwargs": json.dumps(recipe.arch_kwargs), "version": VERSION,
            "crop": json.dumps(asdict(CropSpec(size=recipe.spec.size, gray=not recipe.spec.colour))),
            "patch": json.dumps(asdict(recipe.spec)), "part": name, **metadata}
    save_checkpoint({k: v.contiguous() for k, v in net.state_dict().items()}, path, meta)


def assemble(first_stage: str | Path, path: Path, names: list[str]) -> Path:
    """Write `path` (+ `.onnx`): the first stage's weights and metadata with `refine` listing `names`,
    whose part checkpoints must lie beside it (`vidkp.landmarks.refine.part_path`)."""
    with safe_open(str(first_stage), framework="pt") as f:
        meta = {**(f.metadata() or {}), "refine": json.dumps(names)}
        state = {k: f.get_tensor(k) for k in f.keys()}
    missing = [str(part_path(path, n)) for n in names if not part_path(path, n).is_file()]
    if missing:
        raise FileNotFoundError(f"part checkpoints missing: {', '.join(missing)}")
    save_checkpoint(state, path, meta)
    return path


def install(out: Path, names: list[str], target: Path) -> Path:
    """Copy the parts trained in `out` beside the first stage `target` (`<stem>.<part>.*`) and list
    them in its metadata, with any parts it lists already: the model at `target` then refines."""
    for name in names:
        for suffix in (".safetensors", ".onnx"):
            shutil.copyfile(out / f"landmarks.{name}{suffix}", part_path(target, name).with_suffix(suffix))
    listed = json.loads(read_metadata(target).get("refine", "[]"))
    return assemble(target, target, [*listed, *(n for n in names if n not in listed)])


GAIN_MEASURES: dict[str, tuple[tuple[np.ndarray, int, str], ...]] = {
    "eye": ((np.arange(6), 1, "eye_opening"),),
    "mouth": ((np.arange(20), 0, "mouth_width"), (np.arange(12), 1, "outer_lip_height"),
              (np.arange(12, 20), 1, "inner_lip_gap")),
}
"""Which fidelity measure (`training.fidelity.MEASURES`) sets each part's gain for a group of its
points (indices in the part's output order) along a patch axis (0: x, 1: y, across the eye line);
points and axes not named keep scale 1."""


def with_gains(model: LandmarkModel, gains: dict[str, ShapeGain], blends: dict[str, float] | None = None
               ) -> LandmarkModel:
    """The same model with its parts' `ShapeGain`s replaced by `gains` (and, given `blends`, its
    blend weights by those)."""
    ref = model.refiner
    return LandmarkModel(model.path, refiner=Refiner(ref.networks, ref.specs, gains,
                                                     ref.blends if blends is None else blends))


def without_gain(model: LandmarkModel) -> LandmarkModel:
    """The same model with its parts' `ShapeGain`s left out (the networks' own points)."""
    return with_gains(model, {})


def shape_means(model: LandmarkModel, data: Samples) -> dict[str, ShapeGain]:
    """`ShapeGain`s with scale 1 of a model's parts (its gains left out) from its single-pass points on
    `data` (label-derived boxes): the mean centred part shapes of the networks' outputs and of the
    labels in the same patches (both eyes, the mouth and its mirror image)."""
    model = without_gain(model)
    ref, boxes, dx = model.refiner, model.box_from_landmarks(data.keypoints), np.array([model.label_x_offset, 0.0])
    units: dict[str, list] = {n: [] for n in ref.networks}
    labels: dict[str, list] = {n: [] for n in ref.networks}
    for i in range(len(data)):
        image = data.image(i)
        first = model.predict(image, boxes[i:i + 1], refine=False)[0].astype(np.float64) - dx
        truth = data.keypoints[i:i + 1].astype(np.float64) - dx
        for name in ref.networks:
            mats = ref.frames(first, name, both=True)
            units[name].append(ref.units(image, name, mats, ref.points(first, name, both=True)))
            labels[name].append(to_patch_units(ref.points(truth, name, both=True), mats, ref.specs[name].size))

    def centred_mean(u: list) -> np.ndarray:
        a = np.concatenate(u).astype(np.float64)
        return (a - a.mean(axis=1, keepdims=True)).mean(axis=0)

    return {n: ShapeGain(centred_mean(units[n]), centred_mean(labels[n]), np.ones(2)) for n in ref.networks}


def fit_gain(weights: str | Path, data: Samples, folds: list[tuple[Path, np.ndarray]] = ()) -> dict[str, ShapeGain]:
    """`ShapeGain`s of an assembled model's parts, fitted on `data` (the training people, label-derived
    boxes, single pass) for its parts' outputs blended as its checkpoints say (the fold models
    blended the same): `shape_means`, then for each of the `GAIN_MEASURES` the scale 1 / that
    measure's spread once the means are corrected, across faces or within videos as the part's recipe
    says (`PartRecipe.gain_spread`).

    Without `folds` the spreads are those of the model itself on `data`, people it trained on. `folds`:
    (assembled model, indices into `data`) pairs that cover `data`, each model's parts trained on the
    rest of `data`; the spreads are then measured out of fold: each fold's points come from the model
    that never saw its people, with that model's own `shape_means` on the rest (cross-fitting: the
    spread of people the networks did not train on, as in use)."""
    model = LandmarkModel(weights)
    gains = shape_means(model, data)
    if folds:
        pred = np.full((len(data), 68, 2), np.nan, np.float32)
        for fold_weights, held in folds:
            fold = with_gains(LandmarkModel(fold_weights), {}, model.refiner.blends)
            rest = data.subset(np.setdiff1d(np.arange(len(data)), held))
            sub = data.subset(held)
            pred[held] = predict(with_gains(fold, shape_means(fold, rest)), sub, fold.box_from_landmarks(sub.keypoints))
    else:
        pred = predict(with_gains(model, gains), data, model.box_from_landmarks(data.keypoints))
    kept = {"faces": fidelity(pred, data.keypoints),
            "videos": within_videos(pred, data.keypoints, [video_of(n) for n in data.names])}
    out = {}
    for name, g in gains.items():
        scale = np.ones((len(PARTS[name].points), 2))
        spread = kept[RECIPES[name].gain_spread]
        for points, axis, measure in GAIN_MEASURES[name]:
            if not spread[f"{measure}_spread"] > 0:
                raise ValueError(f"cannot fit the {name} gain: no {RECIPES[name].gain_spread} spread of {measure} "
                                 "(a within-video gain needs videos with two or more labelled frames)")
            scale[points, axis] = 1.0 / spread[f"{measure}_spread"]
        out[name] = replace(g, scale=scale)
    return out


def score_refinement(weights: str | Path, data: Samples) -> list[dict]:
    """Points of an assembled model from label-derived boxes (single pass): first stage alone, refined
    without the parts' gains and refined as the model stands."""
    model = LandmarkModel(weights)
    boxes = model.box_from_landmarks(data.keypoints)
    setting = {"set": "val", "setting": "label box, single pass"}
    rows = [("first stage", predict(model, data, boxes, refine=False)),
            ("refined, no gain", predict(without_gain(model), data, boxes)),
            ("refined", predict(model, data, boxes))]
    videos = [video_of(n) for n in data.names]
    return [{"model": name, **setting, **scored(p, data.keypoints, videos=videos)} for name, p in rows]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="facial_keypoints folder")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--parts", default="eye,mouth")
    ap.add_argument("--train-set", default="train", choices=["train", "trainval"])
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: each part's recipe)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opening-weight", type=float, default=1.0)
    ap.add_argument("--noise", default="{}", help="FrameNoise fields as JSON")
    ap.add_argument("--spread-weight", type=float, default=0.0, help="weight of the heatmaps' spread in the loss")
    ap.add_argument("--heatmap-weight", type=float, default=0.0,
                    help="weight of the heatmaps' cross-entropy against Gaussians at the targets")
    ap.add_argument("--loss", default=None, choices=sorted(POINT_LOSSES),
                    help="the point loss (default: each part's recipe)")
    ap.add_argument("--patch", action="append", default=[],
                    help="PART=SIZExSIDE: another patch for a part, e.g. eye=40x0.8 (pixels, outer-eye distances)")
    ap.add_argument("--pair-weight", type=float, default=0.0,
                    help="weight of the loss on changes between two frames of one video")
    ap.add_argument("--gain-spread", action="append", default=[],
                    help="PART=faces|videos: which spread that part's gain matches (default: each part's recipe)")
    ap.add_argument("--blend", action="append", default=[],
                    help="PART=W: weight in [0, 1] of the first stage's points in that part's output "
                         "(default: each part's recipe)")
    ap.add_argument("--colour", action="append", default=[], choices=sorted(RECIPES),
                    help="PART: that part sees BGR patches, not gray")
    ap.add_argument("--no-gain", action="store_true", help="leave the parts without a ShapeGain")
    ap.add_argument("--gain-folds", type=int, default=GAIN_FOLDS,
                    help="K > 1: fit the gains out of fold, from K more networks per part, each trained without "
                         "one of K people-disjoint folds (`fit_gain`); 1: on the networks' own training people")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", default=None, help="the first stage (default: shipped)")
    ap.add_argument("--eval-only", action="store_true", help="assemble and score the part networks already in --out")
    ap.add_argument("--install", type=Path, default=None,
                    help="then add the parts to this first-stage checkpoint (e.g. models/landmarks_default.safetensors)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    splits = make_splits(args.data)
    names = [p for p in args.parts.split(",") if p]
    noise = FrameNoise(**json.loads(args.noise))
    for item in args.patch:
        m = re.fullmatch(rf"({'|'.join(RECIPES)})=(\d+)x{NUMBER}", item)
        if not m:
            ap.error(f"--patch expects PART=SIZExSIDE with PART eye or mouth, e.g. eye=40x0.8; got {item!r}")
        name, size, side = m.groups()
        r = RECIPES[name]
        RECIPES[name] = replace(r, spec=replace(r.spec, size=int(size), side=float(side)),
                                arch_kwargs={**r.arch_kwargs, "size": int(size)})
    for item in args.gain_spread:
        m = re.fullmatch(rf"({'|'.join(RECIPES)})=(faces|videos)", item)
        if not m:
            ap.error(f"--gain-spread expects PART=faces or PART=videos with PART eye or mouth; got {item!r}")
        RECIPES[m[1]] = replace(RECIPES[m[1]], gain_spread=m[2])
    for item in args.blend:
        m = re.fullmatch(rf"({'|'.join(RECIPES)})={NUMBER}", item)
        if not m or not 0.0 <= float(m[2]) <= 1.0:
            ap.error(f"--blend expects PART=W with PART eye or mouth and W in [0, 1]; got {item!r}")
        RECIPES[m[1]] = replace(RECIPES[m[1]], blend=float(m[2]))
    for name in args.colour:
        r = RECIPES[name]
        RECIPES[name] = replace(r, spec=replace(r.spec, colour=True), arch_kwargs={**r.arch_kwargs, "channels": 3})
    if args.gain_folds < 1:
        ap.error(f"--gain-folds must be 1 or more; got {args.gain_folds}")
    data = splits[args.train_set].load_images()
    folds = person_folds(data.names, args.gain_folds, args.seed) if args.gain_folds > 1 else []
    fold_dirs = [args.out / f"fold{j}" for j in range(len(folds))]
    for name in names:
        if args.eval_only:
            continue
        steps = args.steps or RECIPES[name].steps
        for out, held in [(args.out, np.array([], np.int64)), *zip(fold_dirs, folds)]:
            out.mkdir(exist_ok=True)
            net = train_part(data.subset(np.setdiff1d(np.arange(len(data)), held)), name, steps, args.batch, args.lr,
                             args.seed, args.opening_weight, noise, AugmentConfig(), out / f"curves_{name}.csv",
                             args.spread_weight, args.heatmap_weight, args.loss, args.pair_weight)
            save_part(net, name, out / f"landmarks.{name}.safetensors",
                      {"train_set": args.train_set if out == args.out else f"{args.train_set} less {out.name}",
                       "train_steps": str(steps),
                       "train_command": " ".join(["python -m training.refine", *(argv or sys.argv[1:])])})
    first_stage = args.weights or default_weights_path()
    path = assemble(first_stage, args.out / "landmarks.safetensors", names)
    for name in names:
        add_metadata(part_path(path, name), part_path(path, name), {"blend": str(RECIPES[name].blend)})
    if not args.no_gain:
        fold_models = [(assemble(first_stage, d / "landmarks.safetensors", names), held)
                       for d, held in zip(fold_dirs, folds)]
        for name, gain in fit_gain(path, data, fold_models).items():
            add_metadata(part_path(path, name), part_path(path, name), {"gain": gain.to_json()})
            x, y = (np.unique(gain.scale[:, axis].round(3)) for axis in (0, 1))
            print(f"{name} gain: scale x {x}, y {y}", flush=True)
    rows = score_refinement(path, splits["val"].load_images())
    (args.out / "eval.json").write_text(json.dumps(rows, indent=1))
    for r in rows:
        print(f"{r['model']}: NME {100 * r['mean']:.2f}% eyes {100 * r['eyes']:.2f}% mouth {100 * r['mouth']:.2f}% "
              f"failure {100 * r['failure']:.2f}%")
    print(fidelity_table(rows))
    if args.install:
        print(f"installed: {install(args.out, names, args.install)}")


if __name__ == "__main__":
    main()
