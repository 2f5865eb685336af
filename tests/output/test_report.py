"""`vidkp report`: the page, its plots, and its videos playing in a real browser (headless Chromium)."""
import math
import re
import shutil

import cv2
import matplotlib.cbook
import pytest
from typer.testing import CliRunner

import vidkp
from tests._browser import video_durations
from vidkp.cli import app
from vidkp.output.report import REPORT_DIR, write_report

av = pytest.importorskip("av", reason="PyAV (a vidkp dependency) is not installed")
runner = CliRunner()


@pytest.fixture(scope="module")
def run_out(tmp_path_factory, clip, weights):
    """A serial run over the face clip and one still, annotated with sunglasses."""
    d = tmp_path_factory.mktemp("report")
    inputs = d / "inputs"
    inputs.mkdir()
    shutil.copy(clip, inputs / "face.mp4")
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), inputs / "grace.jpg")
    summary = vidkp.run([str(inputs)], str(d / "out"), annotate=str(d / "ann"), style="sunglasses", workers=0)
    assert summary.exit_code == 0
    return d


def test_annotated_video_of_a_run_is_h264_yuv420p(run_out):
    with av.open(str(run_out / "ann" / "face.mp4")) as f:
        s = f.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
    cap = cv2.VideoCapture(str(run_out / "ann" / "face.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12


def test_report_videos_play_in_headless_chromium(run_out):
    index = write_report(run_out / "out")
    assert index.parent == run_out / "out" / REPORT_DIR
    durations = video_durations(index)
    assert len(durations) == 1
    for v in durations:
        assert v["error"] is None and isinstance(v["duration"], (int, float)) and math.isclose(v["duration"], 1.0,
                                                                                              abs_tol=0.1), v


def test_report_page_has_plots_tables_and_the_still(run_out, tmp_path):
    index = write_report(run_out / "out", tmp_path / "rep")
    page = index.read_text()
    assert page.count("<video") == 1
    src = re.search(r'<video[^>]* src="([^"]+)"', page).group(1)
    assert (index.parent / src).resolve() == (run_out / "ann" / "face.mp4").resolve()  # relative to --to
    plots = list((tmp_path / "rep").glob("input_*.png"))
    assert len(plots) == 1 and cv2.imread(str(plots[0])) is not None
    poster = re.search(r'<video[^>]* poster="([^"]+)"', page).group(1)
    assert cv2.imread(str(index.parent / poster)).shape == (180, 320, 3)
    assert "grace.jpg" in page and "<img class=ann" in page
    assert "yaw (deg)" in page and "blinks/min" in page


def test_report_dir_is_invisible_to_parquet_readers(run_out):
    before = vidkp.load_tracks(run_out / "out")
    write_report(run_out / "out")
    assert (run_out / "out" / REPORT_DIR / "index.html").is_file()
    assert len(vidkp.load_tracks(run_out / "out")) == len(before)


def test_report_cli_and_its_errors(run_out, tmp_path):
    res = runner.invoke(app, ["report", str(run_out / "out"), "--to", str(tmp_path / "r")])
    assert res.exit_code == 0 and (tmp_path / "r" / "index.html").is_file()
    (tmp_path / "notvidkp").mkdir()
    res = runner.invoke(app, ["report", str(tmp_path / "notvidkp")])
    assert res.exit_code == 2 and "not a vidkp output" in res.output
