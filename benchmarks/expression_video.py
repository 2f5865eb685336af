"""How much of a labelled change of expression survives tracking: lips opening, eyes closing.

    python -m benchmarks.expression_video [--data ../shared/data] [--people holdout|val]
        [--hold 8] [--weights W ...] [--no-dlib]

Clips: the dataset's `Person_VF.jpg` names are frames F of one video V of a person, so their
labels hold the same face opening and closing its mouth and eyes. For each video with at least
three labelled frames, each frame (the whole labelled image) is warped onto a 640x360 canvas by
the similarity that puts its outer eye corners (points 36, 45) at fixed places 64 px apart, and
held for `--hold` frames at 30 fps; the frames play in order, then back, so each change is seen
twice. The true points of every canvas frame are the labels warped the same way.

Each method runs the clip as video (vidkp: the follower as `vidkp run` builds it, with the
default One-Euro smoothing, and with smoothing off; dlib: HOG detector + 68-point predictor on
every frame, no smoothing). Per frame, the output face nearest the truth (mean point distance
under 0.5 outer-eye distances) is scored. For inner-lip gap, outer-lip height and eye opening
(`training.fidelity.MEASURES`, in labelled outer-eye distances), the share of the labelled
change that the output keeps is the least-squares slope of the output measure on the labelled
one, with each clip's mean removed from both, pooled over clips (1: the whole change, 0: none);
`settled` uses only the last frame of each hold, `all` every frame (it also counts the lag).
"""
from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from benchmarks.gtvideo import GTClip
from benchmarks.track_bench import Method, dlib_hog68, run_method, vidkp_tracking
from training.dataset import make_splits, video_of
from training.fidelity import centred_within, measures, slope
from vidkp.landmarks import LandmarkModel

SIZE = (640, 360)
EYE_LEFT, EYE_RIGHT = (288.0, 150.0), (352.0, 150.0)
KEPT = ("inner_lip_gap", "outer_lip_height", "eye_opening")


def video_frames(data_dir: Path, people: str) -> dict[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    """Labelled frames of each (person, video), in frame order: key `Person_V` -> [(name, BGR image, points)]."""
    root = data_dir / "facial_keypoints"
    splits = make_splits(root)
    if people not in ("holdout", "val"):
        raise ValueError(f"expected people 'holdout' or 'val', got {people!r}")
    s = splits[people]
    videos: dict[str, list] = defaultdict(list)
    for i in range(len(s)):
        videos[video_of(s.names[i])].append((Path(s.names[i]).stem, s.image(i), s.keypoints[i].astype(np.float64)))
    return {k: sorted(v, key=lambda f: f[0]) for k, v in sorted(videos.items()) if len(v) >= 3}


def eye_similarity(points: np.ndarray) -> np.ndarray:
    """2x3 matrix mapping the outer eye corners (36, 45) of `points` onto EYE_LEFT, EYE_RIGHT."""
    src = points[[36, 45]]
    dst = np.array([EYE_LEFT, EYE_RIGHT])
    sv, dv = src[1] - src[0], dst[1] - dst[0]
    k = np.linalg.norm(dv) / max(np.linalg.norm(sv), 1e-6)
    a = np.arctan2(dv[1], dv[0]) - np.arctan2(sv[1], sv[0])
    r = k * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([r, (dst[0] - r @ src[0])[:, None]])


def expression_clip(frames: list[tuple[str, np.ndarray, np.ndarray]], hold: int, fps: float = 30.0
                    ) -> tuple[GTClip, np.ndarray]:
    """The clip of one video's labelled frames (forward, then back), each held `hold` frames, and
    a mask (n_frames,) of the last frame of each hold."""
    order = list(range(len(frames))) + list(range(len(frames) - 2, -1, -1))
    images, truth, last = [], [], []
    for j in order:
        _, img, pts = frames[j]
        m = eye_similarity(pts)
        canvas = cv2.warpAffine(img, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        warped = pts @ m[:, :2].T + m[:, 2]
        for h in range(hold):
            images.append(canvas)
            truth.append(warped[None])
            last.append(h == hold - 1)
    points = np.asarray(truth, np.float32)
    inside = ((points >= 0) & (points < np.array(SIZE, np.float32))).all(axis=(2, 3))  # (frames, 1)
    return GTClip("expression", fps, images, points, inside), np.asarray(last)


def matched_points(truth: np.ndarray, outs: list) -> np.ndarray:
    """Per frame the output face nearest the one true face (mean distance < 0.5 IOD), NaN if none."""
    got = np.full((len(truth), 68, 2), np.nan)
    for f, (g, (_, kps)) in enumerate(zip(truth[:, 0], outs)):
        if len(kps):
            err = np.linalg.norm(kps - g[None], axis=2).mean(axis=1) / np.linalg.norm(g[45] - g[36])
            k = int(np.argmin(err))
            if err[k] < 0.5:
                got[f] = kps[k]
    return got


def kept_share(pred: list[np.ndarray], label: list[np.ndarray]) -> float:
    """Pooled least-squares slope of `pred` on `label` over clips, each clip's means removed
    (frames where pred is NaN left out; `training.fidelity.centred_within`); NaN when the labels do
    not change."""
    if not label:
        return float("nan")
    groups = np.concatenate([np.full(len(y), c) for c, y in enumerate(label)])
    return slope(*centred_within(np.concatenate(pred), np.concatenate(label), groups))


def evaluate_method(method: Method, clips: list[tuple[GTClip, np.ndarray]], tmp: Path) -> dict[str, float]:
    """Coverage and, per measure in KEPT, the kept share over all frames and over settled frames."""
    per = {k: {"all": ([], []), "settled": ([], [])} for k in KEPT}
    seen = total = 0
    for c, (clip, last) in enumerate(clips):
        path = clip.write(tmp / f"expr{c}.mp4")
        outs, _ = run_method(method, path)
        truth = clip.points.astype(np.float64)
        got = matched_points(truth, outs)
        iod = np.linalg.norm(truth[:, 0, 45] - truth[:, 0, 36], axis=-1)
        mp, ml = measures(got, iod), measures(truth[:, 0], iod)
        seen, total = seen + int(np.isfinite(got[:, 0, 0]).sum()), total + len(got)
        for k in KEPT:
            for name, sel in (("all", slice(None)), ("settled", last)):
                per[k][name][0].append(mp[k][sel])
                per[k][name][1].append(ml[k][sel])
    row = {"coverage": seen / max(total, 1)}
    for k in KEPT:
        for name in ("settled", "all"):
            row[f"{k} {name}"] = kept_share(*per[k][name])
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--people", choices=["holdout", "val"], default="holdout",
                    help="whose videos: hold-out (report) or validation people (choosing models)")
    ap.add_argument("--hold", type=int, default=8, help="canvas frames each labelled frame is held")
    ap.add_argument("--weights", action="append", help="landmark weights (repeatable; default: the shipped ones)")
    ap.add_argument("--no-dlib", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    videos = video_frames(Path(a.data), a.people)
    clips = [expression_clip(f, a.hold) for f in videos.values()]
    methods: dict[str, Method] = {}
    for w in a.weights or [None]:
        model = LandmarkModel(w, threads=1)
        name = Path(w).parent.name + "/" + Path(w).name if w else "shipped"
        methods[f"vidkp {name}, smoothed"] = vidkp_tracking(model)
        methods[f"vidkp {name}, not smoothed"] = vidkp_tracking(model, follow={"smooth": False})
    dl = None if a.no_dlib else dlib_hog68()
    if dl is not None:
        methods["dlib HOG+68, every frame"] = dl
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, m in methods.items():
            rows.append({"method": name, **evaluate_method(m, clips, Path(tmp))})
    n_frames = sum(len(c.frames) for c, _ in clips)
    print(f"{len(clips)} clips ({a.people} people's videos, {n_frames} frames, each labelled frame held {a.hold})\n")
    pd.set_option("display.width", 250)
    pd.set_option("display.float_format", lambda v: f"{v:.3f}")
    print(pd.DataFrame(rows).set_index("method").to_string())


if __name__ == "__main__":
    main()
