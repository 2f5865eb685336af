"""Bad inputs never stop a batch: each gets one clear line in the manifest and the summary."""
import os

import cv2
import numpy as np
import pandas as pd
import pytest

import vidkp
import vidkp.output.parquet
from tests._media import face_clip, plain_clip, portrait_rotated_clip, truncated_copy
from vidkp.sample import render_frames, write_clip


@pytest.fixture(scope="module")
def batch(tmp_path_factory, weights):
    d = tmp_path_factory.mktemp("bad")
    good = face_clip(d / "good.mp4", frames=6)
    (d / "zero.mp4").write_bytes(b"")
    truncated_copy(good, d / "truncated.mp4")
    (d / "text.mp4").write_text("this is not a video\n" * 50)
    (d / "unreadable.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a real jpeg " * 10)
    plain_clip(d / "noface.mp4", frames=5)
    face_clip(d / "oneframe.mp4", frames=1)
    write_clip(d / "uhd.mp4", render_frames(3 / 8, 8.0, (3840, 2160)), 8.0, (3840, 2160))
    portrait_rotated_clip(d / "portrait.mp4")
    avi = d / "full.avi"
    w = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), 8.0, (320, 180))
    for f in render_frames(1.0, 8.0, (320, 180)):
        w.write(f)
    w.release()
    truncated_copy(avi, d / "truncated.avi", keep=0.5)
    avi.unlink()
    cv2.imwrite(str(d / "rgba.png"), np.zeros((40, 40, 4), np.uint8))
    inputs = sorted(str(p) for p in d.iterdir()) + [str(d / "missing.mp4")]
    if os.geteuid() != 0:
        noperm = d / "noperm.mp4"
        face_clip(noperm, frames=2)
        noperm.chmod(0)
        inputs.append(str(noperm))
    out = tmp_path_factory.mktemp("out") / "ds"
    summary = vidkp.run(inputs, out, workers=0, weights=weights)
    return d, out, summary


def _status(out):
    m = pd.read_parquet(out / "_manifest.parquet")
    return m.set_index(m.video.map(os.path.basename))


@pytest.mark.parametrize("name,needle", [
    ("zero.mp4", "empty file"), ("truncated.mp4", "not a readable video"), ("text.mp4", "not a readable video"),
    ("unreadable.jpg", "not a readable image"), ("missing.mp4", "not found")])
def test_each_bad_input_fails_with_one_clear_line(batch, name, needle):
    _, out, summary = batch
    row = _status(out).loc[name]
    assert row.status == "failed" and needle in row.error and "\n" not in row.error
    assert any(os.path.basename(v) == name and needle in e for v, e in summary.failed)


def test_all_inputs_failed_still_reads_with_the_full_schema(tmp_path, weights):
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    s = vidkp.run([str(bad)], tmp_path / "o", workers=0, weights=weights)
    assert s.failed and s.exit_code == 1
    df = pd.read_parquet(tmp_path / "o")
    assert len(df) == 0 and list(df.columns) == vidkp.output.parquet.COLUMNS


def test_permission_denied_is_reported(batch):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading the file "
                    "(see test_permission_denied_as_seen_by_the_os for the same path under root)")
    assert "permission denied" in _status(batch[1]).loc["noperm.mp4"].error


def test_permission_denied_as_seen_by_the_os(clip, weights, tmp_path, monkeypatch):
    """Under root chmod cannot deny reading, so the OS answer is simulated for one path."""
    import vidkp.io.decode

    locked = tmp_path / "locked.mp4"
    locked.write_bytes(clip.read_bytes())
    real_access = os.access
    monkeypatch.setattr(vidkp.io.decode.os, "access",
                        lambda p, mode, *a, **k: False if os.fspath(p) == str(locked) else real_access(p, mode, *a, **k))
    s = vidkp.run([str(locked), str(clip)], tmp_path / "o", workers=0, weights=weights, max_frames=2)
    assert s.ok == 1 and [e for _, e in s.failed] == [f"permission denied reading {locked}"]


def test_good_and_odd_but_valid_inputs_are_ok(batch):
    _, out, summary = batch
    st = _status(out)
    rows = pd.read_parquet(out)
    per = rows.groupby(rows.video.map(os.path.basename)).size()
    for name in ("good.mp4", "noface.mp4", "oneframe.mp4", "uhd.mp4", "portrait.mp4", "rgba.png"):
        assert st.loc[name].status == "ok", (name, st.loc[name].error)
    assert st.loc["noface.mp4"].face_rows == 0 and "noface.mp4" not in per
    assert st.loc["oneframe.mp4"].frames == 1 and per["oneframe.mp4"] == 1
    assert per["good.mp4"] >= 5
    uhd = rows[rows.video.str.endswith("uhd.mp4")]
    assert (st.loc["uhd.mp4"].width, st.loc["uhd.mp4"].height) == (3840, 2160)
    assert len(uhd) == 3 and uhd.box_w.min() > 300, "4K boxes must be in original-frame pixels"
    assert (st.loc["portrait.mp4"].width, st.loc["portrait.mp4"].height) == (180, 320)
    assert per["portrait.mp4"] >= 3, "rotation metadata ignored: the sideways face is not found"
    assert st.loc["truncated.avi"].status in ("ok", "failed")
    if st.loc["truncated.avi"].status == "ok":
        assert 0 < st.loc["truncated.avi"].frames < 8
    assert summary.exit_code == 1
    assert sorted(os.path.basename(v) for v, _ in summary.failed) == sorted(
        st.index[st.status == "failed"].tolist())


def test_output_trouble_is_reported_but_not_marked_finished(clip, weights, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the annotation folder should be")
    out = tmp_path / "o"
    s = vidkp.run([str(clip)], out, workers=0, weights=weights, annotate=blocker / "ann", max_frames=2)
    assert s.exit_code == 1 and "annotation directory" in s.failed[0][1]
    assert not list((out / "_done").glob("*.json")), "an output failure must not mark the input finished"
    assert pd.read_parquet(out / "_manifest.parquet").status.tolist() == ["failed"]
    blocker.unlink()
    blocker.mkdir()
    again = vidkp.run([str(clip)], out, workers=0, weights=weights, annotate=blocker / "ann", max_frames=2)
    assert again.processed == 1 and again.exit_code == 0, "the rerun retries the unfinished input"
