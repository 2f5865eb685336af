"""Where a new face can be: the parts of a frame that changed since earlier frames.

A new face cannot appear without changing the picture where it appears. The change is measured
on a small gray thumbnail of the frame (`vidkp.tracking.cuts.CutDetector.thumb`, 64x36), in
cells of `CELL` x `CELL` thumbnail pixels (40 x 40 pixels of a 640x360 frame); `search_regions`
turns changed cells into the frame regions that a detector pass scans (`HaarDetector(image,
regions)`).
"""
from __future__ import annotations

import cv2
import numpy as np

CELL = 4
"""Side of a change cell, in thumbnail pixels."""

WHOLE_FRAME_SHARE = 0.6
"""When the regions cover more than this share of the frame, the whole frame is searched (one
scan of everything costs little more than scans of most of it, and finds faces straddling
region edges)."""


def changed_cells(thumb: np.ndarray, ref: np.ndarray, threshold: float) -> np.ndarray:
    """Mask (th // CELL, tw // CELL) of the cells whose mean absolute gray difference between the
    thumbnails `thumb` and `ref` (same shape, 0-255) is above `threshold`."""
    th, tw = thumb.shape[0] // CELL * CELL, thumb.shape[1] // CELL * CELL
    diff = np.abs(thumb[:th, :tw].astype(np.float32) - ref[:th, :tw].astype(np.float32))
    return diff.reshape(th // CELL, CELL, tw // CELL, CELL).mean(axis=(1, 3)) > threshold


def cell_scale(cells: np.ndarray, thumb_shape: tuple[int, ...], image_shape: tuple[int, ...]) -> tuple[float, float]:
    """Image pixels per cell (x, y) for `cells` of a thumbnail of `thumb_shape` of an image of
    `image_shape`."""
    return CELL * image_shape[1] / thumb_shape[1], CELL * image_shape[0] / thumb_shape[0]


def box_cells(shape: tuple[int, int], boxes: np.ndarray, scale: tuple[float, float], grow: float = 0.25) -> np.ndarray:
    """Mask (`shape`, cells) of the cells touching a box (n, 4; image pixels, each grown by `grow`
    of its side on every side), `scale` image pixels per cell (x, y)."""
    out = np.zeros(shape, bool)
    sx, sy = scale
    for x, y, w, h in np.asarray(boxes, np.float64).reshape(-1, 4):
        x0, y0 = int((x - grow * w) // sx), int((y - grow * h) // sy)
        x1, y1 = int(np.ceil((x + (1 + grow) * w) / sx)), int(np.ceil((y + (1 + grow) * h) / sy))
        out[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    return out


def search_regions(cells: np.ndarray, scale: tuple[float, float], image_shape: tuple[int, ...],
                   grow: int = 1) -> np.ndarray | None:
    """The regions (n, 4; x, y, w, h in image pixels, inside the image) that cover the set
    `cells`, each connected group of cells grown by `grow` cells on every side (a face is larger
    than the edge of it that changed) and boxed; (0, 4) when no cell is set; None (the whole
    frame) when the boxes cover more than `WHOLE_FRAME_SHARE` of it."""
    if not cells.any():
        return np.zeros((0, 4), np.float32)
    k = 2 * grow + 1
    grown = cv2.dilate(cells.astype(np.uint8), np.ones((k, k), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    sx, sy = scale
    h, w = image_shape[:2]
    boxes = []
    for cx, cy, cw, ch, _ in stats[1:n]:
        x0, y0 = max(cx * sx, 0.0), max(cy * sy, 0.0)
        x1, y1 = min((cx + cw) * sx, float(w)), min((cy + ch) * sy, float(h))
        boxes.append((x0, y0, x1 - x0, y1 - y0))
    out = np.asarray(boxes, np.float32).reshape(-1, 4)
    return None if float((out[:, 2] * out[:, 3]).sum()) > WHOLE_FRAME_SHARE * w * h else out
