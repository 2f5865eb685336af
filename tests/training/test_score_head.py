"""Refitting the face score (training/score_head.py): the logistic fit separates what it should,
and the written weights change only the score row, so the points stay bit-identical."""
from __future__ import annotations

import numpy as np
from safetensors.torch import load_file

from training.score_head import SCORE_ROW, accuracy, fit_logistic, write


def test_logistic_fit_separates_shifted_clusters() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1.0, 1.0, (300, 8)), rng.normal(-1.0, 1.0, (60, 8))]).astype(np.float32)
    y = np.concatenate([np.ones(300), np.zeros(60)]).astype(np.float32)
    w, b = fit_logistic(x, y, l2=1e-3)
    acc = accuracy(x @ w + b, y)
    assert acc["pos_accept@0.5"] > 0.95 and acc["neg_reject@0.5"] > 0.95  # balanced despite 5:1 classes


def test_write_replaces_only_the_score_row(weights: str, tmp_path) -> None:
    w = np.linspace(-1, 1, 256).astype(np.float32)
    out = tmp_path / "refit.safetensors"
    write(weights, out, w, 0.25, {"l2": 1e-3})
    old, new = load_file(weights), load_file(str(out))
    assert old.keys() == new.keys()
    for k in old:
        if k.startswith("head.3."):
            assert np.array_equal(old[k].numpy()[:SCORE_ROW], new[k].numpy()[:SCORE_ROW])
        else:
            assert np.array_equal(old[k].numpy(), new[k].numpy())
    assert np.allclose(new["head.3.weight"].numpy()[SCORE_ROW], w) and float(new["head.3.bias"][SCORE_ROW]) == 0.25
