"""The manifest: one typed record per input (`InputSummary`), from which `OUT/_manifest.parquet`'s
schema is derived, so the two cannot drift apart."""
from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from vidkp.io.storage import write_atomic
from vidkp.output.arrow import column
from vidkp.output.parquet import out_fs

MANIFEST = "_manifest.parquet"

_INTERNAL = {"manifest": False}
"""Field metadata of `InputSummary` fields that travel to the driver but are not manifest columns."""


@dataclass
class InputSummary:
    """The small result one input sends back to the driver; its manifest fields are the manifest row."""

    video: str
    kind: str
    status: str = "ok"
    """ok | failed | skipped"""
    error: str = ""
    frames: int = 0
    fps: float = 0.0
    width: int = 0
    height: int = 0
    duration: float = 0.0
    face_rows: int = 0
    seconds: float = 0.0
    worker: str = ""
    vidkp_version: str = ""
    model_version: str = ""
    params: str = ""
    part: str = ""
    annotated: str = ""
    timings_ms: str = ""
    segments: int = 1
    """How many segments the input was processed in (1: not split)."""
    processed_frames: int = field(default=0, metadata=_INTERNAL)
    segment: int | None = field(default=None, metadata=_INTERNAL)
    """For the record of one segment of a split video: its index (the driver stitches them)."""
    marked: bool = field(default=True, metadata=_INTERNAL)
    """False when the input is not finished (output trouble, worker lost): a rerun retries it."""

    def record(self) -> dict[str, Any]:
        return asdict(self)


_ARROW = {str: pa.string(), int: pa.int64(), float: pa.float64()}


def _manifest_schema() -> pa.Schema:
    hints = typing.get_type_hints(InputSummary)
    return pa.schema([(f.name, _ARROW[hints[f.name]]) for f in fields(InputSummary) if f.metadata.get("manifest", True)])


MANIFEST_SCHEMA = _manifest_schema()
"""Columns of `OUT/_manifest.parquet`: the manifest fields of `InputSummary`, in order."""


def write_manifest(out_dir: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Write `OUT/_manifest.parquet` (one row per input, sorted by `video`) atomically."""
    recs = sorted(records, key=lambda r: r["video"])
    cols = [column([r.get(f.name) for r in recs], f.type) for f in MANIFEST_SCHEMA]
    table = pa.Table.from_arrays(cols, schema=MANIFEST_SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    fs, base = out_fs(out_dir)
    write_atomic(fs, f"{base}/{MANIFEST}", sink.getvalue().to_pybytes())

