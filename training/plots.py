"""Diagnostics of a training run: `python -m training.plots RUN [--data DATA] [--worst N]`.

Writes into RUN (a `training.train --out` folder):
- `curves.png`: training point loss (augmented crops, mean since the previous evaluation) and
  validation point loss (GT-derived-box crops of the validation people, the same loss) against
  the step, and validation NME;
- `filters.png`: the first conv layer's kernels as a grid (each scaled to its own range; as
  trained, before BatchNorm folding);
- `worst.png`: the validation faces with the highest NME (single pass from the GT-derived box),
  labelled points green, predicted red, each crop framed on its labels.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from torch import nn  # noqa: E402

from training import baselines  # noqa: E402,F401  (registers the write-ups' baseline nets)
from training.dataset import make_splits  # noqa: E402
from training.evaluate import predict  # noqa: E402
from training.metrics import nme  # noqa: E402
from training import nets  # noqa: E402
from vidkp.landmarks import read_metadata  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "facial_keypoints"


def read_curves(path: Path) -> dict[str, np.ndarray]:
    """Columns of a run's curves.csv as float arrays (missing cells NaN)."""
    with path.open() as f:
        rows = list(csv.DictReader(f))
    keys = rows[0].keys() if rows else []
    return {k: np.array([float(r[k]) if r.get(k) not in (None, "") else np.nan for r in rows]) for k in keys}


def plot_curves(curves: dict[str, np.ndarray], out: Path, title: str) -> None:
    """Training and validation point loss (log scale) and validation NME against the step."""
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(curves["step"], curves["point_loss"], label="training point loss (augmented)")
    if "val_point_loss" in curves:
        ax.plot(curves["step"], curves["val_point_loss"], label="validation point loss")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("point loss")
    ax2 = ax.twinx()
    ax2.plot(curves["step"], 100 * curves["val_mean_nme"], "k:", label="validation NME (%)")
    ax2.set_ylabel("validation NME (%)")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [h.get_label() for h in lines], loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def first_conv(weights: Path) -> np.ndarray:
    """The first Conv2d's kernels (out, in, k, k) of the net stored in `weights`."""
    meta = read_metadata(weights)
    net = nets.create(meta["arch"], **json.loads(meta.get("arch_kwargs", "{}")))
    net.load_state_dict(load_file(str(weights)))
    conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    return conv.weight.detach().numpy()


def plot_filters(kernels: np.ndarray, out: Path, title: str) -> None:
    """Grid of the kernels' first input channel, each scaled to its own min..max (gray)."""
    n = len(kernels)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9 + 0.4))
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i < n:
            ax.imshow(kernels[i, 0], cmap="gray", interpolation="nearest")
    fig.suptitle(title, fontsize=8)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def face_tile(image: np.ndarray, label: np.ndarray, pred: np.ndarray, size: int = 160) -> np.ndarray:
    """A square BGR tile of the face framed on its labelled points, labels green, prediction red."""
    lo, hi = label.min(0), label.max(0)
    c, side = (lo + hi) / 2, 1.4 * float((hi - lo).max())
    k = size / side
    m = np.array([[k, 0, size / 2 - k * c[0]], [0, k, size / 2 - k * c[1]]])
    tile = cv2.warpAffine(image, m, (size, size), borderMode=cv2.BORDER_CONSTANT)
    for pts, colour in ((label, (0, 200, 0)), (pred, (0, 0, 255))):
        for x, y in pts @ m[:, :2].T + m[:, 2]:
            cv2.circle(tile, (int(round(x)), int(round(y))), 2, colour, -1, cv2.LINE_AA)
    return tile


def plot_worst(weights: Path, data_dir: Path, out: Path, n: int = 12) -> list[tuple[str, float]]:
    """Grid of the `n` validation faces with the highest single-pass NME; returns (name, NME) of each."""
    val = make_splits(data_dir)["val"].load_images()
    model = nets.landmark_model(weights, "torch")
    pred = predict(model, val, model.box_from_landmarks(val.keypoints))
    err = nme(pred, val.keypoints)
    worst = np.argsort(-err)[:n]
    cols = 4
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(cols * 2.2, np.ceil(n / cols) * 2.4))
    for ax, i in zip(np.ravel(axes), worst):
        tile = face_tile(val.image(i), val.keypoints[i], pred[i])
        ax.imshow(cv2.cvtColor(tile, cv2.COLOR_BGR2RGB))
        ax.set_title(f"{Path(val.key(i)).stem}\nNME {100 * err[i]:.1f}%", fontsize=6)
    for ax in np.ravel(axes):
        ax.axis("off")
    fig.suptitle(f"{weights.parent.name}: worst validation faces (green labels, red prediction)", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return [(val.key(i), float(err[i])) for i in worst]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="training run folder (curves.csv, weights.safetensors)")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="facial_keypoints folder")
    ap.add_argument("--worst", type=int, default=12, help="how many worst validation faces to draw")
    a = ap.parse_args(argv)
    run = Path(a.run)
    weights = run / "weights.safetensors"
    title = f"{run.name} ({read_metadata(weights)['arch']})"
    plot_curves(read_curves(run / "curves.csv"), run / "curves.png", title)
    plot_filters(first_conv(weights), run / "filters.png", f"{title}: first conv layer")
    for name, e in plot_worst(weights, Path(a.data), run / "worst.png", a.worst):
        print(f"{name}\t{100 * e:.2f}%")
    print(f"wrote {run / 'curves.png'}, {run / 'filters.png'}, {run / 'worst.png'}")


if __name__ == "__main__":
    main()
