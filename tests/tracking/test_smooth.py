"""One-Euro filter: steadies a still noisy point, follows a moving one with little lag."""
import numpy as np

from vidkp.tracking.smooth import OneEuroFilter


def test_still_noise_is_reduced() -> None:
    rng = np.random.default_rng(0)
    f = OneEuroFilter()
    truth = np.full((68, 2), 100.0)
    # per-frame noise of 0.5% of a 100 px face, as a landmark CNN shows on a still face
    out = np.stack([f(truth + rng.normal(0, 0.5, truth.shape), t / 30.0, scale=100.0) for t in range(300)])
    assert out[30:].std(axis=0).mean() < 0.3  # raw std is 0.5


def test_moving_point_has_small_lag() -> None:
    f = OneEuroFilter()
    fps, speed = 30.0, 300.0  # 300 px/s, three face sizes per second
    outs = [f(np.array([[t / fps * speed, 0.0]]), t / fps, scale=100.0) for t in range(60)]
    lag = (59 / fps * speed) - outs[-1][0, 0]
    assert 0 <= lag < 2.0  # under 2% of the face size


def test_first_sample_passes_through_and_time_reset() -> None:
    f = OneEuroFilter()
    x = np.array([[5.0, 7.0]])
    assert np.allclose(f(x, 1.0), x)
    assert np.allclose(f(x + 50, 0.5), x + 50)  # time going back restarts the filter
