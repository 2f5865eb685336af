"""Expand command-line inputs (files, directories, @lists; local paths or URIs) into sorted `Source`s.

Directories are walked recursively and keep only files with a known video or image extension
(hidden files and folders are passed over); other files are returned as `Skipped` with the reason,
and so is a second path to a file already taken (through a symlink, or named twice). Directory
symlinks are followed, but no real directory is walked twice, so a link to a parent cannot loop;
a vidkp output dataset inside an input folder (it holds `_run.json`) is not read.
A file named explicitly is always kept, whatever its extension, so that a bad input is reported
instead of silently dropped. `Source.path` is the
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
from typing import Iterable, Literal, NamedTuple

import pyarrow.fs as pafs

from vidkp.batch.resume import RUN_FILE
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


@dataclass(frozen=True, order=True)
class Skipped:
    """A file found among the inputs but not run, and why."""

    path: str
    reason: str


class Inputs(NamedTuple):
    """What `expand_inputs` found: the sources to run (sorted by path) and the files passed over."""

    sources: list[Source]
    skipped: list[Skipped]


def kind_of(path: str | Path) -> Kind:
    """'image' for known image extensions, else 'video' (unknown kinds fail at decode, clearly)."""
    return "image" if Path(path).suffix.lower() in IMAGE_EXTS else "video"


Excluded = frozenset[tuple[str, str]]
"""(filesystem type, path) of directories not to walk."""


def _excluded(where: str | os.PathLike) -> tuple[str, str]:
    fs, path = resolve(where, OutputError)  # the excluded folders are the run's outputs
    return fs.type_name, os.path.realpath(path) if fs.type_name == "local" else path


def _known(name: str) -> bool:
    return Path(name).suffix.lower() in VIDEO_EXTS | IMAGE_EXTS


def _unknown(path: str) -> Skipped:
    ext = Path(path).suffix.lower()
    return Skipped(path, f"not a known video or image extension ({ext or 'none'})")


def _walk(root: str, exclude: Excluded, walked: set[str], skipped: list[Skipped]) -> list[tuple[str, str]]:
    """(path, path relative to `root`) of the known files under `root`, following directory
    symlinks; a real directory already in `walked` is not entered again (and is added to it)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in walked:
            dirnames[:] = []
            continue
        walked.add(real)
        keep = []
        for d in sorted(dirnames):
            sub = os.path.realpath(os.path.join(dirpath, d))
            if d.startswith(".") or ("local", sub) in exclude:
                continue
            if sub in walked:
                skipped.append(Skipped(os.path.join(dirpath, d), f"directory already walked as {sub}"))
                continue
            if os.path.isfile(os.path.join(sub, RUN_FILE)):
                skipped.append(Skipped(os.path.join(dirpath, d), "a vidkp output dataset"))
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name.startswith("."):
                continue
            if _known(name):
                found.append((full, os.path.relpath(full, root)))
            else:
                skipped.append(_unknown(full))
    return found


def _read_list(list_path: str) -> list[str]:
    base = Path(list_path).parent
    lines = Path(list_path).read_text(encoding="utf-8").splitlines()
    items = [ln.strip() for ln in lines]
    return [it if os.path.isabs(it) or is_uri(it) else str(base / it) for it in items if it and not it.startswith("#")]


def expand(inputs: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike | None] = ()) -> list[Source]:
    """The sources of `expand_inputs` (the files passed over are dropped)."""
    return expand_inputs(inputs, exclude).sources


def expand_inputs(inputs: Iterable[str | os.PathLike], exclude: Iterable[str | os.PathLike | None] = ()) -> Inputs:
    """Files, directories and `@list.txt` files (one path a line, relative to the list) -> sources.

    Sources are sorted by path; each real file runs once: of several local paths to one file the
    first in path order is kept and the others are skipped. Paths that do not exist are kept (as
    kind by extension) so the run reports them as failed inputs rather than ignoring them.
    Directories in `exclude` (the run's own output and annotation folders) are not walked.
    """
    skip = frozenset(_excluded(e) for e in exclude if e)
    out: dict[str, Source] = {}
    skipped: list[Skipped] = []
    walked: set[str] = set()
    for item in (os.fspath(i) for i in inputs):
        items = _read_list(item[1:]) if item.startswith("@") and os.path.isfile(item[1:]) else [item]
        for sub in items:
            _add(out, sub, skip, walked, skipped)
    sources = _one_per_file(sorted(out.values()), skipped)
    _dedupe_rel(sources)
    return Inputs(sources, sorted(set(skipped)))


def _add(out: dict[str, Source], item: str, skip: Excluded, walked: set[str], skipped: list[Skipped]) -> None:
    if is_uri(item):
        _add_uri(out, item, skip, skipped)
    elif os.path.isdir(item):
        for full, rel in _walk(item, skip, walked, skipped):
            out.setdefault(full, Source(full, kind_of(full), rel))
    else:
        if not os.path.exists(item):
            log.warning("input %s does not exist", item)
        out.setdefault(item, Source(item, kind_of(item), os.path.basename(item) or item))


def _one_per_file(sources: list[Source], skipped: list[Skipped]) -> list[Source]:
    """Keep the first source of each existing local file (by device and inode); skip the others."""
    seen: dict[tuple[int, int], str] = {}
    kept = []
    for s in sources:
        try:
            st = os.stat(s.path) if not is_uri(s.path) else None
        except OSError:
            st = None
        ident = (st.st_dev, st.st_ino) if st is not None else None
        if ident is not None and ident in seen:
            skipped.append(Skipped(s.path, f"same file as {seen[ident]}"))
            continue
        if ident is not None:
            seen[ident] = s.path
        kept.append(s)
    return kept


def _add_uri(out: dict[str, Source], item: str, skip: Excluded, skipped: list[Skipped]) -> None:
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
    excluded = [p.rstrip("/") + "/" for t, p in skip if t == fs.type_name]
    for f in files:
        rel = f.path[len(prefix):]
        if any(part.startswith(".") for part in rel.split("/")) or any(f.path.startswith(s) for s in excluded):
            continue
        full = join(item, rel)
        if not _known(rel):
            skipped.append(_unknown(full))
            continue
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
