"""Write checkpoints: safetensors weights (the source of truth, with the metadata the runtime reads)
and the ONNX graph beside them (`<stem>.onnx`) that `vidkp` runs without torch.

    python -m training.export WEIGHTS.safetensors [...]   # (re)write each one's .onnx

Every tool in `training/` that writes weights goes through `save_checkpoint`, so the two files
never disagree (`tests/test_export.py` checks the shipped pair).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import warnings
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from training import nets
from vidkp.landmarks import read_metadata
from vidkp.landmarks.crop import CropSpec
from vidkp.landmarks.runtime import INPUT, OUTPUT, onnx_path


def export_onnx(net: nn.Module, size: int, channels: int = 1) -> bytes:
    """ONNX model (bytes) of an eval-mode network taking (n, channels, size, size) float crops; n is dynamic.

    Uses PyTorch's TorchScript-based exporter (needs the `onnx` package), which exports this plain
    convolutional network in a fraction of a second; its deprecation warning is silenced."""
    buf = io.BytesIO()
    dummy = torch.zeros(1, channels, size, size)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(net, (dummy,), buf, dynamo=False, input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "n"}, OUTPUT: {0: "n"}})
    return buf.getvalue()


def write_onnx(weights: str | Path) -> Path:
    """Export the checkpoint's network (BatchNorm folded) to its `.onnx` path, atomically."""
    spec = CropSpec(**json.loads(read_metadata(weights)["crop"]))
    graph = export_onnx(nets.load(weights), spec.size, 1 if spec.gray else 3)
    out = onnx_path(weights)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(graph)
    os.replace(tmp, out)
    return out


def save_checkpoint(state: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str]) -> None:
    """Write weights (atomically) with their metadata, then their ONNX graph."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    os.replace(tmp, path)
    write_onnx(path)


def add_metadata(path_in: str | Path, path_out: str | Path, items: dict[str, str]) -> None:
    """Copy a checkpoint (weights and metadata) to `path_out` with `items` added to its metadata."""
    with safe_open(str(path_in), "pt") as f:
        meta = {**(f.metadata() or {}), **items}
    save_checkpoint(load_file(str(path_in)), path_out, meta)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", nargs="+", help=".safetensors checkpoints")
    for w in ap.parse_args(argv).weights:
        print(f"wrote {write_onnx(w)}")


if __name__ == "__main__":
    main()
