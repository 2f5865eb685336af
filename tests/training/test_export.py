"""training.export: the ONNX graph beside the weights is the weights' network."""
import numpy as np
import onnx
import pytest

from training import nets
from training.export import export_onnx
from vidkp.landmarks import LandmarkModel, default_weights_path, read_metadata
from vidkp.landmarks.runtime import onnx_path


@pytest.fixture(scope="module")
def shipped() -> LandmarkModel:
    path = default_weights_path()
    if not path.is_file():
        pytest.skip(f"no shipped weights at {path}")
    return LandmarkModel(path, threads=1)


def test_shipped_graph_equals_a_fresh_export_of_the_weights(shipped):
    """The committed .onnx holds exactly the safetensors' tensors (BatchNorm folded): re-exporting
    gives the same initializers and the same outputs."""
    fresh = onnx.load_from_string(export_onnx(nets.load(shipped.path), shipped.spec.size))
    committed = onnx.load(str(onnx_path(shipped.path)))
    a = {t.name: onnx.numpy_helper.to_array(t) for t in committed.graph.initializer}
    b = {t.name: onnx.numpy_helper.to_array(t) for t in fresh.graph.initializer}
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    x = np.random.default_rng(0).uniform(0, 1, (3, 1, shipped.spec.size, shipped.spec.size)).astype(np.float32)
    np.testing.assert_allclose(shipped.network(x), nets.TorchNetwork(nets.load(shipped.path))(x), atol=1e-4)


def test_shipped_refinement_graphs_equal_their_weights(shipped):
    from vidkp.landmarks.refine import part_paths

    parts = part_paths(shipped.path, read_metadata(shipped.path))
    assert set(parts) == {"eye", "mouth"}
    for name, path in parts.items():
        size = shipped.refiner.specs[name].size
        x = np.random.default_rng(1).uniform(0, 1, (2, 1, size, size)).astype(np.float32)
        np.testing.assert_allclose(shipped.refiner.networks[name](x), nets.TorchNetwork(nets.load(path))(x), atol=1e-4)
