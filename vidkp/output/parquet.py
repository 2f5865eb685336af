"""Parquet output: the tracks' column contract (`SCHEMA`) and the writer of one input's part file.

OUT is a Parquet dataset directory, a local path or a URI (`vidkp.io.storage`); `load_tracks(OUT)`
returns one row per (input, frame, face) with `COLUMNS`. Each input has one part file
`part-<key>.parquet`, written under a temporary name `.tmp-...` and moved into place when
complete, so a part is either whole or absent. Files starting with `_` or `.` (the manifest, run
parameters, per-input markers, temp files: `vidkp.batch.resume`) are ignored by Parquet dataset readers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import pyarrow.fs as pafs

from vidkp.errors import OutputError
from vidkp.output.arrow import numeric, strings
from vidkp.faces import N_POINTS, Faces
from vidkp.io.storage import delete_quietly, resolve, temp_path

_POINT_COLS = [f"x_{i}" for i in range(N_POINTS)] + [f"y_{i}" for i in range(N_POINTS)]

SCHEMA = pa.schema(
    [
        pa.field("video", pa.string()),
        pa.field("frame", pa.int64()),
        pa.field("timestamp", pa.float64()),
        pa.field("face_id", pa.int64()),
        pa.field("box_x", pa.float32()),
        pa.field("box_y", pa.float32()),
        pa.field("box_w", pa.float32()),
        pa.field("box_h", pa.float32()),
        pa.field("confidence", pa.float32()),
    ]
    + [pa.field(c, pa.float32()) for c in _POINT_COLS]
)
COLUMNS: list[str] = SCHEMA.names

def part_name(key: str) -> str:
    return f"part-{key}.parquet"


def out_fs(out_dir: str | Path) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path) of an output directory given as a path or URI."""
    return resolve(out_dir, OutputError)



def faces_table(video: str, frames: list[Faces]) -> pa.Table:
    """The rows of `frames` (each one frame's `Faces`, stamped with frame and timestamp) in `SCHEMA`."""
    n = sum(len(f) for f in frames)
    if n == 0:
        return SCHEMA.empty_table()
    kp = np.concatenate([f.keypoints for f in frames])
    boxes = np.concatenate([f.boxes for f in frames])
    cols = [strings([video] * n),
            numeric(np.concatenate([np.full(len(f), f.frame, np.int64) for f in frames])),
            numeric(np.concatenate([np.full(len(f), f.timestamp, np.float64) for f in frames])),
            numeric(np.concatenate([f.track_ids for f in frames]), pa.int64()),
            *(numeric(boxes[:, j], pa.float32()) for j in range(4)),
            numeric(np.concatenate([f.scores for f in frames]), pa.float32())]
    xs, ys = kp[:, :, 0].T, kp[:, :, 1].T
    cols += [numeric(xs[i], pa.float32()) for i in range(N_POINTS)] + [numeric(ys[i], pa.float32()) for i in range(N_POINTS)]
    return pa.Table.from_arrays(cols, schema=SCHEMA)


class FaceSink(Protocol):
    """Where one input's rows go: `add` is called once per processed frame, in frame order."""

    def add(self, video: str, faces: Faces) -> None: ...


class PartWriter:
    """Context manager that streams one input's rows into `OUT/part-<key>.parquet`.

    Rows are buffered per `flush_rows` and written as row groups to a `.tmp-` file; the file
    is renamed into place only when the block exits without an exception (otherwise removed).
    An input with no faces yields a valid part with zero rows and the full schema.
    """

    def __init__(self, out_dir: str | Path, key: str, flush_rows: int = 2048) -> None:
        self.fs, base = out_fs(out_dir)
        self.final = f"{base.rstrip('/')}/{part_name(key)}"
        self.tmp = temp_path(self.final)
        self.flush_rows = flush_rows
        self.rows = 0
        self._buf: list[Faces] = []
        self._video = ""
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> "PartWriter":
        try:
            self._writer = pq.ParquetWriter(self.tmp, SCHEMA, filesystem=self.fs, compression="zstd")
        except OSError as e:
            raise OutputError(f"cannot write part file {self.tmp}: {e}") from e
        except BaseException:
            delete_quietly(self.fs, self.tmp)
            raise
        return self

    def add(self, video: str, faces: Faces) -> None:
        """Buffer the rows of one frame (`faces`, stamped with its frame and timestamp; none for no
        faces); flushed in row groups of about `flush_rows`."""
        n = len(faces)
        if n == 0:
            return
        self._video = video
        self._buf.append(faces)
        self._buffered += n
        self.rows += n
        if self._buffered >= self.flush_rows:
            self._flush()

    def _flush(self) -> None:
        if self._buf and self._writer is not None:
            self._writer.write_table(faces_table(self._video, self._buf))
        self._buf, self._buffered = [], 0

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            try:
                if exc_type is None:
                    self._flush()
            finally:
                if self._writer is not None:
                    self._writer.close()
            if exc_type is None:
                self.fs.move(self.tmp, self.final)
                return
        except BaseException:  # also Ctrl-C while flushing: never leave the temp file behind
            delete_quietly(self.fs, self.tmp)
            raise
        delete_quietly(self.fs, self.tmp)
