"""Where a new face can be: the parts of a frame that changed since a detector last looked.

A new face cannot appear without changing the picture where it appears. Change is measured on a
small gray thumbnail of the frame (`vidkp.tracking.cuts.CutDetector.thumb`, 64x36) as the
absolute difference of two thumbnails, in cells of `CELL` x `CELL` thumbnail pixels (40 x 40
pixels of a 640x360 frame); `search_regions` turns changed cells into the frame regions a
detector pass scans (`HaarDetector(image, regions)`).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

CELL = 4
"""Side of a change cell, in thumbnail pixels."""

WHOLE_FRAME_SHARE = 0.6
"""When the regions cover more than this share of the frame, the whole frame is searched (one
scan of everything costs little more than scans of most of it, and finds faces straddling
region edges)."""


def thumb_scale(thumb_shape: tuple[int, ...], image_shape: tuple[int, ...]) -> tuple[float, float]:
    """Image pixels per thumbnail pixel (x, y) for a thumbnail of `thumb_shape` of an image of
    `image_shape`."""
    return image_shape[1] / thumb_shape[1], image_shape[0] / thumb_shape[0]


def box_mask(shape: tuple[int, int], boxes: np.ndarray, scale: tuple[float, float], grow: float = 0.25) -> np.ndarray:
    """Mask of `shape` (units of `scale` image pixels each, x and y: thumbnail pixels or cells)
    set where a box touches (n, 4; image pixels, each grown by `grow` of its side on every side)."""
    out = np.zeros(shape, bool)
    sx, sy = scale
    for x, y, w, h in np.asarray(boxes, np.float64).reshape(-1, 4):
        x0, y0 = int((x - grow * w) // sx), int((y - grow * h) // sy)
        x1, y1 = int(np.ceil((x + (1 + grow) * w) / sx)), int(np.ceil((y + (1 + grow) * h) / sy))
        out[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    return out


def changed_cells(diff: np.ndarray, threshold: float) -> np.ndarray:
    """Mask (h // CELL, w // CELL) of the cells of the difference map `diff` (h, w; absolute gray
    difference of two thumbnails, 0-255) that a `CELL` x `CELL` window with a mean above
    `threshold` overlaps, the window at any offset (a small change straddling cell corners
    counts as much as one inside a cell)."""
    h, w = diff.shape[0] // CELL * CELL, diff.shape[1] // CELL * CELL
    s = cv2.integral(np.ascontiguousarray(diff[:h, :w], np.float64))
    means = (s[CELL:, CELL:] - s[:-CELL, CELL:] - s[CELL:, :-CELL] + s[:-CELL, :-CELL]) / CELL ** 2
    hot = np.zeros((h, w), np.uint8)
    hot[: h - CELL + 1, : w - CELL + 1] = means > threshold  # by each window's top-left pixel
    touched = cv2.dilate(hot, np.ones((CELL, CELL), np.uint8), anchor=(CELL - 1, CELL - 1),
                         borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return touched.reshape(h // CELL, CELL, w // CELL, CELL).any(axis=(1, 3))


def search_regions(cells: np.ndarray, scale: tuple[float, float], image_shape: tuple[int, ...],
                   grow: int = 1) -> np.ndarray | None:
    """The regions (n, 4; x, y, w, h in image pixels, inside the image) that cover the set
    `cells` (`scale`: image pixels per cell, x and y): each connected group of cells boxed and
    grown on every side by `grow` cells or a quarter of its own larger side, whichever is more
    (a face can be larger than the part of it that changed: half of one up to 10 cells wide is
    covered, its changed cells being `changed_cells`'), overlapping boxes merged; (0, 4) when no
    cell is set; None (the whole frame) when the boxes cover more than `WHOLE_FRAME_SHARE` of it."""
    if not cells.any():
        return np.zeros((0, 4), np.float32)
    n, _, stats, _ = cv2.connectedComponentsWithStats(cells.astype(np.uint8), connectivity=8)
    rows, cols = cells.shape
    boxes = []
    for cx, cy, cw, ch, _ in stats[1:n]:
        g = max(grow, math.ceil(max(cw, ch) / 4))
        boxes.append([max(cx - g, 0), max(cy - g, 0), min(cx + cw + g, cols), min(cy + ch + g, rows)])
    boxes = _merged(boxes)
    sx, sy = scale
    h, w = image_shape[:2]
    out = np.array([[x0 * sx, y0 * sy, min(x1 * sx, w) - x0 * sx, min(y1 * sy, h) - y0 * sy]
                    for x0, y0, x1, y1 in boxes], np.float32)
    return None if float((out[:, 2] * out[:, 3]).sum()) > WHOLE_FRAME_SHARE * w * h else out


def _merged(boxes: list[list[int]]) -> list[list[int]]:
    """Boxes (x0, y0, x1, y1) with every overlapping pair replaced by the box around both."""
    boxes = [list(b) for b in boxes]
    i = 0
    while i < len(boxes):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                del boxes[j]
                break
        else:
            i += 1
    return boxes
