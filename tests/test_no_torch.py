"""The runtime never imports torch (training does): `import vidkp`, `FaceLandmarker().detect` and a
2-worker `vidkp run` (driver and Ray workers) run with a `torch` that refuses to be imported."""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests._media import SHARED


@pytest.fixture()
def no_torch_env(tmp_path) -> dict[str, str]:
    """Environment whose `torch` package logs the importing process and raises ImportError."""
    fake = tmp_path / "poison" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "import os\n"
        "with open(os.environ['TORCH_IMPORT_LOG'], 'a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
        "raise ImportError('torch imported at run time')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")]),
           "TORCH_IMPORT_LOG": str(tmp_path / "torch_imports.log")}
    env.pop("RAY_ADDRESS", None)
    # the poison works: importing torch in that environment fails and is logged
    probe = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and "torch imported at run time" in probe.stderr
    Path(env["TORCH_IMPORT_LOG"]).unlink()
    return env


def test_api_runs_without_torch(no_torch_env, weights, clip):
    code = ("import cv2, vidkp\n"
            "cap = cv2.VideoCapture(__import__('sys').argv[1]); ok, frame = cap.read()\n"
            "print(len(vidkp.FaceLandmarker(__import__('sys').argv[2]).detect(frame)))\n")
    res = subprocess.run([sys.executable, "-c", code, str(clip), weights], env=no_torch_env, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert int(res.stdout.strip()) == 1
    assert not Path(no_torch_env["TORCH_IMPORT_LOG"]).exists()


@pytest.mark.ray
def test_two_worker_run_without_torch(no_torch_env, weights, clip, tmp_path):
    stills = [SHARED / "images" / n for n in ("obamas.jpg", "two_people.jpg")]
    inputs = [str(clip)] + [str(p) for p in stills if p.is_file()]
    vidkp = Path(sys.executable).with_name("vidkp")
    res = subprocess.run([str(vidkp), "run", *inputs, "--out", str(tmp_path / "o"), "--workers", "2",
                          "--weights", weights, "--set", "images_per_task=1", "-q"],
                         env=no_torch_env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    manifest = pd.read_parquet(tmp_path / "o" / "_manifest.parquet")
    assert (manifest["status"] == "ok").all() and len(manifest) == len(inputs)
    assert manifest["worker"].nunique() >= 2, "both Ray workers took part"
    assert not Path(no_torch_env["TORCH_IMPORT_LOG"]).exists()
