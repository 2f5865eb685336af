"""Finding faces, fast and soon: vidkp vs dlib HOG+68 vs MediaPipe face mesh, one core, one run.

    python -m benchmarks.detect_bench --data ../shared/data [--people holdout|val] [--rounds 3]
        [--kinds tilt,edge,cross,...] [--clips-per-kind 1] [--frames 90] [--no-dlib] [--no-mediapipe]
        [--mediapipe-wheel PATH] [--detector JSON] [--quick JSON] [--follow JSON]
        [--variants '{"NAME": {"detector": {...}, "quick": {...}, "follow": {...}, "refine": false}}'] [--cpu N]

Inputs: generated clips (benchmarks/gtvideo.py; by default every kind, including tilt, edge
and cross), the real clip (../shared/data/videos/short_hamilton_clip.mp4, 640x360) and 720p
and 1080p H.264 copies of it (upscaled, libx264 defaults through PyAV, `pip install av`; made
once under .cache/detect_bench/). Per input and method: frames/s (median over `--rounds`, methods
alternated within each round, decoding included), ms per frame per stage (vidkp: decode,
detect, landmarks, track as the manifest splits them; others: decode and the rest), new-face
latency, coverage, id switches, NME and false faces per frame (generated clips), the singer's
coverage, ids and latency and tracks across cuts (real clip); and frames/s of decoding alone,
on one decoder thread and on OpenCV's default.

One core: the benchmark pins itself, and so the MediaPipe subprocess, to one CPU (`--cpu`,
sched_setaffinity); OpenCV runs on one thread (`cv2.setNumThreads(1)`, decoder threads 1),
ONNX Runtime on one thread; MediaPipe's legacy API has no thread setting, so its threads share
that CPU. Ids of dlib and MediaPipe come from the IoU tracker (benchmarks/iou_tracker.py).

MediaPipe (`mediapipe==0.10.21`, the last wheel with the legacy face mesh model inside) pins
numpy<2 and protobuf 4, which clash with vidkp's, so it runs from a venv of its own that this
benchmark makes on first use at .cache/mediapipe-venv: `python -m venv`, then `pip install
--no-deps mediapipe==0.10.21` (or `--mediapipe-wheel PATH`) and only what the face mesh
solution imports (numpy<2, protobuf 4, absl-py, attrs, flatbuffers, matplotlib,
opencv-python-headless; not jax, sentencepiece or sounddevice). benchmarks/mediapipe_worker.py
runs there, one subprocess per video and round, and returns its points and time as JSON.

Latency: for each appearance of a true face (a run of frames in which it is visible), frames
from its first fully visible frame (`GTClip.full`) to its first match (0 when matched by then);
`latency_max` is the largest over a clip's appearances, `never_found` counts appearances never
matched (their latency is counted to the appearance's end). The hold-out people give the
reported figures; choose settings with `--people val`. `--variants` adds vidkp methods with other
settings ("vidkp NAME"), run alternated with the others, to compare settings side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import pandas as pd

from benchmarks.gtvideo import EXTRA_KINDS, KINDS, generated_clips, load_faces
from benchmarks.iou_tracker import Tracker
from benchmarks.track_bench import REAL_SHOTS, Output, dlib_hog68, match_truth, quick_overrides, score_generated, score_real
from vidkp.detect.haar import video_detector, video_quick_detectors
from vidkp.faces import Faces
from vidkp.io.decode import VideoReader
from vidkp.landmarks import LandmarkModel
from vidkp.tracking.follow import FaceFollower, FollowConfig

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
MEDIAPIPE_VENV = CACHE / "mediapipe-venv"
MEDIAPIPE_DEPS = ("numpy<2", "protobuf>=4.25.3,<5", "absl-py", "attrs>=19.1.0", "flatbuffers>=2.0", "matplotlib",
                  "opencv-python-headless")
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


class Run:
    """One method's pass over one video: outputs per frame, seconds in total and per stage."""

    def __init__(self) -> None:
        self.outs: list[Output] = []
        self.seconds = 0.0
        self.stages: dict[str, float] = {}


Method = Callable[[Path], Run]


def _decoded(path: Path, run: Run) -> Iterator[tuple[np.ndarray, float]]:
    """Frames decoded on one thread, in order, as a generator; decode seconds go to run.stages."""
    with VideoReader(path, threads=1) as reader:
        it = reader.frames()
        while True:
            t0 = time.perf_counter()
            item = next(it, None)
            run.stages["decode"] = run.stages.get("decode", 0.0) + time.perf_counter() - t0
            if item is None:
                return
            yield item[0].image, item[0].timestamp


def vidkp_method(model: LandmarkModel, detector: dict | None = None, follow: dict | None = None,
                 quick: dict | list[dict] | None = None) -> Method:
    """vidkp's follower as the pipeline builds it (`video_quick_detectors`: quick passes at half
    resolution, every other one on the frame rotated both ways instead); `detector` overrides `HaarDetector`
    settings of every detector (the quick ones keep their downscale and rolls); `quick` replaces
    the quick detectors by the full one at half resolution with these overrides (a list: several
    quick detectors taken in turn; `{}`: one upright quick detector); `follow` `FollowConfig` fields. Stages split as the manifest's
    timings_ms (track = the follower's time outside detector and network)."""
    det = video_detector().replace(**(detector or {}))
    if quick is None:
        fast = [d.replace(**quick_overrides(detector)) for d in video_quick_detectors()]
    else:
        fast = [det.replace(downscale=2 * det.downscale, **q) for q in (quick if isinstance(quick, list) else [quick])]
    follower = FaceFollower(model, det, FollowConfig(**(follow or {})), quick=fast)

    def run_video(path: Path) -> Run:
        run = Run()
        run.stages = {"decode": 0.0, "detect": 0.0, "landmarks": 0.0, "track": 0.0}
        follower.reset()
        t0 = time.perf_counter()
        for image, t in _decoded(path, run):
            t1 = time.perf_counter()
            faces = follower.step(image, t)
            run.stages["track"] += time.perf_counter() - t1 - sum(follower.times.values())
            for k, v in follower.times.items():
                run.stages[k] += v
            run.outs.append((faces.track_ids, faces.keypoints))
        run.seconds = time.perf_counter() - t0
        return run

    return run_video


def per_frame_method(step: Callable[[np.ndarray, float], Output]) -> Method:
    """A method that sees each decoded frame (`step`, with a `reset`): stages decode and other."""

    def run_video(path: Path) -> Run:
        run = Run()
        step.reset()  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        for image, t in _decoded(path, run):
            run.outs.append(step(image, t))
        run.seconds = time.perf_counter() - t0
        run.stages["other"] = run.seconds - run.stages["decode"]
        return run

    return run_video


def mediapipe_python(wheel: str | None) -> Path:
    """The Python of MediaPipe's own venv, made on first use (see the module docstring)."""
    py = MEDIAPIPE_VENV / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import mediapipe"], capture_output=True).returncode == 0:
        return py
    print(f"making {MEDIAPIPE_VENV} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(MEDIAPIPE_VENV)], check=True)
    pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", wheel or "mediapipe==0.10.21"], check=True)
    subprocess.run([*pip, *MEDIAPIPE_DEPS], check=True)
    return py


def mediapipe_method(python: Path, max_faces: int = 4) -> Method:
    """MediaPipe face mesh in video mode (benchmarks/mediapipe_worker.py in its venv); ids by the
    IoU tracker on the points' bounding boxes. Stages: all of it is "other" (decoding included)."""
    worker = Path(__file__).resolve().parent / "mediapipe_worker.py"

    def run_video(path: Path) -> Run:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.json"
            subprocess.run([str(python), str(worker), str(path), str(out), "--max-faces", str(max_faces)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            got = json.loads(out.read_text())
        run, tracker = Run(), Tracker()
        run.seconds = got["seconds"]
        run.stages["other"] = run.seconds
        for faces in got["frames"]:
            kps = np.asarray(faces, np.float32).reshape(-1, 68, 2)
            lo, hi = kps.min(axis=1), kps.max(axis=1)
            boxes = np.concatenate([lo, hi - lo], axis=1).reshape(-1, 4)
            tracked = tracker.update(Faces(boxes, np.ones(len(kps)), kps))
            run.outs.append((tracked.track_ids, tracked.keypoints))
        return run

    return run_video


def new_face_latency(which: np.ndarray, visible: np.ndarray, full: np.ndarray) -> tuple[int, int]:
    """(largest latency in frames, appearances never found) over the appearances of every true
    face (`which`, `visible`, `full`: (n_frames, n_faces) from `match_truth` and the clip); an
    appearance with no fully visible frame is not counted."""
    worst = missed = 0
    for j in range(which.shape[1]):
        i, n = 0, len(which)
        while i < n:
            if not visible[i, j]:
                i += 1
                continue
            end = i
            while end < n and visible[end, j]:
                end += 1
            fulls = np.flatnonzero(full[i:end, j])
            if len(fulls):
                start = i + int(fulls[0])
                hits = np.flatnonzero(which[i:end, j] >= 0)
                if len(hits):
                    worst = max(worst, max(0, i + int(hits[0]) - start))
                else:
                    worst, missed = max(worst, end - start), missed + 1
            i = end
    return worst, missed


def scaled_copy(src: Path, size: tuple[int, int], dst: Path) -> Path:
    """`src` upscaled to `size` (bicubic) and encoded as H.264 (libx264 defaults, yuv420p) with
    PyAV; made once (kept at `dst`)."""
    if dst.exists():
        return dst
    import av

    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as inp, av.open(str(part), "w") as out:
        ins = inp.streams.video[0]
        stream = out.add_stream("libx264", rate=ins.average_rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for frame in inp.decode(ins):
            img = cv2.resize(frame.to_ndarray(format="bgr24"), size, interpolation=cv2.INTER_CUBIC)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode())
    part.rename(dst)
    return dst


def decode_fps(path: Path, threads: int | None) -> float:
    """Frames/s of vidkp's decoding alone (`VideoReader`, every frame converted to an image)."""
    with VideoReader(path, threads=threads) as reader:
        t0, n = time.perf_counter(), sum(1 for _ in reader.frames())
    return n / (time.perf_counter() - t0)


def timed(methods: dict[str, Method], path: Path, rounds: int) -> dict[str, tuple[Run, float, dict[str, float]]]:
    """Each method on `path` `rounds` times, alternated: its first run, median frames/s, and ms per
    frame per stage summed over all rounds."""
    runs: dict[str, list[Run]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, m in methods.items():
            runs[name].append(m(path))
    out = {}
    for name, rs in runs.items():
        n = sum(len(r.outs) for r in rs)
        stages = {k: 1000 * sum(r.stages.get(k, 0.0) for r in rs) / n for k in rs[0].stages}
        out[name] = (rs[0], float(np.median([len(r.outs) / r.seconds for r in rs])), stages)
    return out


def _row(name: str, fps: float, stages: dict[str, float]) -> dict[str, float | str]:
    row: dict[str, float | str] = {"method": name, "fps": fps}
    for k in ("decode", "detect", "landmarks", "track", "other"):
        row[f"ms_{k}"] = stages.get(k, np.nan)
    return row


def print_targets(gen: pd.DataFrame, real: dict[str, pd.DataFrame]) -> None:
    """Issue 19's "done when" figures for each vidkp method (those that this run measured; NME,
    jitter and false faces are compared with today's by reading the tables)."""
    dlib, mp = "dlib HOG+68", "MediaPipe mesh x4"
    rows = []
    for name in [m for m in gen["method"].unique() if m.startswith("vidkp")]:
        g = gen[gen["method"] == name]
        new = g[g["clip"].str.startswith(("tilt", "edge"))]
        checks = [("generated: coverage of visible face-frames", g.found_faces.sum() / g.visible_faces.sum(), ">= 0.99"),
                  ("generated: id switches over crossing clips", g[g["clip"].str.startswith("cross")].id_switches.sum(),
                   "<= 1")]
        if len(new):
            checks += [("tilt/edge: most frames to find a fully visible face", new.latency_max.max(), "<= 5"),
                       ("tilt/edge: appearances never found", new.never_found.sum(), "<= 0")]
        for label, table in real.items():
            fps = table.fps
            for other, target in ((dlib, 3.0 if label == "640x360" else None),
                                  (mp, 0.6 if label == "640x360" else 1.2)):
                if target is not None and other in fps.index:
                    checks.append((f"real {label}: frames/s / {other}'s", fps[name] / fps[other], f">= {target}"))
        if "640x360" in real:
            t = real["640x360"].loc[name]
            checks += [("real: singer's frames 82-210 under its main id", t.singer_main_id_coverage, ">= 1.0"),
                       ("real: ids of the singer", t.singer_ids, "<= 1"),
                       ("real: tracks crossing a cut", t.tracks_crossing_cuts, "<= 0")]
        for what, value, target in checks:
            op, bound = target.split()
            met = value >= float(bound) if op == ">=" else value <= float(bound)
            rows.append({"method": name, "measure": what, "value": value, "target": target, "met": bool(met)})
    print("\n## Issue 19 targets\n")
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--people", choices=["holdout", "val"], default="holdout")
    ap.add_argument("--kinds", default=",".join(KINDS + EXTRA_KINDS), help="generated clip kinds")
    ap.add_argument("--clips-per-kind", type=int, default=1)
    ap.add_argument("--frames", type=int, default=90, help="frames per generated clip")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each method per input (median frames/s)")
    ap.add_argument("--no-dlib", action="store_true")
    ap.add_argument("--no-mediapipe", action="store_true")
    ap.add_argument("--mediapipe-wheel", default=None, help="a local mediapipe-0.10.21 wheel (else from PyPI)")
    ap.add_argument("--no-real", action="store_true", help="skip the real clip and its 720p/1080p copies")
    ap.add_argument("--detector", type=json.loads, default=None, help="JSON overrides of the video detector")
    ap.add_argument("--quick", type=json.loads, default=None,
                    help='JSON overrides of the quick detector alone, e.g. \'{"rolls": [0, -20, 20]}\'; '
                         'a list: quick detectors taken in turn')
    ap.add_argument("--follow", type=json.loads, default=None, help="JSON overrides of FollowConfig")
    ap.add_argument("--variants", type=json.loads, default={},
                    help='JSON {"NAME": {"detector": {...}, "quick": {...}, "follow": {...}, "refine": false}}: more '
                         'vidkp methods (refine false: without the eye and mouth refinement stage)')
    ap.add_argument("--cpu", type=int, default=None, help="the CPU to pin to (default: the last one allowed)")
    a = ap.parse_args()
    kinds = a.kinds.split(",")
    if set(kinds) - set(KINDS + EXTRA_KINDS):
        ap.error(f"unknown kinds {sorted(set(kinds) - set(KINDS + EXTRA_KINDS))}")
    cpu = a.cpu if a.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    model = LandmarkModel(threads=1)
    methods: dict[str, Method] = {"vidkp": vidkp_method(model, a.detector, a.follow, a.quick)}
    first_stage = None  # the model without its refinement stage, for variants with "refine": false
    for name, v in a.variants.items():
        m = model
        if v.get("refine", True) is False:
            first_stage = first_stage or LandmarkModel(threads=1, refine=False)
            m = first_stage
        methods[f"vidkp {name}"] = vidkp_method(m, v.get("detector"), v.get("follow"), v.get("quick"))
    dl = None if a.no_dlib else dlib_hog68()
    if dl is not None:
        methods["dlib HOG+68"] = per_frame_method(dl)
    if not a.no_mediapipe:
        methods["MediaPipe mesh x4"] = mediapipe_method(mediapipe_python(a.mediapipe_wheel))
    pd.set_option("display.width", 250)
    pd.set_option("display.float_format", lambda v: f"{v:.3f}")
    print(f"pinned to CPU {cpu}; load average at the start {os.getloadavg()[0]:.1f}; {a.rounds} rounds; "
          f"{a.people} people\n")

    faces = load_faces(a.data, a.people, limit=2 * len(kinds) * a.clips_per_kind, seed=1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, r, clip, path in generated_clips(faces, kinds, a.clips_per_kind, a.frames, tmp):
            visible = np.isfinite(clip.points[:, :, 0, 0])
            for name, (run, fps, stages) in timed(methods, path, a.rounds).items():
                which, _ = match_truth(clip.points, run.outs)
                worst, missed = new_face_latency(which, visible, clip.full)
                rows.append({"clip": f"{kind}{r}", **_row(name, fps, stages),
                             **score_generated(kind, clip.points, run.outs),
                             "latency_max": worst, "never_found": missed,
                             "visible_faces": int(visible.sum()), "found_faces": int((which >= 0).sum())})
    gen = pd.DataFrame(rows)
    print("## Generated clips, per clip (frames/s median of rounds; ms per frame; latency in frames)\n")
    print(gen.drop(columns=["jitter", "visible_faces", "found_faces"]).to_string(index=False))
    print("\n## Generated clips, overall\n")
    overall = gen.groupby("method", sort=False).agg(
        fps=("fps", "mean"), coverage=("coverage", "mean"), nme=("nme", "mean"), id_switches=("id_switches", "sum"),
        false_per_frame=("false_per_frame", "mean"), latency_max=("latency_max", "max"),
        never_found=("never_found", "sum"))
    cross = gen[gen["clip"].str.startswith("cross")].groupby("method", sort=False).id_switches.sum()
    print(overall.assign(id_switches_cross=cross).to_string())

    real = Path(a.data) / "videos" / "short_hamilton_clip.mp4"
    if a.no_real or not real.exists():
        print_targets(gen, {})
        return
    inputs = {"640x360": real, **{k: scaled_copy(real, s, CACHE / "detect_bench" / f"{real.stem}_{k}.mp4")
                                  for k, s in SIZES.items()}}
    print("\n## Decoding alone (vidkp's VideoReader, on the one pinned CPU), frames/s\n")
    dec = pd.DataFrame([{"input": k, "decoder threads 1": decode_fps(p, 1),
                         f"decoder threads {os.cpu_count()} (FFmpeg's default)": decode_fps(p, os.cpu_count())}
                        for k, p in inputs.items()])
    print(dec.to_string(index=False))
    tables = {}
    for label in ("640x360", "1080p"):
        rrows = []
        results = timed(methods, inputs[label], a.rounds)
        for name, (run, fps, stages) in results.items():
            a0, b0 = REAL_SHOTS[2]
            found = [k for k in range(a0, b0 + 1) if len(run.outs[k][0])]
            rrows.append({**_row(name, fps, stages), **score_real(run.outs),
                          "singer_latency": (found[0] - a0) if found else np.nan})
        table = pd.DataFrame(rrows).set_index("method")
        print(f"\n## Real clip {label} ({inputs[label].name}; frames/s median of rounds, ms per frame)\n")
        print(table.T.to_string())
        fps = table.fps
        ratios = {f"vidkp / {m}": fps["vidkp"] / fps[m] for m in fps.index if m != "vidkp"}
        print("\nframes/s ratios: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
        tables[label] = table
    print_targets(gen, tables)


if __name__ == "__main__":
    main()
