"""Where a new face can be: changed cells, boxes as masks, regions; HaarDetector on regions."""
import numpy as np

from vidkp.detect.haar import video_detector, video_quick_detectors
from vidkp.detect.regions import CELL, box_mask, changed_cells, search_regions, thumb_scale

SHAPE = (360, 640, 3)  # a 640x360 frame; 64x36 thumbnail; 16x9 cells of 40x40 px


def _diff(changed: list[tuple[int, int]], by: float = 20.0) -> np.ndarray:
    """A 36x64 difference map with whole cells (row, col) changed by `by`."""
    diff = np.zeros((36, 64), np.float32)
    for row, col in changed:
        diff[row * CELL:(row + 1) * CELL, col * CELL:(col + 1) * CELL] = by
    return diff


def test_changed_cells_are_those_a_changed_window_overlaps() -> None:
    cells = changed_cells(_diff([(2, 3)]), 6.0)
    # the windows over the cell reach into its neighbours by up to 3 pixels: the 3x3 block
    assert cells.shape == (9, 16) and set(zip(*np.nonzero(cells))) == {(r, c) for r in (1, 2, 3) for c in (2, 3, 4)}
    assert not changed_cells(_diff([(2, 3)], by=5.0), 6.0).any()
    one_pixel = np.zeros((36, 64), np.float32)
    one_pixel[0, 0] = 90.0  # 5.6 gray levels over any window holding it
    assert not changed_cells(one_pixel, 6.0).any()


def test_a_small_change_straddling_cell_corners_counts() -> None:
    diff = np.zeros((36, 64), np.float32)
    diff[6:10, 10:14] = 30.0  # a 4x4-pixel change centred on the corner of cells (1, 2), (2, 3)
    assert changed_cells(diff, 6.0)[1:3, 2:4].all()
    # fixed cells would see a quarter of it each: 7.5 mean, under a 10 threshold
    assert changed_cells(diff, 10.0)[1:3, 2:4].all()


def test_regions_grow_by_a_cell_or_a_quarter_of_their_size_merge_and_stay_inside_the_frame() -> None:
    cells = np.zeros((9, 16), bool)
    cells[2, 3] = True  # one cell: grown by one cell
    cells[4, 8:16] = True  # 8 cells wide, at the right edge: grown by 2, to columns 6-15 and rows 2-6
    cells[7, 13] = True  # grown by one cell it overlaps the group above
    regions = search_regions(cells, (40.0, 40.0), SHAPE)
    assert sorted(regions.tolist()) == [[80.0, 40.0, 120.0, 120.0], [240.0, 80.0, 400.0, 280.0]]
    assert search_regions(np.zeros_like(cells), (40.0, 40.0), SHAPE).shape == (0, 4)


def test_most_of_the_frame_changed_is_the_whole_frame() -> None:
    cells = np.zeros((9, 16), bool)
    cells[1:8:3, 1:15:3] = True  # scattered changes that, grown, cover most of the frame
    assert search_regions(cells, (40.0, 40.0), SHAPE) is None


def test_box_mask_marks_what_a_grown_box_touches() -> None:
    assert thumb_scale((36, 64), SHAPE) == (10.0, 10.0)
    cells = box_mask((9, 16), np.array([[200.0, 100.0, 80.0, 80.0]]), (40.0, 40.0))
    # the box grown by 20 px on every side spans x 180-300, y 80-200: columns 4-7, rows 2-4
    assert set(zip(*np.nonzero(cells))) == {(r, c) for r in range(2, 5) for c in range(4, 8)}
    pixels = box_mask((36, 64), np.array([[200.0, 100.0, 80.0, 80.0]]), (10.0, 10.0))
    assert pixels.sum() == 12 * 12 and pixels[8:20, 18:30].all()
    edge = box_mask((9, 16), np.array([[-30.0, 300.0, 60.0, 60.0]]), (40.0, 40.0), grow=0.5)
    assert set(zip(*np.nonzero(edge))) == {(r, c) for r in (6, 7, 8) for c in (0, 1)}
    assert not box_mask((9, 16), np.zeros((0, 4)), (40.0, 40.0)).any()


def _portrait_frame(size: tuple[int, int], degrees: float = 0.0) -> np.ndarray:
    """grace_hopper's face (rolled by `degrees`) pasted right of centre on a black frame `size`."""
    import cv2

    from tests._media import grace_hopper

    w, h = size
    face = grace_hopper(degrees)[60:360, 100:400]
    face = cv2.resize(face, (h * 5 // 6, h * 5 // 6))
    frame = np.zeros((h, w, 3), np.uint8)
    frame[h // 12:h // 12 + len(face), w // 2:w // 2 + len(face)] = face
    return frame


def test_a_region_pass_finds_the_face_inside_it_where_the_whole_pass_does_and_nothing_outside() -> None:
    for det, size, degrees in ((video_detector(), (640, 360), 0.0),
                               (video_quick_detectors()[1], (1280, 720), 0.0),  # upright, half resolution
                               (video_quick_detectors()[0], (1280, 720), 22.0)):  # rotated +20 and -20
        frame = _portrait_frame(size, degrees)
        whole = det(frame)
        assert len(whole) >= 1, (det.settings, size)
        x, y, w, h = whole.boxes[np.argmax(whole.boxes[:, 2])]
        around = np.array([[x - 0.3 * w, y - 0.3 * h, 1.6 * w, 1.6 * h]], np.float32)
        inside = det(frame, around)
        assert len(inside) >= 1
        assert np.abs(inside.boxes[np.argmax(inside.boxes[:, 2])] - whole.boxes[np.argmax(whole.boxes[:, 2])]).max() <= 0.1 * w
        assert len(det(frame, np.array([[0.0, 0.0, size[0] * 0.45, size[1]]], np.float32))) == 0
        assert len(det(frame, np.zeros((0, 4), np.float32))) == 0
