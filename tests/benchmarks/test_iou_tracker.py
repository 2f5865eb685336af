import numpy as np

from vidkp.faces import Faces
from benchmarks.iou_tracker import Tracker


def _faces(*boxes):
    return Faces(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes), np.float32))


def test_ids_follow_moving_faces_and_input_is_not_modified():
    t = Tracker(iou_threshold=0.3, max_age=1)
    a = _faces([0, 0, 50, 50], [200, 0, 50, 50])
    assert t.update(a).track_ids.tolist() == [0, 1]
    assert a.track_ids.tolist() == [-1, -1]
    # order swapped, both moved a little: ids follow the boxes
    assert t.update(_faces([205, 3, 50, 50], [4, 2, 50, 50])).track_ids.tolist() == [1, 0]


def test_new_id_after_loss_longer_than_max_age_and_reset():
    t = Tracker(iou_threshold=0.3, max_age=1)
    t.update(_faces([0, 0, 50, 50]))
    t.update(Faces.empty())  # missed once: still alive
    assert t.update(_faces([1, 1, 50, 50])).track_ids.tolist() == [0]
    t.update(Faces.empty())
    t.update(Faces.empty())  # missed twice > max_age: retired
    assert t.update(_faces([1, 1, 50, 50])).track_ids.tolist() == [1]
    t.reset()
    assert t.update(_faces([300, 300, 20, 20])).track_ids.tolist() == [0]


def test_one_track_is_never_given_to_two_detections():
    t = Tracker(iou_threshold=0.1, max_age=0)
    t.update(_faces([0, 0, 100, 100]))
    ids = t.update(_faces([0, 0, 60, 100], [40, 0, 60, 100])).track_ids.tolist()
    assert sorted(ids) == [0, 1]
