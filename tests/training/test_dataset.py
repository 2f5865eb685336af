import cv2
import numpy as np
import pytest

from training.dataset import make_splits, person_folds, person_of, read_csv, read_image
from tests._data import data_dir


def test_reads_png_data_under_jpg_name(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".png", img)
    path = tmp_path / "Some_Person_01.jpg"
    path.write_bytes(buf.tobytes())
    assert np.array_equal(read_image(path), img)  # PNG is lossless


def test_read_csv_and_person(tmp_path):
    path = tmp_path / "k.csv"
    row = ",".join(str(float(i)) for i in range(136))
    path.write_text("," + ",".join(str(i) for i in range(136)) + "\nA_B_12.jpg," + row + "\n")
    names, kps = read_csv(path)
    assert names == ["A_B_12.jpg"] and kps.shape == (1, 68, 2)
    assert kps[0, 1].tolist() == [2.0, 3.0]
    assert person_of("A_B_12.jpg") == "A_B"


def test_splits_are_people_disjoint():
    s = make_splits(data_dir())
    assert (len(s["trainval"]), len(s["holdout"]), len(s["test"])) == (2952, 622, 658)
    hold = set(s["holdout"].people())
    for name in ("train", "val", "trainval", "test"):
        assert not hold & set(s[name].people())
    assert not set(s["train"].people()) & set(s["val"].people())


def test_person_folds_deal_whole_people_evenly_and_reproducibly():
    names = [f"P{p}_Name_{v}{f}.jpg" for p in range(7) for v in range(2) for f in range(1 + p % 3)]
    folds = person_folds(names, 3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(names)))  # each sample in one fold
    people = [{person_of(names[i]) for i in fold} for fold in folds]
    assert sorted(len(p) for p in people) == [2, 2, 3] and not set.intersection(*people)
    for a, b in zip(folds, person_folds(names, 3)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(person_folds(names, 3, seed=1), folds))
    with pytest.raises(ValueError, match="8 folds"):
        person_folds(names, 8)


def test_turn_is_the_nose_offset_along_the_eye_line_in_jaw_widths():
    from training.dataset import turn
    from vidkp.landmarks.shape import MIRROR_PERM

    k = np.zeros((1, 68, 2))
    k[0, 0], k[0, 16], k[0, 36], k[0, 45] = (0, 0), (10, 0), (2, -5), (8, -5)
    k[0, 30] = (5, -2)
    assert turn(k)[0] == pytest.approx(0.0)
    k[0, 30] = (8, -2)
    assert turn(k)[0] == pytest.approx(0.3)
    a = np.deg2rad(30)  # rolled in the image: the same turn
    rolled = k @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    assert turn(rolled)[0] == pytest.approx(0.3)
    mirrored = k.copy()
    mirrored[..., 0] *= -1
    assert turn(mirrored[:, MIRROR_PERM])[0] == pytest.approx(-0.3)


def test_sample_pool_repeats_turned_faces_only():
    from training.train import sample_pool

    k = np.zeros((3, 68, 2))
    k[:, 0], k[:, 16], k[:, 36], k[:, 45] = (0, 0), (10, 0), (2, -5), (8, -5)
    k[:, 30] = [(5, -2), (8.5, -2), (1, -2)]  # frontal, turned right, turned left
    assert sample_pool(k).tolist() == [0, 1, 2]
    assert sample_pool(k, 3, 0.3).tolist() == [0, 1, 1, 1, 2, 2, 2]
