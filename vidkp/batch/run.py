"""Batch execution: resume bookkeeping, work items, manifest merge.

`run()` is the Python API behind `vidkp run`. Each worker (a Ray actor with one CPU,
`vidkp.batch.workers`, or the calling process for `workers=0` and small runs) holds one loaded `Pipeline`; the driver only sends input
paths and receives small `InputSummary` records, never frames. Videos are one task each, a
video longer than `segment_seconds` one task per segment (`vidkp.batch.segments`: the driver stitches
them); stills go in batches of `images_per_task`. Each input (and segment) writes its own part
file and completion marker atomically, so an interrupted run can be resumed by running the same
command again.
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

import pyarrow.fs as pafs

from vidkp.batch.manifest import MANIFEST, InputSummary, write_manifest
from vidkp.batch.pipeline import Pipeline, file_sha256
from vidkp.batch.resume import DONE_DIR, RUN_FILE, current_attempt, read_markers, remove_temp_files, start_attempt
from vidkp.batch.segments import SplitVideos, remove_finished
from vidkp.batch.workers import Work, cluster_address, run_on_ray
from vidkp.config import RunConfig
from vidkp.errors import ModelError, OutputError
from vidkp.io.sources import Source, expand_inputs, kind_of
from vidkp.io.storage import (TMP_PREFIX, delete_quietly, is_uri, join, list_files, local_path, read_text, resolve,
                              write_atomic)
from vidkp.landmarks import default_weights_path, read_metadata
from vidkp.landmarks.refine import part_paths
from vidkp.output.parquet import out_fs, part_name

log = logging.getLogger(__name__)


class ProgressSink(Protocol):
    """What `run()` reports while it works (the CLI draws rich progress bars from it)."""

    def start(self, total: int, skipped: int, frames_estimate: int | None) -> None: ...
    def frames(self, n: int) -> None: ...
    def input_done(self, summary: dict[str, Any]) -> None: ...


@dataclass
class RunSummary:
    """What one `run()` call did. `failed` lists (input, one-line error) for the requested inputs."""

    out: str
    inputs: int
    skipped: int
    processed: int
    ok: int
    failed: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0
    faces: int = 0
    seconds: float = 0.0
    workers: int | None = 0
    manifest: str = ""
    processed_frames: int = 0
    stage_ms: dict[str, float] = field(default_factory=dict)
    """Total milliseconds per stage (decode, detect, landmarks, track, write, annotate) in this run."""
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) of files found among the inputs but not run (also `skipped` in the manifest)."""
    in_process: bool = False
    """True when the work ran in this process without Ray (`workers=0`, or a small run)."""

    @property
    def nothing_to_do(self) -> bool:
        return self.processed == 0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


# --------------------------------------------------------------------------- output & resume
def run_params(config: RunConfig) -> dict[str, Any]:
    """Everything that decides the rows: output options plus the model files' identity (the first
    stage's and each refinement part's SHA-256)."""
    weights = Path(config.weights) if config.weights else default_weights_path()
    if not weights.is_file():
        raise ModelError(f"model weights not found at {weights}")
    meta = read_metadata(weights)
    parts = {name: file_sha256(p) for name, p in part_paths(weights, meta).items() if p.is_file()}
    return {**config.output_params(), "model_version": meta.get("version", "unknown"),
            "model_sha256": file_sha256(weights), "refine_sha256": parts}


def prepare_output(out: str, params: dict[str, Any], overwrite: bool) -> dict[str, dict[str, Any]]:
    """Create or reopen OUT (a path or URI); returns the completion markers of inputs already finished there.

    Refuses (OutputError) a directory that is not a vidkp dataset, or one written with other
    parameters (unless `overwrite`, which deletes a vidkp dataset and starts over).
    """
    fs, base = out_fs(out)
    try:
        if fs.get_file_info(base).type == pafs.FileType.File:
            raise OutputError(f"expected a directory for --out, got a file at {out}")
        names = {i.base_name for i in fs.get_file_info(pafs.FileSelector(base, allow_not_found=True))}
    except OSError as e:
        raise OutputError(f"cannot read output location {out}: {' '.join(str(e).split())}") from e
    run_file = f"{base}/{RUN_FILE}"
    if names:
        if RUN_FILE not in names:
            raise OutputError(f"{out} is not empty and holds no {RUN_FILE}: not a vidkp output; "
                              "choose another --out")
        if overwrite:
            fs.delete_dir(base)
            names = set()
        else:
            try:
                stored = json.loads(read_text(fs, run_file))["params"]
            except (OSError, ValueError, KeyError) as e:
                raise OutputError(f"cannot read {join(out, RUN_FILE)}: {e}") from e
            if stored != params:
                diff = {k: (stored.get(k), params.get(k)) for k in sorted(set(stored) | set(params))
                        if stored.get(k) != params.get(k)}
                shown = "; ".join(f"{k}: stored {a!r}, now {b!r}" for k, a, b in
                                  ((k, *v) for k, v in diff.items()))
                raise OutputError(f"{out} was written with other parameters ({shown}); "
                                  "rerun with the same options to resume, or use --overwrite to start over")
    try:
        fs.create_dir(f"{base}/{DONE_DIR}", recursive=True)
        if RUN_FILE not in names:
            from vidkp import __version__

            write_atomic(fs, run_file, json.dumps({"params": params, "vidkp_version": __version__,
                                                   "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                                                  indent=1, sort_keys=True).encode())
        start_attempt(out)  # before cleaning up: stray workers of a killed run stop committing
    except OSError as e:
        raise OutputError(f"cannot write to output location {out}: {e}") from e
    removed = remove_temp_files(out)
    if removed:
        log.info("removed %d temporary files left by an interrupted run in %s", removed, out)
    markers = read_markers(out)
    # an 'ok' marker whose part file has gone is not finished
    return {k: m for k, m in markers.items() if m.get("status") != "ok" or part_name(k) in names}


def _work_items(todo: Sequence[Source], split: SplitVideos, images_per_task: int) -> list[list[Work]]:
    """Videos one per task (split ones one per segment left), stills in batches; biggest work
    first (better load balance)."""
    def size(w: Work) -> float:
        local = local_path(w[0].location)
        try:  # remote: no request per input
            return os.path.getsize(local) / (w[1].count if w[1] else 1) if local is not None else 0
        except OSError:
            return 0

    videos: list[Work] = [(s, None) for s in todo if s.kind == "video" and not split.is_split(s)]
    videos = sorted(videos + list(split.work()),
                    key=lambda w: (-size(w), w[0].path, w[1].index if w[1] else 0))
    images: list[Work] = [(s, None) for s in todo if s.kind == "image"]
    items = [[v] for v in videos]
    items += [images[i:i + images_per_task] for i in range(0, len(images), images_per_task)]
    return items


# --------------------------------------------------------------------------- execution
def _serial(items: list[list[Work]], config: RunConfig, params: dict[str, Any], out: str,
            on_done: Callable[[dict[str, Any]], None], on_frames: Callable[[int], None]) -> None:
    """Run the work in this process: on one CPU like a Ray worker with `workers=0`, else (a small
    run) with OpenCV's and ONNX Runtime's default threads, as the Python API runs."""
    import cv2

    threads = 1 if config.workers == 0 else None
    saved = cv2.getNumThreads()
    if threads == 1:
        cv2.setNumThreads(1)
    try:
        pipe = Pipeline(config, params, current_attempt(out), threads=threads)
        for item in items:
            for src, seg in item:
                on_done(pipe.process(src, out, on_frames, seg).record())
    finally:
        cv2.setNumThreads(saved)


# --------------------------------------------------------------------------- public API
def run(inputs: str | os.PathLike | Iterable[str | os.PathLike], out: str | os.PathLike, *,
        progress: ProgressSink | None = None, **options: Any) -> RunSummary:
    """Find faces and 68 keypoints in every input; write a Parquet dataset at `out`.

    `inputs`: files, directories (searched recursively) and `@list.txt` files; `inputs` and `out`
    may be local paths or URIs of any filesystem pyarrow supports (`file://`, `s3://`, `gs://`,
    ...), read and written by the workers themselves. `options` are the
    fields of `RunConfig` (every, max_frames, min_face, weights, annotate, workers, address,
    overwrite, ...). Rerunning with the same options resumes: finished inputs are skipped.
    Raises OutputError / ModelError / InputError for unusable options; bad inputs do not raise,
    they are listed in `RunSummary.failed` and in OUT/_manifest.parquet.
    """
    t0 = time.perf_counter()
    config = RunConfig.from_options(**options)
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    sources, passed_over = expand_inputs(inputs, exclude=[out, config.annotate])  # never our own outputs
    params = run_params(config)
    shown_out = os.fspath(out)
    # workers may run in another directory (or on another node)
    out = shown_out if is_uri(shown_out) else os.path.abspath(shown_out)
    done = prepare_output(out, params, config.overwrite)
    if config.annotate:
        if not is_uri(config.annotate):
            config = replace(config, annotate=os.path.abspath(config.annotate))
        _remove_stale_annotations(config.annotate)
    remove_finished(out, done)
    todo = [s for s in sources if s.key not in done]
    skipped = len(sources) - len(todo)
    split = SplitVideos(out, todo, config)
    if progress is not None:
        progress.start(len(sources), skipped, _frames_estimate(todo, config.max_frames))
    # the driver keeps totals, not records: finished inputs are in their markers (memory per input
    # stays small); only unfinished ones (no marker) are kept for the manifest
    tally = {"processed": 0, "frames": 0, "face_rows": 0, "processed_frames": 0}
    stage_ms: dict[str, float] = {}
    unfinished: dict[str, dict[str, Any]] = {}

    def on_done(rec: dict[str, Any]) -> None:
        if rec.get("segment") is not None:  # one segment of a split video: the input may be complete now
            rec = split.report(rec)
            if rec is None:
                return
        tally["processed"] += 1
        for k in ("frames", "face_rows", "processed_frames"):
            tally[k] += int(rec.get(k) or 0)
        for k, v in json.loads(rec.get("timings_ms") or "{}").items():
            stage_ms[k] = stage_ms.get(k, 0.0) + float(v)
        if not rec.get("marked", True):
            unfinished[rec["video"]] = rec
        if progress is not None:
            progress.input_done(rec)

    def on_frames(n: int) -> None:
        if progress is not None:
            progress.frames(n)

    for rec in split.ready():
        on_done(rec)
    items = _work_items(todo, split, config.images_per_task)
    in_process = bool(items) and in_this_process(config, len(items))
    try:
        if in_process:
            _serial(items, config, params, out, on_done, on_frames)
        elif items:
            run_on_ray(items, config, params, out, on_done, on_frames)
    except BaseException:  # Ctrl-C or a fatal error: our workers have stopped; drop their temp files
        remove_temp_files(out)
        if config.annotate:
            _remove_stale_annotations(config.annotate)
        raise
    finally:  # also on Ctrl-C: the manifest lists what is finished so far
        skipped_recs = {s.path: InputSummary(video=s.path, kind="directory" if os.path.isdir(s.path) else kind_of(s.path),
                                             status="skipped", error=s.reason, marked=False).record()
                        for s in passed_over}
        all_recs = _merge_manifest(out, {**skipped_recs, **unfinished})
    manifest = join(out, MANIFEST)
    wanted = {s.path for s in sources}
    failed = sorted((v, r.get("error", "")) for v, r in all_recs.items() if v in wanted and r["status"] == "failed")
    return RunSummary(
        out=shown_out, inputs=len(sources), skipped=skipped, processed=tally["processed"],
        ok=sum(1 for v, r in all_recs.items() if v in wanted and r["status"] == "ok"), failed=failed,
        frames=tally["frames"], faces=tally["face_rows"], seconds=time.perf_counter() - t0,
        workers=config.workers, manifest=manifest, processed_frames=tally["processed_frames"], stage_ms=stage_ms,
        skipped_files=[(s.path, s.reason) for s in passed_over], in_process=in_process)


def in_this_process(config: RunConfig, items: int) -> bool:
    """Whether `items` work items run here without Ray: with `workers=0`, or when the work is one
    item (one video, or up to `images_per_task` stills) and neither `workers` nor a cluster
    (`address`, RAY_ADDRESS) asks for Ray: starting Ray would cost more than the work."""
    if config.workers is not None:
        return config.workers == 0
    return items <= 1 and cluster_address(config.address) is None


def _frames_estimate(todo: Sequence[Source], max_frames: int | None, budget_s: float = 1.0) -> int | None:
    """Frames the container headers announce for the inputs to do (for the progress bar);
    None when it would take longer than `budget_s` or a header cannot be read."""
    from vidkp.io.decode import VideoInfo

    t0, total = time.perf_counter(), 0
    for s in todo:
        if time.perf_counter() - t0 > budget_s:
            return None
        if s.kind == "image":
            total += 1
            continue
        local = local_path(s.location)
        if local is None:  # a remote video: its header is read by the worker only
            return None
        try:
            n = VideoInfo.from_path(local).frames
        except Exception:  # noqa: BLE001 - a bad input is reported by its worker, not here
            n = 0
        total += min(n, max_frames) if max_frames else n
    return total


def _remove_stale_annotations(ann: str) -> None:
    """Delete half-written annotation files (`.tmp-<pid>-...`) left by an interrupted run."""
    fs, base = resolve(ann, OutputError)
    for info in list_files(fs, base, recursive=True):
        if info.base_name.startswith(TMP_PREFIX) and info.base_name.split("-")[1].isdigit():
            delete_quietly(fs, info.path)


def _merge_manifest(out: str, unfinished: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Write OUT/_manifest.parquet: every finished input of the dataset (markers, from all runs)
    plus this run's unfinished failures (worker lost, output trouble: no marker, a rerun retries)."""
    all_recs = {m["video"]: m for m in read_markers(out).values()}
    for video, rec in unfinished.items():
        if video not in all_recs:
            all_recs[video] = rec
    write_manifest(out, all_recs.values())
    return all_recs


def load_tracks(out: str | os.PathLike, columns: list[str] | None = None):
    """The rows of a vidkp output dataset (a path or URI) as a pandas DataFrame (manifest and
    temp files ignored)."""
    import pandas as pd

    fs, base = out_fs(out)
    return pd.read_parquet(base, filesystem=fs, columns=columns)


def load_manifest(out: str | os.PathLike):
    """OUT/_manifest.parquet (OUT a path or URI) as a pandas DataFrame: one row per input."""
    import pandas as pd

    fs, base = out_fs(out)
    return pd.read_parquet(f"{base}/{MANIFEST}", filesystem=fs)
