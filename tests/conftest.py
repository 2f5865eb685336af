"""Shared fixtures (weights, real data, generated clips, one Ray session) and the test groups.

Markers, set here from what a test uses, so that each group can be run alone or left out
(`pytest -m "not cluster"`): `ray` (the session's local Ray), `cluster` (a two-node Ray cluster in
network namespaces, root only), `data` (../shared/data; such tests skip when it is absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests._media import SHARED, face_clip
from vidkp.landmarks import default_weights_path


@pytest.fixture(scope="session")
def weights() -> str:
    """The shipped default weights (VIDKP_TEST_WEIGHTS may point elsewhere); skip when absent."""
    path = Path(os.environ.get("VIDKP_TEST_WEIGHTS") or default_weights_path())
    if not path.is_file():
        pytest.skip(f"landmark weights not found at {path} (models/landmarks_default.safetensors is "
                    "committed by the training issue)")
    return str(path)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (real clip and photos); skip when absent."""
    if not (SHARED / "videos" / "short_hamilton_clip.mp4").is_file():
        pytest.skip(f"shared data not found at {SHARED} (../shared/data beside the checkout)")
    return SHARED


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """A 12-frame 320x180 clip of one moving face."""
    return face_clip(tmp_path_factory.mktemp("clip") / "face.mp4")


@pytest.fixture(scope="session")
def ray_session():
    """One local loopback-only Ray (2 CPUs) for all Ray tests of the session."""
    ray = pytest.importorskip("ray")
    from vidkp.batch.workers import init_local_ray, restore_ray_flags

    if not ray.is_initialized():
        init_local_ray(2)
    yield ray
    ray.shutdown()
    restore_ray_flags()


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        module = getattr(item, "module", None)
        if "ray_session" in names:
            item.add_marker(pytest.mark.ray)
        if "cluster" in item.path.stem:
            item.add_marker(pytest.mark.cluster)
        if "shared_data" in names or (module is not None and hasattr(module, "data_dir")):
            item.add_marker(pytest.mark.data)
