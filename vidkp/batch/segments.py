"""Long videos as segments: plan them, then stitch their rows and face ids back into one input.

A video longer than `segment_seconds` is cut into equal segments that are separate work items.
Each segment decodes from `warm` (up to `overlap_seconds` before its own first frame `start`,
seeking exactly), so its tracker is warmed up when its own frames begin, and writes all its rows
(warm-up included) to `OUT/_segments/<input key>/part-sNNNN.parquet` with a completion marker in
`OUT/_segments/<input key>/_done/` (the `_` keeps both out of the dataset). When every segment
of an input is finished, `finish_video` matches the tracks of each segment's warm-up rows with
the previous segment's rows on the same frames (mean box IoU), renumbers ids so a face tracked
across a boundary keeps one id, writes the input's own part file and marker, and removes the
segment files. All of it goes through `vidkp.io.storage`, so OUT may be a URI. Boundaries and the
overlap are multiples of `every * detect_every` frames, so a segment keeps the detector schedule
of an unsplit run (in a stretch without faces it searches more often during its first
`FollowConfig.empty_patience` frames, as at a video's start, and during the warm-up each of its
detectors searches the whole frame on its first turn, having seen no change yet): after the
warm-up, its raw points equal the unsplit run's and only the One-Euro filter state differs.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from vidkp.batch.resume import SEGMENTS_DIR, read_markers, write_marker
from vidkp.boxes import pair_iou
from vidkp.config import RunConfig
from vidkp.io.decode import VideoInfo
from vidkp.io.sources import Source
from vidkp.io.storage import join, local_path, write_atomic
from vidkp.output.parquet import SCHEMA, out_fs, part_name

if TYPE_CHECKING:  # pandas only on the driver, which stitches: workers stay lighter without it
    import pandas as pd

log = logging.getLogger(__name__)
BOX = ["box_x", "box_y", "box_w", "box_h"]


@dataclass(frozen=True)
class Segment:
    """Frames [start, end) of a video (end None: to the end), decoded from `warm` <= start."""

    index: int
    count: int
    warm: int
    start: int
    end: int | None

    @property
    def key(self) -> str:
        """Name of its part file and marker inside the input's segment directory."""
        return f"s{self.index:04d}"


def plan_segments(frames: int, fps: float, segment_seconds: float, overlap_seconds: float,
                  step: int) -> list[Segment]:
    """Equal segments of at most `segment_seconds` (boundaries on multiples of `step` frames), or
    [] when the video is not longer than that (or splitting is off: `segment_seconds` 0)."""
    if segment_seconds <= 0 or fps <= 0 or frames <= segment_seconds * fps:
        return []
    overlap = step * math.ceil(overlap_seconds * fps / step)
    count = math.ceil(frames / (segment_seconds * fps))
    length = step * math.ceil(frames / count / step)
    count = math.ceil(frames / length)
    if count < 2 or length < overlap:
        return []
    starts = [i * length for i in range(count)]
    return [Segment(i, count, max(0, s - overlap), s, starts[i + 1] if i + 1 < count else None)
            for i, s in enumerate(starts)]


def segment_dir(out: str | Path, input_key: str) -> str:
    """OUT/_segments/<input key> (a path or URI, like OUT)."""
    return join(out, SEGMENTS_DIR, input_key)


def _remove_dir(fs: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(FileNotFoundError, OSError):
        fs.delete_dir(path)


def finished_segments(out: str | Path, input_key: str) -> dict[int, dict[str, Any]]:
    """Markers of an input's finished segments (index -> record); an ok one whose part is gone is not."""
    d = segment_dir(out, input_key)
    markers = read_markers(d)
    if not markers:
        return {}
    fs, base = out_fs(d)
    names = {i.base_name for i in fs.get_file_info(pafs.FileSelector(base, allow_not_found=True))}
    return {int(k[1:]): m for k, m in markers.items() if m.get("status") != "ok" or part_name(k) in names}


def match_tracks(prev: pd.DataFrame, cur: pd.DataFrame, min_iou: float = 0.5) -> dict[int, int]:
    """Map face ids of `cur` to ids of `prev` (rows on the same frames): pairs by descending mean
    box IoU over the frames where both are present, one to one, at least `min_iou`."""
    both = prev[["frame", "face_id", *BOX]].merge(cur[["frame", "face_id", *BOX]], on="frame", suffixes=("_p", "_c"))
    if both.empty:
        return {}
    both["iou"] = pair_iou(both[[f"{c}_p" for c in BOX]].to_numpy(np.float64),
                             both[[f"{c}_c" for c in BOX]].to_numpy(np.float64))
    pairs = both.groupby(["face_id_c", "face_id_p"]).iou.mean().sort_values(ascending=False, kind="stable")
    mapping: dict[int, int] = {}
    for (c, p), iou in pairs.items():
        if iou >= min_iou and c not in mapping and p not in mapping.values():
            mapping[int(c)] = int(p)
    return mapping


def stitch(parts: list[pd.DataFrame], segments: list[Segment]) -> tuple[pd.DataFrame, list[int]]:
    """One video's rows from its segments' rows (warm-up included): each segment keeps its own
    frames; ids of segment 0 stay, a later segment's track that matches a track of the previous
    segment in the warm-up frames takes its id, other tracks get new ids counting on in order of
    first appearance. Also returns, per boundary, how many tracks were carried across."""
    out, carried, next_id = [], [], 0
    import pandas as pd

    prev: pd.DataFrame | None = None
    for seg, df in zip(segments, parts):
        df = df.sort_values("frame", kind="stable")
        own = df[df.frame >= seg.start]
        mapping = {}
        if prev is not None:
            mapping = match_tracks(prev[prev.frame >= seg.warm], df[df.frame < seg.start])
            carried.append(sum(1 for c in mapping if c in set(own.face_id)))
        for local in own.drop_duplicates("face_id").face_id:  # in order of first appearance
            if local not in mapping:
                mapping[int(local)] = int(local) if prev is None else next_id
                next_id = max(next_id, mapping[int(local)]) + 1
        own = own.assign(face_id=own.face_id.map(mapping).astype("int64"))
        out.append(own)
        prev = own
    return pd.concat(out, ignore_index=True), carried


def finish_video(out: str | Path, input_key: str, segments: list[Segment],
                 records: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Stitch an input's finished segments into `OUT/part-<key>.parquet` (atomically), write its
    marker (the aggregate manifest record), remove the segment files; returns the record."""
    t0 = time.perf_counter()
    fs, base = out_fs(out)
    d = f"{base}/{SEGMENTS_DIR}/{input_key}"
    recs = [records[s.index] for s in segments]
    if any(r["status"] != "ok" for r in recs):
        rows = SCHEMA.empty_table().to_pandas()
    else:
        rows, _ = stitch([pq.read_table(f"{d}/{part_name(s.key)}", filesystem=fs).to_pandas() for s in segments],
                         segments)
    table = pa.Table.from_pandas(rows, schema=SCHEMA, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    write_atomic(fs, f"{base}/{part_name(input_key)}", sink.getvalue().to_pybytes())
    record = aggregate(recs, len(table), time.perf_counter() - t0)
    record["part"] = part_name(input_key)
    write_marker(out, input_key, record)
    _remove_dir(fs, d)
    return record


def aggregate(recs: list[dict[str, Any]], face_rows: int, stitch_s: float) -> dict[str, Any]:
    """The input's manifest record from its segments' records: sums, the first failure (else the
    first warning), workers listed once each, stitching counted as write time."""
    first = recs[0]
    frames = sum(int(r["frames"]) for r in recs)
    timings: dict[str, float] = {}
    for r in recs:
        for k, v in json.loads(r.get("timings_ms") or "{}").items():
            timings[k] = round(timings.get(k, 0.0) + float(v), 1)
    timings["write"] = round(timings.get("write", 0.0) + stitch_s * 1000, 1)
    failed = [i for i, r in enumerate(recs) if r["status"] != "ok"]
    noted = failed or [i for i, r in enumerate(recs) if r.get("error")]  # a failure, else a warning
    error = f"segment {noted[0]}: {recs[noted[0]]['error']}"[:500] if noted else ""
    return {**first, "status": "failed" if failed else "ok", "error": error,
            "frames": frames, "processed_frames": sum(int(r.get("processed_frames") or 0) for r in recs),
            "duration": round(frames / first["fps"], 4) if first.get("fps") else 0.0,
            "face_rows": face_rows, "seconds": round(sum(float(r["seconds"]) for r in recs), 4),
            "worker": "; ".join(dict.fromkeys(r["worker"] for r in recs)), "timings_ms": json.dumps(timings),
            "segment": None, "segments": len(recs), "marked": True}


class SplitVideos:
    """The driver's book of a run's split videos: the segments still to do, and stitching an input
    once all its segments are finished (now or in an earlier, interrupted run)."""

    def __init__(self, out: str | Path, todo: Sequence[Source], config: RunConfig) -> None:
        self.out = out
        self.plans: dict[str, tuple[Source, list[Segment]]] = {}
        if config.segment_seconds > 0 and not config.annotate:  # annotated copies are written whole
            for src in todo:
                segs = _plan(src, config) if src.kind == "video" else []
                if segs:
                    self.plans[src.path] = (src, segs)
        self.done = {v: finished_segments(out, src.key) for v, (src, _) in self.plans.items()}
        self.lost: set[str] = set()

    def work(self) -> list[tuple[Source, Segment]]:
        """Segments without a completion marker."""
        return [(src, g) for v, (src, segs) in self.plans.items() for g in segs if g.index not in self.done[v]]

    def is_split(self, source: Source) -> bool:
        return source.path in self.plans

    def ready(self) -> list[dict[str, Any]]:
        """Stitch inputs whose segments were all finished before this run (killed while stitching)."""
        return [self._finish(v) for v, (_, segs) in self.plans.items() if len(self.done[v]) == len(segs)]

    def report(self, rec: dict[str, Any]) -> dict[str, Any] | None:
        """Take one segment's record; returns the input's record when the input is finished
        (stitched), or unfinished (a segment lost: the rerun redoes it); else None."""
        video = rec["video"]
        if not rec.get("marked", True):
            if video in self.lost:
                return None
            self.lost.add(video)
            return {**rec, "error": f"segment {rec['segment']}: {rec['error']}", "segment": None}
        self.done[video][int(rec["segment"])] = rec
        if video in self.lost or len(self.done[video]) < len(self.plans[video][1]):
            return None
        return self._finish(video)

    def _finish(self, video: str) -> dict[str, Any]:
        src, segs = self.plans[video]
        try:
            return finish_video(self.out, src.key, segs, self.done[video])
        except OSError as e:  # output trouble: unfinished, the rerun stitches again
            log.warning("cannot stitch the segments of %s: %s", video, e)
            return {**self.done[video][0], "status": "failed", "error": f"cannot stitch segments: {e}",
                    "segment": None, "marked": False}


def _plan(src: Source, config: RunConfig) -> list[Segment]:
    local = local_path(src.location)
    if local is None:  # remote input: not split (each segment's worker would fetch the whole video)
        return []
    try:
        info = VideoInfo.from_path(local)
    except Exception:  # noqa: BLE001 - a bad input is reported by its worker, unsplit
        return []
    frames = min(info.frames, config.max_frames) if config.max_frames else info.frames
    return plan_segments(frames, info.fps, config.segment_seconds, config.overlap_seconds,
                         config.every * config.follow.detect_every)


def remove_finished(out: str | Path, keys: Iterable[str]) -> None:
    """Delete segment directories left by a run killed after an input was stitched."""
    fs, base = out_fs(out)
    wanted = set(keys)
    for info in fs.get_file_info(pafs.FileSelector(f"{base}/{SEGMENTS_DIR}", allow_not_found=True)):
        if info.type == pafs.FileType.Directory and info.base_name in wanted:
            _remove_dir(fs, info.path)
