"""Resume bookkeeping of an output dataset: run parameters, per-input completion markers, the
driver's attempt id, leftovers of interrupted writers. All files start with `_` or `.`, so Parquet
dataset readers ignore them.

`OUT/_run.json` holds the run parameters; `OUT/_done/<key>.json` marks an input finished (its
manifest record); `OUT/_attempt` names the driver that owns OUT now; `OUT/_segments/<key>/` holds a
split video's segments until they are stitched.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from vidkp.io.storage import TMP_PREFIX, delete_quietly, list_files, read_text, write_atomic
from vidkp.output.parquet import out_fs

RUN_FILE = "_run.json"
ATTEMPT_FILE = "_attempt"
DONE_DIR = "_done"
SEGMENTS_DIR = "_segments"


def write_marker(out_dir: str | Path, key: str, record: dict[str, Any]) -> None:
    """Mark one input finished (its summary as JSON in OUT/_done/<key>.json), atomically."""
    fs, base = out_fs(out_dir)
    write_atomic(fs, f"{base}/{DONE_DIR}/{key}.json", json.dumps(record, sort_keys=True).encode())


def read_markers(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Finished inputs of a dataset: key -> summary record."""
    fs, base = out_fs(out_dir)
    found: dict[str, dict[str, Any]] = {}
    for info in sorted(list_files(fs, f"{base}/{DONE_DIR}"), key=lambda i: i.path):
        if info.base_name.endswith(".json") and not info.base_name.startswith(TMP_PREFIX):
            try:
                found[info.base_name[:-5]] = json.loads(read_text(fs, info.path))
            except (OSError, ValueError):
                continue  # half-written marker cannot exist (atomic), but be safe: redo that input
    return found


def remove_temp_files(out_dir: str | Path) -> int:
    """Delete leftovers of interrupted writers (`.tmp-*`) in OUT, OUT/_done and the segment
    directories OUT/_segments/<key>/ and their _done/."""
    fs, base = out_fs(out_dir)
    segs = sorted(i.path for i in fs.get_file_info(pafs.FileSelector(f"{base}/{SEGMENTS_DIR}", allow_not_found=True))
                  if i.type == pafs.FileType.Directory)
    n = 0
    for d in (base, f"{base}/{DONE_DIR}", *segs, *(f"{s}/{DONE_DIR}" for s in segs)):
        for info in list_files(fs, d):
            if info.base_name.startswith(TMP_PREFIX):
                delete_quietly(fs, info.path)
                n += 1
    return n


def start_attempt(out_dir: str | Path) -> str:
    """Record a new driver attempt id in OUT/_attempt; workers of older attempts stop committing."""
    token = uuid.uuid4().hex
    fs, base = out_fs(out_dir)
    write_atomic(fs, f"{base}/{ATTEMPT_FILE}", token.encode())
    return token


def current_attempt(out_dir: str | Path) -> str | None:
    fs, base = out_fs(out_dir)
    try:
        return read_text(fs, f"{base}/{ATTEMPT_FILE}").strip()
    except OSError:
        return None
