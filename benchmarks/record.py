"""Run a benchmark and make its output the current table of that benchmark.

    python -m benchmarks.record NAME -- python -m benchmarks.memory_bench --counts 100

writes `benchmarks/results/NAME.md`: the command, commit, machine and date, then what the command
printed (its tables). Each run replaces the file: it holds the latest figures, not a log (the
history is in git). A command that fails writes nothing.
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=RESULTS.parent).stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    # tables written by earlier records are no change to the code being measured
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)benchmarks/results")
    return sha + (" (with uncommitted changes)" if dirty else "")


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.node()}, {platform.machine()} {platform.processor() or ''}".rstrip()
            + f", {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.1f} at the start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="results file name (without .md)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the benchmark command")
    a = ap.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("give the benchmark command after --")
    header = (f"# {a.name}\n\n- command: `{shlex.join(cmd)}`\n- commit: {_commit()}\n- machine: {_machine()}\n"
              f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        print(f"benchmark exited {proc.returncode}; {a.name}.md not written", file=sys.stderr)
        return proc.returncode
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{a.name}.md"
    out.write_text(header + proc.stdout.strip() + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
