"""Baseline networks from the seed write-ups, registered in the net registry (`training.nets`) when this
module is imported, so that `training.train --arch NAME` trains them and `training.evaluate`
evaluates them with the same code as the default model.

- `simple90`: the second write-up's network: 90x90 gray input, five 3x3 conv layers (32, 32, 64,
  64, 64 kernels, each with ReLU and 2x2 max-pooling, "same" padding), one fully connected layer
  to the 136 coordinates; no face score. The write-up gives the layer count, the kernel counts
  32/64 and the input size; the kernel size, padding, pooling and the split of 32 and 64 are ours.
  Trained with `--recipe udacity` (whole image, shorter side rescaled, random crop of the input
  size; SmoothL1; Adam).
"""
from __future__ import annotations

import torch
from torch import nn

from training import nets
from vidkp.landmarks.crop import CropSpec


class Simple90(nn.Module):
    """Five conv + ReLU + max-pool layers, one linear layer: (n, 1, 90, 90) -> (n, 136)."""

    has_score = False

    def __init__(self, size: int = 90, widths: tuple[int, ...] = (32, 32, 64, 64, 64)) -> None:
        super().__init__()
        layers, c_in, s = [], 1, size
        for c in widths:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in, s = c, s // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * s * s, 136))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


if "simple90" not in nets.names():
    nets.register("simple90", CropSpec(size=90, scale=1.3, shift=0.0, gray=True))(lambda **kw: Simple90(**kw))
