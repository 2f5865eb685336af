"""Keypoint network definitions and a small registry (timm style).

Every net maps a (n, 1, S, S) float crop in [0, 1] to (n, 136 + has_score) outputs:
68 (x, y) pairs in units of the crop side with the origin at the crop centre
(crop pixel = (out + 0.5) * S), then, for nets with `has_score`, one face/no-face logit.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from vidkp.errors import ModelError
from vidkp.landmarks import LandmarkModel, read_metadata
from vidkp.landmarks.crop import CropSpec

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


def load(path: str | Path, device: str = "cpu",
         memory_format: torch.memory_format = torch.contiguous_format) -> nn.Module:
    """The eval-mode network of a `.safetensors` checkpoint, BatchNorm folded into its convs."""
    meta = read_metadata(path)
    net = create(meta["arch"], **json.loads(meta.get("arch_kwargs", "{}")))
    try:
        net.load_state_dict(load_file(str(path)))
    except RuntimeError as e:
        raise ModelError(f"weights at {path} do not fit architecture {meta['arch']!r}: {e}") from e
    return fuse_batchnorm(net.eval()).to(device, memory_format=memory_format)


BACKENDS = ("onnx", "torch")
"""How `landmark_model` runs a checkpoint: ONNX Runtime on its shipped graph (as vidkp does), or eager PyTorch."""


def landmark_model(weights: str | Path, backend: str = "onnx", threads: int | None = None,
                   device: str = "cpu") -> LandmarkModel:
    """A `LandmarkModel` of `weights` run by `backend` (torch: the first stage on `device`, with
    torch's threads; refinement parts, if any, in ONNX Runtime on `threads` either way)."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    if backend == "onnx":
        return LandmarkModel(weights, threads)
    return LandmarkModel(weights, threads, network=TorchNetwork(load(weights, device), device))


class TorchNetwork:
    """A PyTorch network as a `vidkp.landmarks.PointNetwork` (for `LandmarkModel(network=...)`)."""

    def __init__(self, net: nn.Module, device: str = "cpu") -> None:
        self.net, self.device = net, device

    @torch.inference_mode()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.net(torch.from_numpy(x).to(self.device)).float().cpu().numpy()


def fuse_batchnorm(net: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d in a Sequential into the conv (eval only)."""
    for module in net.modules():
        if isinstance(module, nn.Sequential):
            kids = list(module._modules.items())
            for (ka, a), (kb, b) in zip(kids, kids[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    module._modules[ka] = fuse_conv_bn_eval(a, b)
                    module._modules[kb] = nn.Identity()
    return net


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


def _conv_bn(c_in: int, c_out: int, stride: int = 1, groups: int = 1, k: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True)]


class KpNet(nn.Module):
    """vidkp's default: a small CNN for CPU. A 3x3 stem (stride `stem_stride`), then per stage one
    strided 3x3 conv and `depth` residual blocks (`block`: "ds" depthwise-separable or "plain" 3x3),
    down to a small map; flatten, one hidden FC layer, 136 coordinates plus a face/no-face logit."""

    has_score = True

    def __init__(self, size: int = 64, widths: tuple[int, ...] = (16, 32, 64, 96, 128), depth: int = 1,
                 hidden: int = 256, stem_stride: int = 1, block: str = "ds") -> None:
        super().__init__()
        layers = _conv_bn(1, widths[0], stem_stride)
        c_in, s = widths[0], (size + stem_stride - 1) // stem_stride
        for c in widths[1:]:
            layers += _conv_bn(c_in, c, 2)
            s = (s + 1) // 2
            layers += [(_DSBlock if block == "ds" else _PlainBlock)(c) for _ in range(depth)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * s * s, hidden), nn.ReLU(inplace=True),
                                  nn.Linear(hidden, 2 * 68 + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class _DSBlock(nn.Module):
    """Residual depthwise-separable block: dw 3x3 + BN + ReLU, pw 1x1 + BN, add, ReLU."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), nn.BatchNorm2d(c),
                                  nn.ReLU(inplace=True), nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class _PlainBlock(nn.Module):
    """Residual 3x3 conv block: conv + BN, add, ReLU."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


@register("kpnet", CropSpec(size=64, scale=1.3, shift=0.0, gray=True))
def kpnet(**kwargs) -> nn.Module:
    return KpNet(**kwargs)


class PatchNet(nn.Module):
    """A part network of the refinement stage (integral regression): a small encoder to 1/4 of the
    patch, one upsampling step joined with the 1/2-scale features, then one heatmap per point at 1/2
    of the patch, softmax over it, and each point is its heatmap's expected position (output: `points`
    (x, y) pairs in patch units, origin at the patch centre). The points stay tied to image features
    rather than regressed from a pooled vector, which pulls them toward a mean shape."""

    has_score = False

    def __init__(self, size: int = 32, points: int = 6, widths: tuple[int, int, int] = (16, 32, 64),
                 fuse_kernel: int = 3, half_block: bool = True, channels: int = 1) -> None:
        super().__init__()
        w0, w1, w2 = widths
        self.points = points
        self.stem = nn.Sequential(*_conv_bn(channels, w0), *_conv_bn(w0, w1, 2), *([_PlainBlock(w1)] if half_block else []))
        self.down = nn.Sequential(*_conv_bn(w1, w2, 2), _PlainBlock(w2), _PlainBlock(w2))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.fuse = nn.Sequential(*_conv_bn(w1 + w2, w1, k=fuse_kernel), nn.Conv2d(w1, points, 1))
        side = (size + 1) // 2
        grid = (torch.arange(side, dtype=torch.float32) * 2 + 0.5) / size - 0.5
        self.register_buffer("grid", grid, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.points_and_spread(x)[0]

    def heatmaps(self, x: torch.Tensor) -> torch.Tensor:
        """Each point's probability map (n, k, h, w) over the 1/2-scale grid (`grid`, patch units)."""
        half = self.stem(x)
        maps = self.fuse(torch.cat([half, self.up(self.down(half))[..., : half.shape[2], : half.shape[3]]], 1))
        n, k, h, w = maps.shape
        return torch.softmax(maps.reshape(n, k, h * w), dim=2).reshape(n, k, h, w)

    def points_and_spread(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Points (n, 2k) in patch units and each heatmap's standard deviation (n, k), patch units
        (training can penalise it: a heatmap with mass on two places averages them)."""
        return self.points_from(self.heatmaps(x))

    def points_from(self, prob: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`points_and_spread` of heatmaps (n, k, h, w) already computed (`heatmaps`)."""
        n, k, h, w = prob.shape
        px, py = prob.sum(dim=2), prob.sum(dim=3)
        gx, gy = self.grid[:w], self.grid[:h]
        xs, ys = (px * gx).sum(dim=2), (py * gy).sum(dim=2)
        var = (px * gx ** 2).sum(dim=2) - xs ** 2 + (py * gy ** 2).sum(dim=2) - ys ** 2
        return torch.stack([xs, ys], dim=2).reshape(n, 2 * k), var.clamp_min(1e-8).sqrt()


@register("patchnet", CropSpec(size=32, scale=1.0, shift=0.0, gray=True))
def patchnet(**kwargs) -> nn.Module:
    return PatchNet(**kwargs)
