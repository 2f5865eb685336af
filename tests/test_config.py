import pytest

from vidkp.config import RunConfig
from vidkp.errors import InputError


def test_defaults_and_none_means_default():
    c = RunConfig.from_options(every=None, workers=None, min_face=30, weights=None)
    assert (c.every, c.workers, c.min_face, c.weights) == (1, None, 30, None)


@pytest.mark.parametrize("opts,name", [({"every": 0}, "every"), ({"max_frames": 0}, "max_frames"),
                                       ({"workers": -1}, "workers"), ({"detect_every": 0}, "detect_every")])
def test_invalid_values_say_what_was_expected(opts, name):
    with pytest.raises(InputError, match=rf"option {name}: expected .*, got"):
        RunConfig.from_options(**opts)


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unknown run options"):
        RunConfig.from_options(evry=2)


def test_output_params_cover_what_changes_rows_only(tmp_path):
    a = RunConfig.from_options(every=2, workers=1).output_params()
    b = RunConfig.from_options(every=2, workers=2, overwrite=True).output_params()
    assert a == b and a["every"] == 2
    assert RunConfig.from_options(annotate=tmp_path).output_params()["annotate"] == str(tmp_path.resolve())
    assert RunConfig.from_options(max_frames=5).output_params() != RunConfig().output_params()
