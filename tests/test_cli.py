"""The thin CLI: help texts, exit codes (0 ok, 1 some failed, 2 usage), resume messages, sample."""
import re

import cv2
import pandas as pd
import pytest
from typer.testing import CliRunner

from vidkp.cli import app

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env=ENV)


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_help_explains_every_option():
    top = invoke("--help")
    assert top.exit_code == 0 and "run" in top.output and "sample" in top.output
    res = invoke("run", "--help")
    assert res.exit_code == 0
    text = _plain(res.output)
    for opt in ("--out", "--annotate", "--address", "--workers", "--every", "--max-frames", "--min-face",
                "--overwrite", "--weights", "--segment-seconds", "--overlap-seconds"):
        assert opt in text, opt


@pytest.mark.parametrize("args", [["run", "x.mp4"], ["run", "x.mp4", "--out", "o", "--every", "0"],
                                  ["run", "x.mp4", "--out", "o", "--workers", "-1"], ["nonsense"]])
def test_usage_errors_exit_2(args):
    assert invoke(*args).exit_code == 2


def test_unusable_out_and_missing_weights_exit_2(tmp_path, clip, weights):
    (tmp_path / "file").write_text("x")
    res = invoke("run", clip, "--out", tmp_path / "file", "--workers", 0, "--weights", weights)
    assert res.exit_code == 2 and "expected a directory" in _plain(res.output)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("precious")
    res = invoke("run", clip, "--out", tmp_path / "other", "--workers", 0, "--weights", weights, "--overwrite")
    assert res.exit_code == 2 and "not a vidkp output" in _plain(res.output)
    assert (tmp_path / "other" / "keep.txt").exists()
    res = invoke("run", clip, "--out", tmp_path / "o", "--workers", 0, "--weights", tmp_path / "none.safetensors")
    assert res.exit_code == 2 and "weights not found" in _plain(res.output)


def test_run_rerun_refuse_overwrite(tmp_path, clip, weights):
    out = tmp_path / "o"
    base = ["run", clip, "--out", out, "--workers", 0, "--weights", weights, "-q", "--max-frames", 7]
    first = invoke(*base)
    assert first.exit_code == 0, first.output
    rows = pd.read_parquet(out)
    again = invoke(*base)
    assert again.exit_code == 0 and "nothing to do" in _plain(again.output)
    pd.testing.assert_frame_equal(pd.read_parquet(out), rows)
    other = invoke(*base, "--every", 3)
    assert other.exit_code == 2 and "other parameters" in _plain(other.output) and "every" in _plain(other.output)
    over = invoke(*base, "--every", 3, "--overwrite")
    assert over.exit_code == 0
    assert set(pd.read_parquet(out).frame) <= {0, 3, 6}


def test_some_failed_exit_1_and_listed(tmp_path, clip, weights):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    res = invoke("run", clip, bad, "--out", tmp_path / "o", "--workers", 0, "--weights", weights, "-q",
                 "--max-frames", 2)
    assert res.exit_code == 1
    assert f"FAILED {bad}: not a readable video" in _plain(res.output)
    m = pd.read_parquet(tmp_path / "o" / "_manifest.parquet")
    assert sorted(m.status) == ["failed", "ok"]


def test_sample_writes_a_clip_with_a_face(tmp_path):
    res = invoke("sample", tmp_path, "--seconds", 1)
    assert res.exit_code == 0
    cap = cv2.VideoCapture(str(tmp_path / "grace_hopper.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 25
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 360)


def test_outputs_inside_the_input_folder_are_not_picked_up_on_rerun(tmp_path, clip, weights):
    d = tmp_path / "videos"
    d.mkdir()
    (d / "a.mp4").write_bytes(clip.read_bytes())
    args = ["run", d, "--out", d / "out", "--annotate", d / "ann", "--workers", 0, "--weights", weights, "-q",
            "--max-frames", 2]
    assert invoke(*args).exit_code == 0
    assert (d / "ann" / "a.mp4").is_file()
    again = invoke(*args)
    assert again.exit_code == 0 and "nothing to do: all 1 inputs" in _plain(again.output)
