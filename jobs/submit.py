"""Job entry point for `ray job submit`: runs `vidkp run` on the cluster the job was submitted to.

    ray job submit --runtime-env jobs/runtime_env.yaml -- python -m jobs.submit INPUT... --out OUT

All `vidkp run` options are accepted. Inside a Ray job, RAY_ADDRESS is set by Ray, so vidkp
joins the cluster instead of starting its own.
"""
from __future__ import annotations

import sys

from vidkp.cli import app


def main(argv: list[str] | None = None) -> None:
    app(["run", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
