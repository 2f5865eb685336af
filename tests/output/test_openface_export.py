"""`vidkp export --format openface`: OpenFace 2's columns, one CSV per input."""
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import vidkp
from vidkp.cli import app
from vidkp.output.export import OPENFACE_COLUMNS, openface_frame

runner = CliRunner()


@pytest.fixture(scope="module")
def out(tmp_path_factory, clip, weights):
    d = tmp_path_factory.mktemp("export")
    for name in ("a", "b"):
        (d / name).mkdir()
        shutil.copy(clip, d / name / "face.mp4")  # two inputs with the same file name
    assert vidkp.run([str(d / "a"), str(d / "b")], str(d / "out"), workers=0).exit_code == 0
    return d / "out"


def test_openface_csv_per_input_with_openface_columns(out, tmp_path):
    res = runner.invoke(app, ["export", str(out), "--format", "openface", "--to", str(tmp_path / "of")])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (tmp_path / "of").iterdir())
    assert files == ["face.csv", "face_2.csv"]
    text = (tmp_path / "of" / "face.csv").read_text()
    assert text.splitlines()[0] == ", ".join(OPENFACE_COLUMNS)
    assert text.splitlines()[0].startswith("frame, face_id, timestamp, confidence, success, x_0, x_1")
    assert text.splitlines()[0].endswith("y_67, pose_Rx, pose_Ry, pose_Rz")
    of = pd.read_csv(tmp_path / "of" / "face.csv", skipinitialspace=True)
    assert list(of.columns) == OPENFACE_COLUMNS
    tracks = vidkp.load_tracks(out)
    one = tracks[tracks["video"] == tracks["video"].iloc[0]].sort_values(["frame", "face_id"])
    assert len(of) == len(one) and (of["success"] == 1).all()
    assert np.array_equal(of["frame"].to_numpy(), one["frame"].to_numpy() + 1)  # OpenFace counts from 1
    assert np.allclose(of["x_30"], one["x_30"], atol=0.06)
    assert np.isfinite(of[["pose_Rx", "pose_Ry", "pose_Rz"]].to_numpy()).all()
    assert (of["pose_Ry"].abs() < np.radians(60)).all()


def test_openface_frame_of_no_rows_has_the_columns():
    empty = pd.DataFrame(columns=["video", "frame", "timestamp", "face_id", "confidence"]
                         + [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)])
    assert list(openface_frame(empty, (640, 480)).columns) == OPENFACE_COLUMNS


def test_export_errors_exit_2(out, tmp_path):
    res = runner.invoke(app, ["export", str(out), "--format", "dlib", "--to", str(tmp_path / "x")])
    assert res.exit_code == 2 and "openface" in res.output
    res = runner.invoke(app, ["export", str(tmp_path), "--to", str(tmp_path / "x")])
    assert res.exit_code == 2 and "not a vidkp output" in res.output


def test_openface_pose_is_in_openfaces_order_of_the_angles():
    """A face turned 35 and pitched 20 degrees: the export's angles rebuild the rotation with
    OpenFace's R = Rx @ Ry @ Rz, and differ from `head_pose`'s default (screen) order."""
    from tests._tracks import tracks_from_points
    from vidkp.analysis import head_pose
    from vidkp.analysis.pose import project_reference, rotation_matrix

    size = (640, 480)
    kps = project_reference(np.radians(20), np.radians(35), np.radians(10), 700.0, size, "screen")
    t = tracks_from_points(kps[None])
    t["confidence"] = 0.9
    of = openface_frame(t, size)
    got = of[["pose_Rx", "pose_Ry", "pose_Rz"]].to_numpy()[0]
    screen = head_pose(t, size).to_numpy()[0]
    assert np.allclose(rotation_matrix(*got, "openface"), rotation_matrix(*screen, "screen"), atol=2e-3)
    assert np.abs(got - screen).max() > np.radians(3)
