"""Expand command-line inputs (files, directories, @lists; local paths or URIs) into sorted `Source`s.

Directories are walked recursively and keep only files with a known video or image extension
(hidden files and folders are skipped); a file named explicitly is always kept, whatever its
extension, so that a bad input is reported instead of silently dropped. `Source.path` is the
input path as the user gave it (joined with the relative path inside a given directory); it is
the `video` column of the output and the key of resume. URIs (`file://`, `s3://`, ...; see
`vidkp.io.storage`) are listed through their pyarrow filesystem and stay URIs in `Source.path`.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

import pyarrow.fs as pafs

from vidkp.errors import InputError, OutputError
from vidkp.io.storage import is_uri, join, list_files, resolve

log = logging.getLogger(__name__)

VIDEO_EXTS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"})
IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm", ".pbm"})
ANNOTATED_IMAGE_EXTS = IMAGE_EXTS - {".jp2", ".pgm", ".ppm", ".pbm"}
"""Image extensions an annotated copy keeps (colour formats OpenCV writes everywhere); others become .png."""

Kind = Literal["video", "image"]


@dataclass(frozen=True, order=True)
class Source:
    """One input. `rel` is its path relative to the directory it was found in (or its name)."""

    path: str
    kind: Kind
    rel: str

    @property
    def location(self) -> str:
        """URI, or absolute path, for opening the file (workers may run in another directory)."""
        return self.path if is_uri(self.path) else os.path.abspath(self.path)

    @property
    def key(self) -> str:
        """Stable file-name-safe id of this input (hash of `path`); names its part file."""
        return hashlib.sha1(self.path.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def kind_of(path: str | Path) -> Kind:
    """'image' for known image extensions, else 'video' (unknown kinds fail at decode, clearly)."""
    return "image" if Path(path).suffix.lower() in IMAGE_EXTS else "video"


Excluded = frozenset[tuple[str, str]]
"""(filesystem type, path) of directories not to walk."""


def _excluded(where: str | os.PathLike) -> tuple[str, str]:
    fs, path = resolve(where, OutputError)  # the excluded folders are the run's outputs
    return fs.type_name, os.path.realpath(path) if fs.type_name == "local" else path


def _walk(root: str, exclude: Excluded = frozenset()) -> list[tuple[str, str]]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and ("local", os.path.realpath(os.path.join(dirpath, d))) not in exclude)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in VIDEO_EXTS | IMAGE_EXTS:
                full = os.path.join(dirpath, name)
                found.append((full, os.path.relpath(full, root)))
    return found


def _read_list(list_path: str) -> list[str]:
    base = Path(list_path).parent
    lines = Path(list_path).read_text(encoding="utf-8").splitlines()
    items = [ln.strip() for ln in lines]
    return [it if os.path.isabs(it) or is_uri(it) else str(base / it) for it in items if it and not it.startswith("#")]


def expand(inputs: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike | None] = ()) -> list[Source]:
    """Files, directories and `@list.txt` files (one path a line, relative to the list) -> sources.

    The result is sorted by path and free of duplicates. Paths that do not exist are kept (as
    kind by extension) so the run reports them as failed inputs rather than ignoring them.
    Directories in `exclude` (the run's own output and annotation folders) are not walked.
    """
    skip = frozenset(_excluded(e) for e in exclude if e)
    out: dict[str, Source] = {}
    queue = [os.fspath(i) for i in inputs]
    for item in queue:
        if item.startswith("@") and os.path.isfile(item[1:]):
            for sub in _read_list(item[1:]):
                _add(out, sub, skip)
            continue
        _add(out, item, skip)
    sources = sorted(out.values())
    _dedupe_rel(sources)
    return sources


def _add(out: dict[str, Source], item: str, skip: Excluded) -> None:
    if is_uri(item):
        _add_uri(out, item, skip)
    elif os.path.isdir(item):
        for full, rel in _walk(item, skip):
            out.setdefault(full, Source(full, kind_of(full), rel))
    else:
        if not os.path.exists(item):
            log.warning("input %s does not exist", item)
        out.setdefault(item, Source(item, kind_of(item), os.path.basename(item) or item))


def _add_uri(out: dict[str, Source], item: str, skip: Excluded) -> None:
    """A URI input: a file (kept even when missing, to be reported) or a directory listed recursively."""
    fs, path = resolve(item)
    try:
        info = fs.get_file_info(path)
        files = list_files(fs, path, recursive=True) if info.type == pafs.FileType.Directory else None
    except OSError as e:
        raise InputError(f"cannot list input {item}: {' '.join(str(e).split())}") from e
    if files is None:
        if info.type == pafs.FileType.NotFound:
            log.warning("input %s does not exist", item)
        out.setdefault(item, Source(item, kind_of(path), os.path.basename(path) or item))
        return
    prefix = path.rstrip("/") + "/"
    skipped = [p.rstrip("/") + "/" for t, p in skip if t == fs.type_name]
    for f in files:
        rel = f.path[len(prefix):]
        if (any(part.startswith(".") for part in rel.split("/")) or any(f.path.startswith(s) for s in skipped)
                or Path(rel).suffix.lower() not in VIDEO_EXTS | IMAGE_EXTS):
            continue
        full = join(item, rel)
        out.setdefault(full, Source(full, kind_of(rel), rel))


def _dedupe_rel(sources: list[Source]) -> None:
    """Make `rel` unique (annotation file names) by suffixing the key where two inputs collide."""
    seen: dict[str, int] = {}
    for s in sources:
        seen[s.rel] = seen.get(s.rel, 0) + 1
    for i, s in enumerate(sources):
        if seen[s.rel] > 1:
            stem, ext = os.path.splitext(s.rel)
            sources[i] = Source(s.path, s.kind, f"{stem}-{s.key[:8]}{ext}")
