import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from vidkp.faces import Faces
from vidkp.batch.manifest import write_manifest
from vidkp.batch.resume import read_markers, remove_temp_files, write_marker
from vidkp.output.parquet import COLUMNS, SCHEMA, PartWriter


def _faces(n, ids):
    kp = np.arange(n * 136, dtype=np.float32).reshape(n, 68, 2)
    return Faces(np.arange(n * 4, dtype=np.float32).reshape(n, 4), np.full(n, 0.5, np.float32), kp, np.array(ids))


def test_column_contract():
    assert COLUMNS[:9] == ["video", "frame", "timestamp", "face_id", "box_x", "box_y", "box_w", "box_h", "confidence"]
    assert COLUMNS[9:] == [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
    assert all(str(SCHEMA.field(c).type) == "float" for c in COLUMNS[4:])


def test_part_rows_and_points_roundtrip(tmp_path):
    with PartWriter(tmp_path, "k1", flush_rows=1) as w:
        w.add("v.mp4", _faces(2, [0, 1]).at(0, 0.0))
        w.add("v.mp4", Faces.empty().at(1, 0.04))
        w.add("v.mp4", _faces(1, [1]).at(2, 0.08))
    df = pd.read_parquet(tmp_path)
    assert list(df.columns) == COLUMNS
    assert df[["frame", "face_id"]].values.tolist() == [[0, 0], [0, 1], [2, 1]]
    assert df.loc[1, "x_0"] == 136 and df.loc[1, "y_0"] == 137 and df.loc[1, "y_67"] == 136 + 135
    assert df["x_5"].dtype == np.float32 and df["frame"].dtype == np.int64


def test_read_parquet_ignores_manifest_markers_temp_files_and_empty_parts(tmp_path):
    with PartWriter(tmp_path, "a") as w:
        w.add("a.mp4", _faces(1, [0]).at(0, 0.0))
    with PartWriter(tmp_path, "empty"):
        pass  # an input without faces: a valid zero-row part
    assert pq.read_table(tmp_path / "part-empty.parquet").schema.equals(SCHEMA)
    write_manifest(tmp_path, [{"video": "a.mp4", "status": "ok", "frames": 1}])
    write_marker(tmp_path, "a", {"video": "a.mp4", "status": "ok"})
    (tmp_path / ".tmp-half-written.parquet").write_bytes(b"PAR1 garbage")
    df = pd.read_parquet(tmp_path)
    assert len(df) == 1 and list(df.columns) == COLUMNS
    assert read_markers(tmp_path)["a"]["status"] == "ok"
    assert remove_temp_files(tmp_path) == 1
    assert pd.read_parquet(tmp_path / "_manifest.parquet").loc[0, "video"] == "a.mp4"


def test_failed_writer_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with PartWriter(tmp_path, "x") as w:
            w.add("x.mp4", _faces(1, [0]).at(0, 0.0))
            raise RuntimeError("decoder died")
    assert list(tmp_path.iterdir()) == []
