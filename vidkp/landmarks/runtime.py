"""The landmark network in ONNX Runtime (CPU), from the `.onnx` graph shipped beside the weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vidkp.errors import ModelError

INPUT, OUTPUT = "crops", "outputs"
"""Names of the graph's input (n, 1, S, S) and output (n, outputs) tensors; n is dynamic."""


def onnx_path(weights: str | Path) -> Path:
    """The ONNX graph that belongs to a `.safetensors` checkpoint: same folder, same stem."""
    return Path(weights).with_suffix(".onnx")


class OnnxNetwork:
    """An ONNX Runtime CPU session for one graph: `network(x)` maps (n, 1, S, S) float32 to outputs.

    `threads`: intra-op threads (None: ONNX Runtime's default, one per physical core). Sequential
    execution, no spinning between calls (the pipeline decodes and detects in between)."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ModelError(f"ONNX graph not found at {path}; write it from the weights with "
                             f"`python -m training.export {path.with_suffix('.safetensors')}`")
        opts = ort.SessionOptions()
        if threads is not None:
            opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # errors only
        opts.enable_cpu_mem_arena = False  # buffers freed after each run: a worker stays small
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load the ONNX graph at {path}: {e}") from e

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(x, np.float32)})[0]
