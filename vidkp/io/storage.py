"""Where inputs and outputs live: local paths or any filesystem URI that pyarrow supports.

A location is a plain path or a URI (`file:///data/x.mp4`, `s3://bucket/videos/`, `gs://...`,
`hdfs://...`). `resolve()` turns it into a `pyarrow.fs.FileSystem` and a path on it. Workers
call these functions themselves, so nothing assumes the driver's disk is shared: local paths and
`file://` are read in place; other inputs are streamed to a local temp file for OpenCV
(`local_file`). Writes go to a `.tmp-` name and are moved into place (`write_atomic`): a rename on
local disks; on object stores a server-side copy, and a single put or copy creates an object
whole, so readers see the complete file or none.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, unquote, urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from vidkp.errors import InputError, VidkpError

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
TMP_PREFIX = ".tmp-"


def is_uri(where: str | os.PathLike) -> bool:
    """True for `scheme://...` locations (including `file://`)."""
    return bool(_URI.match(os.fspath(where)))


@functools.lru_cache(maxsize=32)
def _root_fs(root: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of `scheme://netloc[?query]` (cached: S3 looks up the bucket's region)."""
    return pafs.FileSystem.from_uri(root + "/" if "?" not in root else root)


def resolve(where: str | os.PathLike, error: type[VidkpError] = InputError) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path on it) of a plain path or URI; `error` for unknown schemes or bad URIs."""
    loc = os.fspath(where)
    if not is_uri(loc):
        return pafs.LocalFileSystem(), os.path.abspath(loc)
    parts = urlsplit(loc)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise error(f"expected file:///absolute/path, got a host in {loc}")
        return pafs.LocalFileSystem(), unquote(parts.path) or "/"
    root = f"{parts.scheme}://{parts.netloc}" + (f"?{parts.query}" if parts.query else "")
    try:
        fs, base = _root_fs(root)
    except (ValueError, OSError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise error(f"unsupported or unusable location {loc}: {' '.join(str(e).split())} "
                    "(use a local path or a URI pyarrow supports: file://, s3://, gs://, hdfs://)") from e
    path = unquote(parts.path).strip("/")
    return fs, (f"{base.rstrip('/')}/{path}" if path else base)


def local_path(where: str | os.PathLike) -> str | None:
    """The absolute local path of a plain path or `file://` URI; None for other filesystems."""
    loc = os.fspath(where)
    if not is_uri(loc):
        return os.path.abspath(loc)
    return resolve(loc)[1] if urlsplit(loc).scheme == "file" else None


def join(base: str | os.PathLike, *names: str) -> str:
    """`base` (path or URI, query kept) with '/'-separated plain `names` appended (quoted in URIs)."""
    loc = os.fspath(base)
    if not is_uri(loc):
        return os.path.join(loc, *names)
    parts = urlsplit(loc)
    path = "/".join([parts.path.rstrip("/"), *(quote(n.strip("/")) for n in names)])
    return parts._replace(path=path).geturl()


def temp_path(path: str) -> str:
    """A unique `.tmp-<pid>-<random>-<name>` sibling of `path` (same directory: a move stays on one
    filesystem; the pid marks it as ours when stale ones are cleaned up)."""
    head, sep, name = path.rpartition("/")
    return f"{head}{sep}{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{name}"


def _open_new(fs: pafs.FileSystem, path: str) -> pa.NativeFile:
    """An output stream for `path`, creating its parent directory when the filesystem needs one."""
    try:
        return fs.open_output_stream(path)
    except FileNotFoundError:
        fs.create_dir(path.rpartition("/")[0], recursive=True)
        return fs.open_output_stream(path)


def write_atomic(fs: pafs.FileSystem, path: str, data: bytes) -> None:
    """Write `data` to `path` under a temp name, then move it into place."""
    tmp = temp_path(path)
    try:
        with _open_new(fs, tmp) as f:
            f.write(data)
        fs.move(tmp, path)
    except BaseException:
        delete_quietly(fs, tmp)
        raise


def upload_atomic(local_file: str, fs: pafs.FileSystem, path: str) -> None:
    """Copy a local file to `path` on `fs` (streamed) under a temp name, then move it into place."""
    tmp = temp_path(path)
    try:
        with open(local_file, "rb") as src, _open_new(fs, tmp) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        fs.move(tmp, path)
    except BaseException:
        delete_quietly(fs, tmp)
        raise


def delete_quietly(fs: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(FileNotFoundError, OSError):
        fs.delete_file(path)


def read_text(fs: pafs.FileSystem, path: str) -> str:
    with fs.open_input_stream(path) as f:
        return f.read().decode("utf-8")


def list_files(fs: pafs.FileSystem, path: str, recursive: bool = False) -> list[pafs.FileInfo]:
    """Files under directory `path` (none when it does not exist)."""
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=recursive))
    return [i for i in infos if i.type == pafs.FileType.File]


def _check_input(fs: pafs.FileSystem, path: str, loc: str) -> None:
    try:
        info = fs.get_file_info(path)
    except OSError as e:
        raise InputError(f"cannot read {loc}: {' '.join(str(e).split())}") from e
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"input not found: {loc}")
    if info.type != pafs.FileType.File:
        raise InputError(f"expected a regular file, got something else at {loc}")
    if info.size == 0:
        raise InputError(f"empty file (0 bytes): {loc}")


def read_input_bytes(where: str) -> bytes:
    """The whole content of a remote input (InputError when missing, empty or unreadable)."""
    fs, path = resolve(where)
    _check_input(fs, path, where)
    try:
        with fs.open_input_stream(path) as f:
            return f.read()
    except OSError as e:
        raise InputError(f"cannot read {where}: {' '.join(str(e).split())}") from e


@contextlib.contextmanager
def local_file(where: str) -> Iterator[str]:
    """A local path holding the input: itself for local paths and `file://`; otherwise a temp copy
    (streamed, with the input's extension, deleted on exit) for readers that need a file (OpenCV)."""
    local = local_path(where)
    if local is not None:
        yield local
        return
    fs, path = resolve(where)
    _check_input(fs, path, where)
    fd, tmp = tempfile.mkstemp(prefix="vidkp-", suffix=Path(path).suffix)
    try:
        try:
            with os.fdopen(fd, "wb") as dst, fs.open_input_stream(path) as src:
                shutil.copyfileobj(src, dst, 1 << 20)
        except OSError as e:
            raise InputError(f"cannot read {where}: {' '.join(str(e).split())}") from e
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
