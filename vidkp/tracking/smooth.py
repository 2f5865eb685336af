"""One-Euro filtering of landmark tracks (Casiez et al., CHI 2012), in face-relative units.

Positions are filtered in pixels; speeds are divided by the face size before they raise the
cut-off, so one set of parameters fits small and large faces: `min_cutoff` (Hz) sets the smoothing of still faces, `beta` how fast the
cut-off rises with speed (in face sizes per second), so moving faces are not lagged.
"""
from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filter an array signal (e.g. 68x2 points) sampled at irregular times."""

    def __init__(self, min_cutoff: float = 0.3, beta: float = 30.0, d_cutoff: float = 1.0) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filtered value of sample `x` (pixels) at time `t` (s); `scale` is the face size in
        pixels, by which speeds are divided before they raise the cut-off."""
        x = np.asarray(x, np.float64)
        if self._x is None or self._dx is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x, np.zeros_like(x), t
            return x.astype(np.float32)
        dt = t - self._t
        dx = (x - self._x) / dt
        dx_hat = self._dx + _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(dx_hat) / scale
        x_hat = self._x + _alpha(cutoff, dt) * (x - self._x)
        self._x, self._dx, self._t = x_hat, dx_hat, t
        return x_hat.astype(np.float32)
