"""The Ray job's runtime environment installs what the package needs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower()


def test_runtime_env_lists_every_dependency_with_the_same_pin():
    """jobs/runtime_env.yaml repeats pyproject's dependencies (nodes install them without vidkp);
    Ray itself is what the cluster runs, so it is not listed."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {_name(d): d.replace(" ", "") for d in deps if _name(d) != "ray"}
    env = yaml.safe_load((ROOT / "jobs" / "runtime_env.yaml").read_text())
    listed = {_name(p): p.replace(" ", "") for p in env["pip"]["packages"]}
    assert listed == wanted


def test_every_vidkp_package_is_installed():
    """pyproject lists packages by hand: a new stage package must be in the list, or a non-editable
    install silently lacks it."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "vidkp").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
