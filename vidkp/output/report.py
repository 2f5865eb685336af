"""`vidkp report`: an HTML page per vidkp output that a person opens in a browser.

Per input: the annotated copy inline (`<video>` for videos, `<img>` for stills; when the run wrote
one, `annotated` in the manifest), a figure of faces over time, head pose, eye and mouth
openness with the blinks shaded (matplotlib), and the per-track summary. The default directory
is `OUT/_report` (the underscore keeps Parquet readers out of it): `index.html` plus, per video, a plot
(PNG) and a poster frame (JPEG); the annotated files are linked, not copied.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from vidkp.analysis import blinks, head_pose, openness, summarize
from vidkp.errors import OutputError
from vidkp.output.results import Results, load_results

REPORT_DIR = "_report"
_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-top:1px solid #ccc;padding-top:1em}
video,img.ann{max-width:100%;max-height:480px;background:#000}img.plot{max-width:100%}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
.meta{color:#555;font-size:.9em}.failed{color:#b00}"""


def _plot(tracks: pd.DataFrame, events: pd.DataFrame, path: Path) -> None:
    """Faces over time, pose (degrees), eye and mouth openness of one input's analysed rows."""
    fig = Figure(figsize=(10, 8.4), dpi=80, layout="constrained")
    axes = fig.subplots(4, 1, sharex=True)
    ids = sorted(tracks["face_id"].unique())
    colours = {fid: f"C{i % 10}" for i, fid in enumerate(ids)}
    for fid, t in tracks.groupby("face_id"):
        c, ts = colours[fid], t["timestamp"].to_numpy()
        axes[0].plot(ts, np.full(len(ts), fid), "|", color=c, markersize=8)
        for col, style in (("pose_Rx", ":"), ("pose_Ry", "-"), ("pose_Rz", "--")):
            axes[1].plot(ts, np.degrees(t[col]), style, color=c, linewidth=1)
        axes[2].plot(ts, t["eye_open"], color=c, linewidth=1)
        axes[3].plot(ts, t["mouth_open"], color=c, linewidth=1)
    for ev in events.itertuples():
        axes[2].axvspan(ev.start, ev.end, color=colours.get(ev.face_id, "k"), alpha=0.25, linewidth=0)
    axes[0].set_ylabel("face_id")
    axes[0].set_yticks(ids[:: max(1, len(ids) // 10)])
    axes[0].set_title("faces over time")
    axes[1].set_ylabel("degrees")
    axes[1].set_title("head pose: pitch (dotted), yaw (solid), roll (dashed)")
    axes[2].set_ylabel("eye_open")
    axes[2].set_title(f"eye openness; blinks shaded ({len(events)})")
    axes[3].set_ylabel("mouth_open")
    axes[3].set_title("mouth openness")
    axes[3].set_xlabel("time (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.savefig(path)


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="", border=0)


def _poster(video: str, frame: int, path: Path) -> bool:
    """Write frame `frame` of a local video to `path` (JPEG); False when it cannot be read."""
    cap = cv2.VideoCapture(video)
    cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
    ok, image = cap.read()
    cap.release()
    return bool(ok) and cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 85])


def _media(annotated: str, kind: str, report_dir: Path, poster: tuple[int, str] | None = None) -> str:
    """The <video> (or <img> for a still) of the annotated copy; `poster`: (frame, file name) of
    the still frame shown before it plays."""
    if not annotated:
        return "<p class=meta>No annotated copy (run with <code>--annotate DIR</code> to get one).</p>"
    attrs = ""
    if "://" in annotated and not annotated.startswith("file://"):
        src = annotated
    else:
        local = annotated[len("file://"):] if annotated.startswith("file://") else annotated
        if not os.path.exists(local):
            return f"<p class=meta>Annotated copy not found at {html.escape(annotated)}.</p>"
        src = Path(os.path.relpath(os.path.abspath(local), report_dir.resolve())).as_posix()
        if kind == "video" and poster is not None and _poster(local, poster[0], report_dir / poster[1]):
            attrs = f' poster="{html.escape(poster[1], quote=True)}"'
    src = html.escape(src, quote=True)
    if kind == "image":
        return f'<img class=ann src="{src}" alt="annotated image">'
    return f'<video controls muted preload="metadata"{attrs} src="{src}"></video>'


def _section(i: int, row, res: Results, report_dir: Path) -> str:
    video, kind = str(row.video), str(row.kind)
    head = (f"<h2>{html.escape(video)}</h2><p class=meta>{kind}, {row.frames} frames, {row.fps:.3g} fps, "
            f"{row.width}x{row.height}, {row.face_rows} face rows</p>")
    if row.status != "ok":
        return head + f"<p class=failed>failed: {html.escape(str(row.error))}</p>"
    t = res.tracks_of(video) if len(res.tracks) else res.tracks
    busiest = int(t["frame"].value_counts().idxmax()) if len(t) else 0  # a frame with the most faces
    parts = [head, _media(str(row.annotated or ""), kind, report_dir, (busiest, f"input_{i:04d}_poster.jpg"))]
    if not len(t):
        return "".join(parts + ["<p>No faces found.</p>"])
    size = (float(row.width), float(row.height))
    t = pd.concat([t, head_pose(t, size), openness(t)], axis=1)
    s = summarize(t).drop(columns=["video"])
    for c in ("pose_Rx", "pose_Ry", "pose_Rz"):
        s[c] = np.degrees(s[c])
    s = s.rename(columns={"pose_Rx": "pitch (deg)", "pose_Ry": "yaw (deg)", "pose_Rz": "roll (deg)",
                          "start": "start (s)", "end": "end (s)", "duration": "duration (s)",
                          "blink_rate": "blinks/min"})
    if kind == "video":
        name = f"input_{i:04d}.png"
        _plot(t, blinks(t), report_dir / name)
        parts.append(f'<img class=plot src="{name}" alt="faces, pose, eye and mouth openness over time">')
    parts.append(_table(s))
    return "".join(parts)


def write_report(out: str | os.PathLike, to: str | os.PathLike | None = None) -> Path:
    """Write the report of the vidkp output `out` into directory `to` (default `OUT/_report`);
    returns the path of its index.html. OutputError when `out` is not a vidkp output."""
    res = load_results(out)
    if to is None:
        if "://" in str(out) and not str(out).startswith("file://"):
            raise OutputError(f"{out} is not a local directory: give the report a local --to DIR")
        base = str(out)[len("file://"):] if str(out).startswith("file://") else str(out)
        to = Path(base) / REPORT_DIR
    report_dir = Path(to)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        sections = [_section(i, row, res, report_dir) for i, row in enumerate(res.manifest.itertuples())]
        page = (f"<!doctype html><html><head><meta charset=utf-8><title>vidkp report</title><style>{_CSS}</style>"
                f"</head><body><h1>vidkp report: {html.escape(str(out))}</h1><p class=meta>{len(res.manifest)} "
                f"inputs, {len(res.tracks)} face rows. Columns and methods: docs/analysis.md.</p>"
                + "".join(sections) + "</body></html>")
        index = report_dir / "index.html"
        index.write_text(page, encoding="utf-8")
    except OSError as e:
        raise OutputError(f"cannot write the report to {report_dir}: {e}") from e
    return index
