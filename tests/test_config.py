import pytest

from vidkp.config import RunConfig
from vidkp.errors import InputError


def test_defaults_and_none_means_default():
    c = RunConfig.from_options(every=None, workers=None, min_face=30, weights=None)
    assert (c.every, c.workers, c.min_face, c.weights) == (1, None, 30, None)


@pytest.mark.parametrize("opts,name", [({"every": 0}, "option every"), ({"max_frames": 0}, "option max_frames"),
                                       ({"workers": -1}, "option workers"),
                                       ({"detect_every": 0}, "FollowConfig.detect_every")])
def test_invalid_values_say_what_was_expected(opts, name):
    with pytest.raises(InputError, match=rf"{name}: expected .*, got"):
        RunConfig.from_options(**opts)


def test_unknown_options_are_refused_by_name():
    with pytest.raises(InputError, match="unknown run option 'evry'"):
        RunConfig.from_options(evry=2)
    with pytest.raises(InputError, match="unknown setting follow.max_gapp"):
        RunConfig.from_options(**{"follow.max_gapp": "3"})


def test_nested_settings_are_set_not_copied_and_survive_json():
    c = RunConfig.from_options(detect_every=5, smooth=False, **{"follow.max_gap": "30", "follow.empty_patience": "none",
                                                                "still.max_shift_error": "0.1", "still.mirror": "false",
                                                                "follow.max_shift_error": "auto"})
    assert (c.follow.detect_every, c.follow.smooth, c.follow.max_gap, c.follow.empty_patience) == (5, False, 30, None)
    assert (c.still.max_shift_error, c.still.mirror, c.follow.max_shift_error) == (0.1, False, "auto")
    assert RunConfig.from_json(c.to_json()) == c
    v = RunConfig.from_options(**{"video.cascades": "default,alt2", "video.rolls": "0,20,-20", "video.min_neighbors": "5"})
    assert (v.video.cascades, v.video.rolls, v.video.min_neighbors) == (("default", "alt2"), (0.0, 20.0, -20.0), 5)
    assert RunConfig.from_json(v.to_json()) == v and v.output_params()["video"]["rolls"] == [0.0, 20.0, -20.0]
    assert c.output_params()["follow"]["max_gap"] == 30
    assert RunConfig.from_options(images_per_task="2", address="auto", weights="w.safetensors").images_per_task == 2
    with pytest.raises(InputError, match="follow.max_gap: cannot read 'many'"):
        RunConfig.from_options(**{"follow.max_gap": "many"})


def test_output_params_cover_what_changes_rows_only(tmp_path):
    a = RunConfig.from_options(every=2, workers=1).output_params()
    b = RunConfig.from_options(every=2, workers=2, overwrite=True).output_params()
    assert a == b and a["every"] == 2
    assert RunConfig.from_options(annotate=tmp_path).output_params()["annotate"] == str(tmp_path.resolve())
    assert RunConfig.from_options(max_frames=5).output_params() != RunConfig().output_params()


def test_bad_still_search_settings_are_refused_before_any_work():
    from vidkp.landmarker import StillConfig

    with pytest.raises(InputError, match="StillConfig.cascades"):
        RunConfig.from_options(**{"still.cascades": ""})
    with pytest.raises(InputError, match="fallback_rolls"):
        StillConfig(fallback_rolls=15)
    with pytest.raises(InputError, match="min_neighbors"):
        StillConfig(min_neighbors=-1)
    assert StillConfig(fallback_rolls=[10, "-10"]).fallback_rolls == (10.0, -10.0)
