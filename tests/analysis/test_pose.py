import numpy as np
import pandas as pd
import pytest

from tests._tracks import tracks_from_points
from vidkp.analysis import head_pose
from vidkp.analysis.pose import euler_angles, project_reference, rotation_matrix
from vidkp.landmarks.shape import MIRROR_PERM

SIZE = (640, 480)


@pytest.fixture(scope="module")
def landmarker():
    from vidkp import FaceLandmarker

    return FaceLandmarker()
ANGLES = [(0, 0, 0), (15, 0, 0), (-20, 0, 0), (0, 30, 0), (0, -40, 0), (0, 0, 25), (0, 0, -60),
          (10, 20, -15), (-15, -30, 20), (20, 35, 10)]


@pytest.mark.parametrize("convention", ["screen", "openface"])
def test_euler_angles_invert_rotation_matrix(convention):
    for p, y, r in [(0.1, -0.4, 0.7), (-0.5, 0.2, -2.0)]:
        assert np.allclose(euler_angles(rotation_matrix(p, y, r, convention), convention), (p, y, r))


def test_the_two_orders():
    """screen: Rz @ Ry @ Rx; openface: Rx @ Ry @ Rz; the same for a rotation about one axis."""
    p, y, r = 0.2, -0.3, 0.4
    one = [rotation_matrix(p, 0, 0), rotation_matrix(0, y, 0), rotation_matrix(0, 0, r)]
    assert np.allclose(rotation_matrix(p, y, r, "screen"), one[2] @ one[1] @ one[0])
    assert np.allclose(rotation_matrix(p, y, r, "openface"), one[0] @ one[1] @ one[2])
    assert np.allclose(rotation_matrix(0, y, 0, "screen"), rotation_matrix(0, y, 0, "openface"))
    with pytest.raises(ValueError, match="convention"):
        rotation_matrix(p, y, r, "xyz")


@pytest.mark.parametrize("convention", ["screen", "openface"])
def test_pose_of_synthetic_projections_within_two_degrees(convention):
    """The reference face projected at known angles (with 0.5 px point noise) is recovered."""
    rng = np.random.default_rng(0)
    kps = [project_reference(*np.radians(a), 700.0, SIZE, convention) + rng.normal(0, 0.5, (68, 2)) for a in ANGLES]
    tracks = pd.concat([tracks_from_points(k[None], face_id=i) for i, k in enumerate(kps)], ignore_index=True)
    got = np.degrees(head_pose(tracks, SIZE, convention).to_numpy())
    assert np.abs(got - np.array(ANGLES)).max() < 2.0


def test_screen_roll_adds_the_image_rotation_at_any_pose():
    """A face turned 35 degrees and pitched 20, its image rotated about the principal point by
    +-15 degrees: the screen roll changes by exactly 30 degrees; OpenFace's roll does not."""
    centre = np.array(SIZE) / 2.0
    kps = project_reference(np.radians(20), np.radians(35), np.radians(5), 700.0, SIZE)
    diffs = {}
    for convention in ("screen", "openface"):
        rolls = []
        for angle in (15.0, -15.0):
            a = np.radians(angle)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            rolls.append(head_pose(tracks_from_points(((kps - centre) @ rot.T + centre)[None]), SIZE,
                                   convention)["pose_Rz"].iloc[0])
        diffs[convention] = np.degrees(rolls[0] - rolls[1])
    assert abs(diffs["screen"] - 30.0) < 0.5
    assert abs(diffs["openface"] - 30.0) > 3.0


def test_signs_follow_the_stated_convention():
    """Looking down: Rx > 0; turned to the image's left: Ry > 0 (nose moves left); clockwise: Rz > 0."""
    front = project_reference(0, 0, 0, 700.0, SIZE)
    down = project_reference(np.radians(20), 0, 0, 700.0, SIZE)
    left = project_reference(0, np.radians(20), 0, 700.0, SIZE)
    assert down[30, 1] > front[30, 1] and left[30, 0] < front[30, 0]
    clockwise = project_reference(0, 0, np.radians(20), 700.0, SIZE)
    assert clockwise[45, 1] > clockwise[36, 1]  # image-right eye lower: clockwise on screen
    got = np.degrees(head_pose(pd.concat([tracks_from_points(p[None], face_id=i) for i, p in
                                          enumerate([down, left, clockwise])], ignore_index=True), SIZE).to_numpy())
    assert got[0, 0] > 15 and got[1, 1] > 15 and got[2, 2] > 15


def test_yaw_changes_sign_under_mirroring():
    for yaw in (-30, -10, 25):
        kps = project_reference(np.radians(5), np.radians(yaw), np.radians(8), 700.0, SIZE)
        mirrored = kps.copy()
        mirrored[:, 0] = SIZE[0] - mirrored[:, 0]
        t = pd.concat([tracks_from_points(kps[None], face_id=0),
                       tracks_from_points(mirrored[MIRROR_PERM][None], face_id=1)], ignore_index=True)
        y = np.degrees(head_pose(t, SIZE)["pose_Ry"].to_numpy())
        assert np.sign(y[0]) == np.sign(yaw) == -np.sign(y[1])
        assert abs(y[0] + y[1]) < 0.5


def test_a_track_turning_through_profile_range_has_no_flips():
    """A head turning -60..60 degrees yaw over 121 frames: each frame within 3 degrees of the truth,
    and no jump between neighbours larger than the motion."""
    rng = np.random.default_rng(1)
    yaws = np.linspace(-60, 60, 121)
    kps = np.stack([project_reference(np.radians(-10), np.radians(y), np.radians(5), 900.0, SIZE) for y in yaws])
    got = np.degrees(head_pose(tracks_from_points(kps + rng.normal(0, 0.3, kps.shape)), SIZE).to_numpy())
    assert np.abs(got[:, 1] - yaws).max() < 3.0
    assert np.abs(np.diff(got, axis=0)).max() < 4.0


def test_frame_size_from_manifest_or_from_point_extent():
    kps = project_reference(0, np.radians(20), 0, 700.0, SIZE)
    t = tracks_from_points(kps[None])
    manifest = pd.DataFrame({"video": ["v.mp4"], "width": [SIZE[0]], "height": [SIZE[1]]})
    assert np.allclose(head_pose(t, manifest), head_pose(t, SIZE))
    assert np.isfinite(head_pose(t).to_numpy()).all()  # no size given: the points' extent


def test_missing_points_give_nan_and_bad_input_is_refused():
    t = tracks_from_points(np.stack([project_reference(0, 0, 0, 700.0, SIZE)] * 2))
    t.loc[1, "x_30"] = np.nan
    pose = head_pose(t, SIZE)
    assert np.isfinite(pose.iloc[0]).all() and pose.iloc[1].isna().all()
    with pytest.raises(ValueError, match="x_0"):
        head_pose(t.drop(columns=["x_0"]), SIZE)


def test_roll_of_a_real_face_rotated_in_plane(landmarker):
    """matplotlib's grace_hopper photo rotated by +15 and -15 degrees: roll differs by 30 +- 2."""
    from tests._media import grace_hopper

    img = grace_hopper()
    h, w = img.shape[:2]
    rolls, yaws = [], []
    for angle in (15.0, -15.0):
        face = max(landmarker.detect(grace_hopper(angle)), key=lambda f: f.box[2])
        rolls.append(head_pose(tracks_from_points(face.keypoints[None]), (w, h))["pose_Rz"].iloc[0])
    assert abs(np.degrees(rolls[1] - rolls[0]) - 30.0) < 2.0
    for image in (img, img[:, ::-1].copy()):
        face = max(landmarker.detect(image), key=lambda f: f.box[2])
        yaws.append(np.degrees(head_pose(tracks_from_points(face.keypoints[None]), (w, h))["pose_Ry"].iloc[0]))
    assert abs(yaws[0] + yaws[1]) < 2.0
