"""The `vidkp` command: a thin Typer layer over `vidkp.run` (parse, call, print, exit code).

Exit codes: 0 every input ok; 1 some inputs failed (listed); 2 usage error (bad option,
unusable --out, parameters differing from the run stored in --out, missing weights);
130 interrupted (rerun the same command to resume).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vidkp.config import RunConfig
from vidkp.errors import VidkpError
from vidkp.output.filters import STYLES

app = typer.Typer(
    help="Batch 68-point facial keypoints for videos and images, written as a Parquet dataset.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out_console = Console()
err_console = Console(stderr=True)
_D = RunConfig()


class RichProgress:
    """Progress bars over inputs and frames (to stderr)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
                                 console=err_console, disable=not enabled, transient=False)
        self.inputs = self.frames_task = None

    def __enter__(self) -> "RichProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.frames_task is not None and exc[0] is None:  # the headers' count was an estimate
            done = self.progress.tasks[self.frames_task].completed
            self.progress.update(self.frames_task, total=done)
        self.progress.__exit__(*exc)

    def start(self, total: int, skipped: int, frames_estimate: int | None) -> None:
        note = f"{skipped} already done" if skipped else ""
        self.inputs = self.progress.add_task("inputs", total=total, completed=skipped, note=note)
        self.frames_task = self.progress.add_task("frames", total=frames_estimate, note="")

    def frames(self, n: int) -> None:
        self.progress.advance(self.frames_task, n)

    def input_done(self, rec: dict[str, Any]) -> None:
        self.progress.advance(self.inputs, 1)
        if rec.get("status") != "ok":
            self.progress.console.print(f"[red]failed[/red] {escape(rec['video'])}: {escape(rec.get('error', ''))}",
                                        markup=True, highlight=False)


def _summary_table(s) -> Table:
    t = Table(title=f"vidkp run -> {s.out}", show_header=True)
    for col in ("inputs", "done before", "ok", "failed", "frames", "face rows", "seconds", "frames/s"):
        t.add_column(col, justify="right")
    t.add_row(str(s.inputs), str(s.skipped), str(s.ok), str(len(s.failed)), str(s.frames), str(s.faces),
              f"{s.seconds:.1f}", f"{s.frames_per_second:.1f}")
    return t


def _stage_table(s) -> Table | None:
    n = s.processed_frames
    if not n or not s.stage_ms:
        return None
    t = Table(title="time per processed frame (ms, summed over workers)")
    for k in s.stage_ms:
        t.add_column(k, justify="right")
    t.add_row(*(f"{v / n:.1f}" for v in s.stage_ms.values()))
    return t


@app.command("run")
def run_cmd(
    inputs: List[str] = typer.Argument(..., metavar="INPUT",
                                       help="Video or image files, directories (searched recursively for known "
                                            "video/image extensions), or @list.txt files with one path a line; "
                                            "paths or URIs (file://, s3://, gs://, ...)."),
    out: str = typer.Option(..., "--out", "-o", help="Output Parquet dataset directory, a path or a URI such "
                            "as s3://bucket/tracks (created; an existing one from the same command is resumed)."),
    annotate: Optional[str] = typer.Option(None, "--annotate", metavar="DIR",
                                           help="Also write annotated copies (boxes, ids, 68 points) to "
                                                "DIR/<relative path>.mp4, or the image extension for stills "
                                                "(a path or URI)."),
    style: str = typer.Option(_D.style, "--style", metavar="|".join(STYLES),
                              help="What annotated copies show: points (boxes, ids, 68 points), or a face "
                                   "filter placed by the keypoints: sunglasses, moustache, hat."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join (e.g. ray://host:10001 "
                                          "or auto); default: RAY_ADDRESS if set, else a local Ray on loopback."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=0,
                                          help="Parallel workers (Ray actors), one CPU each; 0 runs serially in "
                                               "this process without Ray. Default: one per CPU (of the cluster "
                                               "when joining one)."),
    every: int = typer.Option(_D.every, "--every", min=1, help="Detect and landmark every Nth frame "
                              "(rows only for those frames)."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", min=1, help="Only the first N frames of "
                                             "each video. Default: all."),
    detect_every: int = typer.Option(_D.follow.detect_every, "--detect-every", min=1, metavar="N",
                                     help="Run the face detector at least every N processed frames; faces are "
                                          "tracked from their previous points in between (1 = every frame)."),
    smooth: bool = typer.Option(_D.follow.smooth, "--smooth/--no-smooth",
                                help="One-Euro filter the points over time; --no-smooth writes the raw "
                                     "per-frame predictions."),
    segment_seconds: float = typer.Option(_D.segment_seconds, "--segment-seconds", min=0, metavar="S",
                                          help="Split videos longer than S seconds into equal segments processed "
                                               "in parallel; face ids continue across segments (0 = never split; "
                                               "not with --annotate)."),
    overlap_seconds: float = typer.Option(_D.overlap_seconds, "--overlap-seconds", min=0, metavar="S",
                                          help="Each segment after the first warms its tracker up on S seconds "
                                               "before its own frames."),
    min_face: int = typer.Option(_D.min_face, "--min-face", min=1, metavar="PX",
                                 help="Smallest face side to detect, in original-frame pixels."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete an existing vidkp output at --out and "
                                   "start over (default: resume it)."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Landmark model (.safetensors). "
                                           "Default: the shipped model."),
    settings: List[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                       help="Any other setting of vidkp.RunConfig, e.g. --set follow.max_gap=30, --set video.min_neighbors=5 "
                                            "or --set still.jitter=0 (repeatable; see docs/reference.md)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details to stderr."),
) -> None:
    """Find faces and their 68 keypoints in every INPUT; write one row per (input, frame, face) to OUT.

    Read the result with pandas.read_parquet(OUT); OUT/_manifest.parquet has one row per input
    (status ok|failed with the error). Rerun the same command to resume an interrupted run.
    Exit code 0: all inputs ok; 1: some failed; 2: usage error.
    """
    from vidkp.batch.run import run
    from vidkp.io.decode import quiet_opencv

    if not verbose:
        quiet_opencv()
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        extra = _parse_settings(settings)
        with RichProgress(enabled=not quiet) as prog:
            summary = run(inputs, out, progress=prog, annotate=annotate, style=style, address=address,
                          workers=workers, every=every, detect_every=detect_every, smooth=smooth, max_frames=max_frames,
                          min_face=min_face, overwrite=overwrite, segment_seconds=segment_seconds,
                          overlap_seconds=overlap_seconds, weights=weights, **extra)
    except VidkpError as e:
        err_console.print(f"error: {e}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted: rerun the same command to resume", highlight=False)
        raise typer.Exit(130) from None
    if summary.in_process and workers is None:
        out_console.print("ran in this process, without Ray: a small run (one work item); --workers N uses Ray",
                          highlight=False)
    if summary.skipped_files:
        out_console.print(f"skipped {len(summary.skipped_files)} files (status 'skipped' in the manifest):",
                          highlight=False)
        for path, reason in summary.skipped_files[:10]:
            out_console.print(f"  {path}: {reason}", highlight=False, markup=False, soft_wrap=True)
        if len(summary.skipped_files) > 10:
            out_console.print(f"  ... and {len(summary.skipped_files) - 10} more", highlight=False)
    if summary.nothing_to_do:
        out_console.print(f"nothing to do: all {summary.inputs} inputs already done in {summary.out} "
                          "(use --overwrite to start over)", highlight=False)
    out_console.print(_summary_table(summary))
    stages = _stage_table(summary)
    if stages is not None and not quiet:
        out_console.print(stages)
    for video, error in summary.failed:
        out_console.print(f"FAILED {video}: {error}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(summary.exit_code)


def _parse_settings(settings: list[str]) -> dict[str, str]:
    """`--set KEY=VALUE` options as keyword options of `vidkp.run` (values converted there)."""
    out = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise VidkpError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


@app.command("sample")
def sample_cmd(
    directory: Path = typer.Argument(..., metavar="DIR", help="Where to write grace_hopper.mp4."),
    seconds: float = typer.Option(4.0, "--seconds", min=0.1, help="Clip length."),
    fps: float = typer.Option(25.0, "--fps", min=1.0, help="Frame rate."),
) -> None:
    """Write a short 640x360 clip of a moving, zooming face (matplotlib's grace_hopper.jpg) to DIR."""
    from vidkp.sample import make_sample

    try:
        path = make_sample(directory, seconds=seconds, fps=fps)
    except VidkpError as e:
        err_console.print(f"error: {e}", highlight=False, markup=False)
        raise typer.Exit(2) from None
    out_console.print(f"wrote {path}", highlight=False)


@app.command("report")
def report_cmd(
    out: str = typer.Argument(..., metavar="OUT", help="A vidkp output directory (the --out of vidkp run)."),
    to: Optional[Path] = typer.Option(None, "--to", metavar="DIR", help="Where to write index.html and its "
                                      "plots. Default: OUT/_report (Parquet readers skip it)."),
) -> None:
    """Write an HTML report of OUT: per input the annotated video, faces over time, head pose, eye and
    mouth openness, blinks and a per-track summary. Exit code 2 if OUT is not a vidkp output."""
    from vidkp.output.report import write_report

    try:
        index = write_report(out, to)
    except VidkpError as e:
        err_console.print(f"error: {e}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    out_console.print(f"wrote {index}", highlight=False, soft_wrap=True)


@app.command("export")
def export_cmd(
    out: str = typer.Argument(..., metavar="OUT", help="A vidkp output directory (the --out of vidkp run)."),
    fmt: str = typer.Option("openface", "--format", help="openface: one CSV per input with OpenFace 2's "
                            "columns (frame, face_id, timestamp, confidence, success, x_0..y_67, pose_R*)."),
    to: Path = typer.Option(..., "--to", metavar="DIR", help="Directory for the exported files."),
) -> None:
    """Export the tracks of OUT for other tools. Exit code 2 if OUT is not a vidkp output."""
    from vidkp.output.export import export

    try:
        paths = export(out, to, fmt)
    except VidkpError as e:
        err_console.print(f"error: {e}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    out_console.print(f"wrote {len(paths)} file(s) to {to}", highlight=False, soft_wrap=True)


@app.callback()
def main() -> None:
    """vidkp: batch facial keypoints. `vidkp sample DIR` makes a test clip; `vidkp run` processes inputs;
    `vidkp report` and `vidkp export` read its output."""
