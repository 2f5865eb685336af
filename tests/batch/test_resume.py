"""kill -9 of the driver mid-run, then the same command again: exactly the rows of a clean run."""
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests._media import face_clip

N_CLIPS = 4


def _cmd(inputs, out, weights, *extra):
    return [sys.executable, "-m", "vidkp", "run", *map(str, inputs), "--out", str(out), "--workers", "0",
            "--weights", weights, "-q", *map(str, extra)]


def _rows(out):
    return pd.read_parquet(out).sort_values(["video", "frame", "face_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume")
    return [face_clip(d / f"clip{i}.mp4", frames=10) for i in range(N_CLIPS)]


@pytest.fixture(scope="module")
def reference(clips, weights, tmp_path_factory):
    """The rows of an uninterrupted run."""
    out = tmp_path_factory.mktemp("ref") / "out"
    ref = subprocess.run(_cmd(clips, out, weights), capture_output=True, text=True, timeout=240)
    assert ref.returncode == 0, ref.stdout + ref.stderr
    return _rows(out)


def _wait_mid_input(proc, out, ann=None, timeout=120):
    """Block until at least one input is finished and another is half written (in OUT and ANN),
    with at least one more input not started: the run cannot end before the signal lands."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        done = list((out / "_done").glob("*.json")) if (out / "_done").is_dir() else []
        half = [d for d in (out, ann) if d is not None and d.is_dir() and list(d.glob(".tmp-*"))]
        if done and len(done) <= N_CLIPS - 2 and len(half) == (1 if ann is None else 2):
            return
        time.sleep(0.02)
    assert proc.poll() is None, "run finished before it could be interrupted"


def test_ctrl_c_exits_130_cleanly_and_resumes(clips, weights, reference, tmp_path):
    out = tmp_path / "o"
    # a shell without job control starts background jobs with SIGINT ignored, which a child
    # inherits (Python then installs no Ctrl-C handler): give the run the default disposition
    proc = subprocess.Popen(_cmd(clips, out, weights), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_mid_input(proc, out)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "rerun the same command to resume" in err
    assert not list(out.glob(".tmp-*")), "Ctrl-C must not leave half-written parts"
    m = pd.read_parquet(out / "_manifest.parquet")
    assert 1 <= len(m) < N_CLIPS and (m.status == "ok").all()
    again = subprocess.run(_cmd(clips, out, weights), capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    pd.testing.assert_frame_equal(_rows(out), reference)


def test_kill_driver_then_resume_gives_the_rows_of_an_uninterrupted_run(clips, weights, reference, tmp_path):

    out, ann = tmp_path / "resumed", tmp_path / "ann"
    cmd = _cmd(clips, out, weights, "--annotate", ann)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_mid_input(proc, out, ann)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = {p: p.stat().st_mtime_ns for p in (out / "_done").glob("*.json")}
    n_done = len(finished)
    assert 1 <= n_done < N_CLIPS
    assert list(out.glob(".tmp-*")), "kill should leave a half-written part behind"
    if (out / "_manifest.parquet").exists():
        pytest.fail("the manifest is written at the end only")
    partial_rows = pd.read_parquet(out)  # readable mid-run: complete parts only
    assert 0 < partial_rows.video.nunique() < N_CLIPS

    assert list(ann.glob(".tmp-*")), "kill should leave a half-written annotation behind"
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items()), "finished inputs were redone"
    assert not list(out.glob(".tmp-*")) and not list(ann.glob(".tmp-*"))
    assert sorted(p.name for p in ann.iterdir()) == sorted(c.name for c in clips)
    pd.testing.assert_frame_equal(_rows(out), reference)
    m = pd.read_parquet(out / "_manifest.parquet")
    assert len(m) == N_CLIPS and (m.status == "ok").all()

    third = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert third.returncode == 0 and "nothing to do" in third.stdout
