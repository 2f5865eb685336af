"""Keypoint network definitions and a small registry (timm style).

Every net maps a (n, 1, S, S) float crop in [0, 1] to (n, 136 + has_score) outputs:
68 (x, y) pairs in units of the crop side with the origin at the crop centre
(crop pixel = (out + 0.5) * S), then, for nets with `has_score`, one face/no-face logit.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from vidkp.crop import CropSpec

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
DEFAULT_CROPS: dict[str, CropSpec] = {}


def register(name: str, crop: CropSpec):
    """Register a network constructor under `name` with its default input crop."""

    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _REGISTRY[name] = fn
        DEFAULT_CROPS[name] = crop
        return fn

    return deco


def create(name: str, **kwargs) -> nn.Module:
    """Build a registered network."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model architecture {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name](**kwargs)


def names() -> list[str]:
    return sorted(_REGISTRY)


class NaimishNet(nn.Module):
    """The seed write-up's modified NaimishNet: 4 conv (32/64/128/256, k 5,5,3,3) + BN + ReLU +
    2x2 max-pool, 3 FC layers with dropout 0.5/0.4, 224x224 grayscale input."""

    has_score = False

    def __init__(self) -> None:
        super().__init__()
        chans, kernels, layers, c_in = (32, 64, 128, 256), (5, 5, 3, 3), [], 1
        for c, k in zip(chans, kernels):
            layers += [nn.Conv2d(c_in, c, k), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        # 224 -> 220/2=110 -> 106/2=53 -> 51/2=25 -> 23/2=11
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(256 * 11 * 11, 1024), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(1024, 512), nn.ReLU(inplace=True), nn.Dropout(0.4),
            nn.Linear(512, 136),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register("naimishnet", CropSpec(size=224, scale=1.3, shift=0.0, gray=True))
def naimishnet() -> nn.Module:
    return NaimishNet()
