import numpy as np

from vidkp.boxes import iou_matrix, pair_iou


def test_iou_matrix():
    iou = iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]]))
    assert np.allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_pair_iou_is_the_diagonal_of_the_matrix_and_zero_for_empty_boxes():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 50, (6, 4)), rng.uniform(0, 50, (6, 4))
    assert np.allclose(pair_iou(a, b), np.diag(iou_matrix(a, b)))
    assert pair_iou(np.zeros((1, 4)), np.zeros((1, 4))).tolist() == [0.0]
