"""How much `--style sunglasses` changes a real clip: over the eyes, and away from the faces.

Runs `vidkp run CLIP --annotate ... --style sunglasses` (serial), decodes the input and the
annotated copy, and compares them per pixel (mean absolute difference over B, G, R, 0-255):
- over the eyes: discs of 0.25 x the inter-eye distance around each tracked eye centre;
- away from faces: pixels outside every face box grown by its own side on each side (every pixel
  of frames without faces).
The same regions of the input re-encoded alone by vidkp's H.264 writer give the codec noise.

    python -m benchmarks.filter_bench [../shared/data/videos/short_hamilton_clip.mp4] [--keep DIR]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

import vidkp
from vidkp.output.video import H264Writer


def _frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            return out
        out.append(f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?", default="../shared/data/videos/short_hamilton_clip.mp4")
    ap.add_argument("--keep", type=Path, default=None, help="write the run here and keep it")
    a = ap.parse_args()
    work = a.keep or Path(tempfile.mkdtemp(prefix="filter_bench_"))
    out, ann = work / "out", work / "ann"
    summary = vidkp.run([a.clip], str(out), annotate=str(ann), style="sunglasses", workers=0, overwrite=True)
    assert summary.exit_code == 0, summary.failed
    annotated_path = Path(vidkp.load_manifest(out)["annotated"].iloc[0])
    src, dst = _frames(Path(a.clip)), _frames(annotated_path)
    plain = work / "plain.mp4"
    w = H264Writer(str(plain), cv2.VideoCapture(a.clip).get(cv2.CAP_PROP_FPS))
    for f in src:
        w.write(f)
    w.close()
    ref = _frames(plain)
    assert len(src) == len(dst) == len(ref), (len(src), len(dst), len(ref))
    tracks = vidkp.load_tracks(out)
    h, wd = src[0].shape[:2]
    yy, xx = np.mgrid[0:h, 0:wd]
    eye_d, eye_n, away_d, away_n = [], [], [], []
    for i, (s, d, r) in enumerate(zip(src, dst, ref)):
        rows = tracks[tracks["frame"] == i]
        eyes = np.zeros((h, wd), bool)
        near = np.zeros((h, wd), bool)
        for _, row in rows.iterrows():
            x = row[[f"x_{k}" for k in range(68)]].to_numpy(float)
            y = row[[f"y_{k}" for k in range(68)]].to_numpy(float)
            c1, c2 = np.array([x[36:42].mean(), y[36:42].mean()]), np.array([x[42:48].mean(), y[42:48].mean()])
            rad = 0.25 * np.linalg.norm(c2 - c1)
            for c in (c1, c2):
                eyes |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= rad ** 2
            bx, by, bw, bh = row[["box_x", "box_y", "box_w", "box_h"]].to_numpy(float)
            near |= (xx >= bx - bw) & (xx <= bx + 2 * bw) & (yy >= by - bh) & (yy <= by + 2 * bh)
        away = ~near
        ds, rs = np.abs(d.astype(int) - s).mean(axis=2), np.abs(r.astype(int) - s).mean(axis=2)
        eye_d.append((ds[eyes].sum(), rs[eyes].sum()))
        eye_n.append(eyes.sum())
        away_d.append((ds[away].sum(), rs[away].sum(), np.percentile(ds[away], 99) if away.any() else 0,
                       np.percentile(rs[away], 99) if away.any() else 0))
        away_n.append(away.sum())
    e, a_ = np.array(eye_d), np.array(away_d)
    print(f"{a.clip}: {len(src)} frames, {len(tracks)} face rows, {int(np.count_nonzero(eye_n))} frames with eyes")
    print(f"over the eyes:     sunglasses vs input {e[:, 0].sum() / sum(eye_n):6.2f}   plain re-encode vs input "
          f"{e[:, 1].sum() / sum(eye_n):5.2f}  (mean |diff|, 0-255)")
    print(f"away from faces:   sunglasses vs input {a_[:, 0].sum() / sum(away_n):6.2f}   plain re-encode vs input "
          f"{a_[:, 1].sum() / sum(away_n):5.2f}  (99th pct per frame, median: {np.median(a_[:, 2]):.1f} vs "
          f"{np.median(a_[:, 3]):.1f})")
    print(f"annotated copy: {annotated_path}")


if __name__ == "__main__":
    main()
