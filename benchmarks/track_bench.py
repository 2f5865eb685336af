"""Video benchmark: tracking vs detecting every frame vs dlib, on generated clips and the real clip.

    python -m benchmarks.track_bench --data ../shared/data [--frames 90] [--no-dlib]
        [--people val --clips-per-kind 3] [--no-every-frame] [--backends onnx,torch] [--detector '{"min_neighbors": 5}'] [--follow '{"max_gap": 15}']

The hold-out clips give the reported figures; settings of the follower are chosen on clips made
the same way from validation people (`--people val`), never on the hold-out.

Every method runs single-threaded (torch, OpenCV) on clips decoded from mp4 files, so frames/s
includes decoding. Generated clips come from people hold-out faces with known points
(benchmarks/gtvideo.py); the real clip has four shots (cuts before frames 20, 82 and 211) and
the singer facing the camera in frames 82-210.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import pandas as pd
import torch

from benchmarks.gtvideo import KINDS, MOVING, generated_clips, load_faces
from vidkp.detect.haar import HaarDetector, video_detector, video_quick_detectors
from vidkp.tracking.follow import FaceFollower, FollowConfig
from training import nets
from vidkp.landmarks import LandmarkModel, default_weights_path
from benchmarks.iou_tracker import Tracker

Output = tuple[np.ndarray, np.ndarray]  # ids (n,), points (n, 68, 2)
Method = Callable[[np.ndarray, float], Output]
REAL_SHOTS = ((0, 19), (20, 81), (82, 210), (211, 274))


def frames(path: Path) -> Iterator[tuple[np.ndarray, float]]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        yield frame, i / fps
        i += 1
    cap.release()


def quick_overrides(detector: dict | None) -> dict:
    """`HaarDetector` overrides for the quick detectors: all but `downscale` and `rolls`, which
    make them the quick detectors (`video_quick_detectors`)."""
    return {k: v for k, v in (detector or {}).items() if k not in ("downscale", "rolls")}


def vidkp_tracking(model: LandmarkModel, detector: dict | None = None, follow: dict | None = None) -> Method:
    """vidkp's follower as `vidkp run` builds it (`video_quick_detectors`: quick passes at half the
    detector's resolution, every other one on the frame rotated both ways instead); `detector` / `follow`
    override `HaarDetector` (every detector) / `FollowConfig` fields."""
    det = video_detector().replace(**(detector or {}))
    quick = [d.replace(**quick_overrides(detector)) for d in video_quick_detectors()]
    follower = FaceFollower(model, det, FollowConfig(**(follow or {})), quick=quick)

    def step(image: np.ndarray, t: float) -> Output:
        faces = follower.step(image, t)
        return faces.track_ids, faces.keypoints

    step.reset = follower.reset  # type: ignore[attr-defined]
    return step


def vidkp_every_frame(model: LandmarkModel) -> Method:
    """Haar on every frame, landmarks from its boxes, ids by IoU (no follower)."""
    det, tracker = HaarDetector(), Tracker()

    def step(image: np.ndarray, t: float) -> Output:
        faces = det(image)
        faces = tracker.update(faces.with_keypoints(model.predict(image, faces.boxes)[0]))
        return faces.track_ids, faces.keypoints

    step.reset = tracker.reset  # type: ignore[attr-defined]
    return step


def dlib_hog68() -> Method | None:
    """dlib's HOG detector + 68-point predictor (optional extra: dlib-bin, face-recognition-models)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if importlib.util.find_spec("dlib") is None or spec is None:
        return None
    import dlib

    from vidkp.faces import Faces

    dat = Path(spec.submodule_search_locations[0]) / "models" / "shape_predictor_68_face_landmarks.dat"
    detector, predictor, tracker = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dat)), Tracker()

    def step(image: np.ndarray, t: float) -> Output:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rects = detector(rgb, 0)
        kps = np.array([[(p.x, p.y) for p in predictor(rgb, r).parts()] for r in rects], np.float32).reshape(-1, 68, 2)
        boxes = np.array([[r.left(), r.top(), r.width(), r.height()] for r in rects], np.float32).reshape(-1, 4)
        faces = tracker.update(Faces(boxes, np.ones(len(boxes)), kps))
        return faces.track_ids, faces.keypoints

    step.reset = tracker.reset  # type: ignore[attr-defined]
    return step


def run_method(method: Method, path: Path) -> tuple[list[Output], float]:
    method.reset()  # type: ignore[attr-defined]
    outs, t0 = [], time.perf_counter()
    for image, t in frames(path):
        outs.append(method(image, t))
    return outs, time.perf_counter() - t0


def match_truth(truth: np.ndarray, outs: list[Output]) -> tuple[np.ndarray, np.ndarray]:
    """Match outputs to true faces per frame by mean point distance (< 0.5 IOD), greedily in the
    true faces' order: per (frame, true face) the matched output's index (-1: none, or the face is
    not visible) and its error in IODs (NaN where unmatched)."""
    which = np.full(truth.shape[:2], -1, np.int64)
    errors = np.full(truth.shape[:2], np.nan)
    for i, (gt, (ids, kps)) in enumerate(zip(truth, outs)):
        used: list[int] = []
        for j, g in enumerate(gt):
            if np.isnan(g[0, 0]) or len(kps) == 0:
                continue
            err = np.linalg.norm(kps - g[None], axis=2).mean(axis=1) / float(np.linalg.norm(g[45] - g[36]))
            err[used] = np.inf
            k = int(np.argmin(err))
            if err[k] <= 0.5:
                used.append(k)
                which[i, j], errors[i, j] = k, err[k]
    return which, errors


def score_generated(kind: str, truth: np.ndarray, outs: list[Output]) -> dict[str, float]:
    """Coverage of visible face-frames, NME, still-face jitter, id switches, false faces per frame
    (`match_truth`)."""
    which, errors = match_truth(truth, outs)
    visible = int(np.isfinite(truth[:, :, 0, 0]).sum())
    matched = which >= 0
    switches, last_id = 0, {}
    track_pts: dict[int, list[np.ndarray]] = {}
    for i, j in zip(*np.nonzero(matched)):
        ids, kps = outs[i]
        k = which[i, j]
        if j in last_id and last_id[j] != ids[k]:
            switches += 1
        last_id[j] = int(ids[k])
        track_pts.setdefault(j, []).append(kps[k] / float(np.linalg.norm(truth[i, j, 45] - truth[i, j, 36])))
    false = sum(len(o[0]) for o in outs) - int(matched.sum())
    jitter = np.nan
    if kind == "still" and track_pts:
        jitter = float(np.mean([np.stack(p[5:]).std(axis=0).mean() for p in track_pts.values() if len(p) > 6]))
    return {"coverage": int(matched.sum()) / max(visible, 1),
            "nme": float(np.nanmean(errors)) if matched.any() else np.nan,
            "jitter": jitter, "id_switches": switches, "false_per_frame": false / len(outs)}


def score_real(outs: list[Output]) -> dict[str, float]:
    """Singer coverage in shot 82-210 under its main id, faces per frame per shot, ids crossing cuts."""
    a, b = REAL_SHOTS[2]
    shot = outs[a : b + 1]
    ids = [int(i) for o in shot for i in o[0]]
    main = max(set(ids), key=ids.count) if ids else -1
    with_face = sum(len(o[0]) > 0 for o in shot)
    main_frames = sum(main in set(o[0].tolist()) for o in shot)
    singer_ids = {int(o[0][0]) for o in shot if len(o[0]) == 1}
    row = {"singer_coverage": with_face / len(shot), "singer_main_id_coverage": main_frames / len(shot),
           "singer_ids": len(singer_ids), "false_per_frame_singer_shot": sum(max(len(o[0]) - 1, 0) for o in shot) / len(shot)}
    for s, (lo, hi) in enumerate(REAL_SHOTS):
        row[f"faces_per_frame_shot{s}"] = float(np.mean([len(o[0]) for o in outs[lo : hi + 1]]))
    crossing = 0
    for cut in (REAL_SHOTS[1][0], REAL_SHOTS[2][0], REAL_SHOTS[3][0]):
        crossing += len(set(outs[cut - 1][0].tolist()) & set(outs[cut][0].tolist()))
    row["tracks_crossing_cuts"] = crossing
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--frames", type=int, default=90, help="frames per generated clip")
    ap.add_argument("--no-dlib", action="store_true")
    ap.add_argument("--no-every-frame", action="store_true", help="skip the detect-every-frame method (faster)")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--backends", default="onnx",
                    help=f"comma list of landmark backends ({', '.join(nets.BACKENDS)}) for the vidkp methods; "
                         "with more than one, each method is run with each, its name suffixed by the backend")
    ap.add_argument("--people", choices=["holdout", "val"], default="holdout",
                    help="faces of the generated clips: hold-out (report) or validation people (choose settings)")
    ap.add_argument("--clips-per-kind", type=int, default=1)
    ap.add_argument("--detector", type=json.loads, default=None,
                    help='JSON overrides of the tracking detector, e.g. \'{"min_neighbors": 5}\'')
    ap.add_argument("--follow", type=json.loads, default=None,
                    help='JSON overrides of FollowConfig, e.g. \'{"detect_every": 15}\'')
    args = ap.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    backends = args.backends.split(",")
    if set(backends) - set(nets.BACKENDS):
        ap.error(f"unknown --backends {sorted(set(backends) - set(nets.BACKENDS))}; known: {', '.join(nets.BACKENDS)}")
    methods: dict[str, Method] = {}
    for backend in backends:
        model = nets.landmark_model(args.weights or default_weights_path(), backend, threads=1)
        suffix = f" ({backend})" if len(backends) > 1 else ""
        methods["vidkp tracking" + suffix] = vidkp_tracking(model, args.detector, args.follow)
        if not args.no_every_frame:
            methods["vidkp detect every frame" + suffix] = vidkp_every_frame(model)
    dl = None if args.no_dlib else dlib_hog68()
    if dl is not None:
        methods["dlib HOG+68"] = dl
    faces = load_faces(args.data, args.people, limit=2 * len(KINDS) * args.clips_per_kind, seed=1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, _, clip, path in generated_clips(faces, KINDS, args.clips_per_kind, args.frames, tmp):
            for name, m in methods.items():
                outs, secs = run_method(m, path)
                rows.append({"clip": kind, "method": name, **score_generated(kind, clip.points, outs),
                             "fps": len(outs) / secs})
    gen = pd.DataFrame(rows)
    overall = gen.groupby("method").agg(coverage=("coverage", "mean"), nme=("nme", "mean"), fps=("fps", "mean"),
                                        id_switches=("id_switches", "sum"), false_per_frame=("false_per_frame", "mean"))
    moving = gen[gen["clip"].isin(MOVING)].groupby("method").nme.mean().rename("nme_moving")
    still = gen[gen["clip"] == "still"].groupby("method").jitter.mean().rename("jitter_still")
    pd.set_option("display.width", 200)
    pd.set_option("display.float_format", lambda v: f"{v:.4f}")
    print(f"## Generated clips ({args.people} people, {args.clips_per_kind} per kind), per clip\n")
    print(gen.to_string(index=False))
    print("\n## Generated clips, overall\n")
    print(pd.concat([overall, moving, still], axis=1).to_string())
    real = Path(args.data) / "videos" / "short_hamilton_clip.mp4"
    if real.exists():
        rrows = []
        for name, m in methods.items():
            outs, secs = run_method(m, real)
            rrows.append({"method": name, **score_real(outs), "fps": len(outs) / secs})
        print("\n## Real clip (short_hamilton_clip.mp4)\n")
        print(pd.DataFrame(rrows).set_index("method").T.to_string())


if __name__ == "__main__":
    main()
