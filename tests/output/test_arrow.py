"""vidkp.output.arrow builds the same arrays as pyarrow.array, without importing pandas."""
import subprocess
import sys

import numpy as np
import pyarrow as pa

from vidkp.output.arrow import column, numeric, strings


def test_arrays_equal_pyarrows_own_with_nulls_and_casts():
    values = np.array([1.5, -2.0, 3.25], np.float64)
    assert numeric(values).equals(pa.array(values))
    assert numeric(values, pa.float32()).equals(pa.array(values.astype(np.float32)))
    assert numeric(np.arange(3, dtype=np.int32), pa.int64()).equals(pa.array([0, 1, 2], pa.int64()))
    assert numeric(np.arange(12.0).reshape(3, 4)[:, 1], pa.float32()).to_pylist() == [1.0, 5.0, 9.0]  # strided
    texts = ["a", None, "ünï", ""] * 3
    assert strings(texts).equals(pa.array(texts, pa.string()))
    for t, vals in ((pa.int64(), [1, None, 3] * 4), (pa.float64(), [None, 0.5, 2.0]), (pa.string(), ["x", None])):
        assert column(vals, t).equals(pa.array(vals, t)), t


def test_writing_a_part_does_not_import_pandas(tmp_path):
    code = ("import sys, numpy as np\n"
            "from vidkp.faces import Faces\n"
            "from vidkp.output.parquet import PartWriter\n"
            "from vidkp.batch.manifest import write_manifest\n"
            f"with PartWriter({str(tmp_path)!r}, 'k') as w:\n"
            "    w.add('v.mp4', Faces(np.ones((1, 4)), np.ones(1), np.ones((1, 68, 2))).at(3, 0.1))\n"
            f"write_manifest({str(tmp_path)!r}, [{{'video': 'v.mp4', 'status': 'ok', 'frames': 1}}])\n"
            "assert 'pandas' not in sys.modules, 'pandas was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    import pandas as pd

    df = pd.read_parquet(tmp_path)
    assert df[["frame", "face_id"]].values.tolist() == [[3, -1]] and df["timestamp"].tolist() == [0.1]
