"""Where a new face can be: changed cells, tracked faces cleared, regions; HaarDetector on regions."""
import numpy as np

from vidkp.detect.haar import video_detector
from vidkp.detect.regions import CELL, box_cells, cell_scale, changed_cells, search_regions

SHAPE = (360, 640, 3)  # a 640x360 frame; 64x36 thumbnail; 16x9 cells of 40x40 px


def _thumbs(changed: list[tuple[int, int]], by: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    ref = np.full((36, 64), 100.0, np.float32)
    thumb = ref.copy()
    for row, col in changed:
        thumb[row * CELL:(row + 1) * CELL, col * CELL:(col + 1) * CELL] += by
    return thumb, ref


def test_changed_cells_are_those_over_the_threshold() -> None:
    thumb, ref = _thumbs([(2, 3), (8, 15)])
    thumb[0, 0] += 40.0  # one thumbnail pixel: 2.5 gray levels over its cell
    cells = changed_cells(thumb, ref, 6.0)
    assert cells.shape == (9, 16) and set(zip(*np.nonzero(cells))) == {(2, 3), (8, 15)}
    assert not changed_cells(*_thumbs([(2, 3)], by=5.0), 6.0).any()


def test_regions_grow_each_changed_group_by_a_cell_and_stay_inside_the_frame() -> None:
    cells = changed_cells(*_thumbs([(2, 3), (2, 4), (8, 15)]), 6.0)
    scale = cell_scale(cells, (36, 64), SHAPE)
    assert scale == (40.0, 40.0)
    regions = search_regions(cells, scale, SHAPE)
    assert sorted(regions.tolist()) == [[80.0, 40.0, 160.0, 120.0], [560.0, 280.0, 80.0, 80.0]]
    assert search_regions(np.zeros_like(cells), scale, SHAPE).shape == (0, 4)


def test_most_of_the_frame_changed_is_the_whole_frame() -> None:
    cells = np.zeros((9, 16), bool)
    cells[1:8:2, 1:15:2] = True  # scattered changes that, grown, cover the frame
    assert search_regions(cells, (40.0, 40.0), SHAPE) is None


def test_box_cells_are_the_cells_a_grown_box_touches() -> None:
    marked = box_cells((9, 16), np.array([[200.0, 100.0, 80.0, 80.0]]), (40.0, 40.0))
    # the box grown by 20 px on every side spans x 180-300, y 80-200: columns 4-7, rows 2-4
    assert set(zip(*np.nonzero(marked))) == {(r, c) for r in range(2, 5) for c in range(4, 8)}
    assert not box_cells((9, 16), np.zeros((0, 4)), (40.0, 40.0)).any()
    edge = box_cells((9, 16), np.array([[-30.0, 300.0, 60.0, 60.0]]), (40.0, 40.0), grow=0.5)
    assert set(zip(*np.nonzero(edge))) == {(r, c) for r in (6, 7, 8) for c in (0, 1)}


def test_a_region_pass_finds_the_face_inside_it_where_the_whole_pass_does_and_nothing_outside() -> None:
    from tests._media import grace_hopper

    frame = np.zeros((360, 640, 3), np.uint8)
    face = grace_hopper()[60:360, 100:400]
    frame[30:330, 300:600] = face
    det = video_detector()
    whole = det(frame)
    assert len(whole) == 1
    x, y, w, h = whole.boxes[0]
    around = np.array([[x - 0.3 * w, y - 0.3 * h, 1.6 * w, 1.6 * h]], np.float32)
    inside = det(frame, around)
    assert len(inside) == 1 and np.abs(inside.boxes[0] - whole.boxes[0]).max() <= 0.1 * w
    assert len(det(frame, np.array([[0.0, 0.0, 280.0, 360.0]], np.float32))) == 0
    assert len(det(frame, np.zeros((0, 4), np.float32))) == 0
