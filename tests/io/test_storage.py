"""Inputs and OUT as filesystem URIs: a file:// run gives the rows of a plain-path run (on Ray
workers), the remote-filesystem code path (temp copies, bytes, uploads) gives them too, resume
works on a URI, and an unknown scheme is a usage error."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import pandas as pd
import pytest
from typer.testing import CliRunner

import vidkp
from tests._media import face_clip
from vidkp.batch import run as batch_run
from vidkp.io import decode, storage
from vidkp.output import annotate
from vidkp.cli import app
from vidkp.errors import InputError, OutputError
from vidkp.sample import render_frames
from vidkp.io.sources import expand

KEYS = ["video", "frame", "face_id"]


def _uri(p: Path) -> str:
    return p.as_uri()


def _rows(out: str | Path, strip: str = "") -> pd.DataFrame:
    """Rows sorted by key, with `strip` removed from the front of `video` (URI -> plain path)."""
    df = vidkp.load_tracks(out)
    df["video"] = df.video.str.replace(strip, "", n=1, regex=False) if strip else df.video
    return df.sort_values(KEYS).reset_index(drop=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A folder with two clips, a still in a subfolder (name with a space) and a broken file."""
    d = tmp_path_factory.mktemp("fs_inputs")
    face_clip(d / "a.mp4", frames=8)
    face_clip(d / "b.mp4", frames=6)
    (d / "sub dir").mkdir()
    cv2.imwrite(str(d / "sub dir" / "s 1.jpg"), next(iter(render_frames(0.1, 10, (320, 180)))))
    (d / "broken.mp4").write_text("not a video")
    return d


@pytest.fixture(scope="module")
def reference(inputs, weights, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("fs_ref") / "out"
    s = vidkp.run([inputs], out, workers=0, weights=weights)
    assert s.ok == 3 and len(s.failed) == 1
    return _rows(out)


def test_resolve_join_and_local_path_of_file_uris(tmp_path):
    fs, path = storage.resolve("file:///tmp/a%20b/c.mp4")
    assert fs.type_name == "local" and path == "/tmp/a b/c.mp4"
    assert storage.join("file:///tmp/x", "sub dir/c.mp4") == "file:///tmp/x/sub%20dir/c.mp4"
    assert storage.join("s3://bucket/v?region=eu-west-1", "a.mp4") == "s3://bucket/v/a.mp4?region=eu-west-1"
    assert storage.local_path(_uri(tmp_path)) == str(tmp_path)
    assert storage.local_path("rel/x.mp4") == os.path.abspath("rel/x.mp4")
    with pytest.raises(InputError, match="unsupported or unusable location nope://b/x"):
        storage.resolve("nope://b/x")


def test_uri_directory_expands_to_uris_without_hidden_or_output_folders(inputs, tmp_path):
    (inputs / ".hidden").mkdir(exist_ok=True)
    face_clip(inputs / ".hidden" / "h.mp4", frames=2)
    got = expand([_uri(inputs)], exclude=[_uri(inputs / "sub dir")])
    base = _uri(inputs)
    assert [s.path for s in got] == [f"{base}/a.mp4", f"{base}/b.mp4", f"{base}/broken.mp4"]
    got = expand([_uri(inputs)])
    assert got[-1].path == f"{base}/sub%20dir/s%201.jpg" and got[-1].rel == "sub dir/s 1.jpg"
    assert got[-1].kind == "image" and got[-1].location == got[-1].path


def test_run_with_file_uris_on_ray_workers_gives_the_rows_of_plain_paths(inputs, reference, weights,
                                                                         ray_session, tmp_path):
    out = _uri(tmp_path / "out")
    s = vidkp.run([_uri(inputs)], out, workers=2, weights=weights, images_per_task=1)
    assert s.ok == 3 and [os.path.basename(v) for v, _ in s.failed] == ["broken.mp4"]
    assert s.manifest == f"{out}/_manifest.parquet"
    got = _rows(out, strip="file://")
    got["video"] = got.video.str.replace("%20", " ")
    pd.testing.assert_frame_equal(got, reference)
    m = vidkp.load_manifest(out)
    assert m.video.str.startswith(_uri(inputs)).all() and len(m) == 4


def test_remote_filesystem_path_copies_inputs_and_uploads_outputs(inputs, reference, weights, tmp_path,
                                                                  monkeypatch):
    """file:// treated as remote (as s3:// is): videos copied to temp files, stills decoded from bytes,
    annotations written locally and uploaded; the rows are the same and no temp file is left."""
    def no_local(where):
        return None if storage.is_uri(where) else os.path.abspath(where)

    for mod in (storage, decode, annotate, batch_run):
        monkeypatch.setattr(mod, "local_path", no_local)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    out, ann = _uri(tmp_path / "out"), _uri(tmp_path / "ann")
    s = vidkp.run([_uri(inputs)], out, workers=0, weights=weights, annotate=ann)
    assert s.ok == 3
    got = _rows(out, strip="file://")
    got["video"] = got.video.str.replace("%20", " ")
    pd.testing.assert_frame_equal(got, reference)
    assert sorted(str(p.relative_to(tmp_path / "ann")) for p in (tmp_path / "ann").rglob("*")) == \
        ["a.mp4", "b.mp4", "sub dir", "sub dir/s 1.jpg"]
    assert int(cv2.VideoCapture(str(tmp_path / "ann" / "a.mp4")).get(cv2.CAP_PROP_FRAME_COUNT)) == 8
    assert list(temp.iterdir()) == [], "temp copies and local annotation files must be deleted"


def test_resume_on_a_file_uri(inputs, reference, weights, tmp_path):
    out_dir = tmp_path / "out"
    out = _uri(out_dir)
    vidkp.run([_uri(inputs)], out, workers=0, weights=weights)
    # as after a kill: one input finished but unmarked, a half-written part left behind
    marker = next(p for p in (out_dir / "_done").glob("*.json") if "b.mp4" in p.read_text())
    marker.unlink()
    (out_dir / ".tmp-123-abc-part-x.parquet").write_bytes(b"PAR1 half")
    again = vidkp.run([_uri(inputs)], out, workers=0, weights=weights)
    assert (again.skipped, again.processed, again.ok) == (3, 1, 3)
    assert not list(out_dir.glob(".tmp-*"))
    got = _rows(out, strip="file://")
    got["video"] = got.video.str.replace("%20", " ")
    pd.testing.assert_frame_equal(got, reference)
    assert vidkp.run([_uri(inputs)], out, workers=0, weights=weights).nothing_to_do
    with pytest.raises(OutputError, match="other parameters"):
        vidkp.run([_uri(inputs)], out, workers=0, weights=weights, every=2)


@pytest.mark.parametrize("where", ["input", "out"])
def test_unknown_uri_scheme_is_a_usage_error(where, clip, weights, tmp_path):
    args = [str(clip), "--out", "nope://bucket/out"] if where == "out" else \
        ["nope://bucket/x.mp4", "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(app, ["run", *args, "--workers", "0", "--weights", weights, "-q"],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.output
    assert "unsupported or unusable location nope://bucket/" in res.output
