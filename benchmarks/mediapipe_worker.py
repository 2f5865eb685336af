"""MediaPipe face mesh on one video, for benchmarks/detect_bench.py; runs in MediaPipe's own venv.

    .cache/mediapipe-venv/bin/python benchmarks/mediapipe_worker.py VIDEO OUT.json [--max-faces 4]

Imports only numpy, OpenCV and mediapipe (never vidkp: its pins clash with mediapipe's). Decodes
`VIDEO` with OpenCV on one decoder thread (`cv2.setNumThreads(1)`), runs the legacy face mesh
solution in video mode (`static_image_mode=False`: its detector runs only when tracking has lost
a face) on every frame, and writes JSON: `seconds` (decoding, colour conversion and the mesh,
after the graph is built), `frames` (per frame, per face, the 68 iBUG-like points in pixels
picked from the 468 mesh points by `IBUG68`). MediaPipe's legacy API has no thread setting:
the caller pins this process to one CPU, which all its threads then share.
"""
from __future__ import annotations

import argparse
import json
import time

import cv2
import mediapipe as mp
import numpy as np

IBUG68 = (127, 234, 132, 58, 172, 150, 149, 148, 152, 377, 378, 379, 397, 288, 361, 454, 356,  # jaw
          70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows
          168, 197, 5, 4, 75, 97, 2, 326, 305,  # nose
          33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,  # eyes
          61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips
          78, 82, 13, 312, 308, 317, 14, 87)  # inner lips
"""Mesh point nearest to each iBUG point (a common mapping; the jaw and brows follow different
contours than iBUG's, so NME against iBUG labels is not comparable with a 68-point model's)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video")
    ap.add_argument("out")
    ap.add_argument("--max-faces", type=int, default=4)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    idx = np.array(IBUG68)
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=a.max_faces)
    cap = cv2.VideoCapture(a.video, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    frames: list[list[list[list[float]]]] = []
    t0 = time.perf_counter()
    while True:
        ok, image = cap.read()
        if not ok:
            break
        h, w = image.shape[:2]
        result = mesh.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        faces = []
        for lm in result.multi_face_landmarks or ():
            pts = np.array([(p.x, p.y) for p in lm.landmark], np.float32)[idx] * (w, h)
            faces.append(pts.round(2).tolist())
        frames.append(faces)
    seconds = time.perf_counter() - t0
    cap.release()
    mesh.close()
    with open(a.out, "w") as f:
        json.dump({"seconds": seconds, "frames": frames}, f)


if __name__ == "__main__":
    main()
