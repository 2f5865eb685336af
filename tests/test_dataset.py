import cv2
import numpy as np

from training.dataset import make_splits, person_of, read_csv, read_image
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
