"""Ray execution of a batch run: a private Ray on loopback (or an existing cluster), one
`PipelineWorker` actor per CPU with a bounded number of tasks in flight, replacement of dead
workers, one retry per work item, and frame counts pushed back for the driver's progress bar."""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable

from vidkp.batch.manifest import InputSummary
from vidkp.batch.pipeline import Pipeline
from vidkp.batch.resume import current_attempt
from vidkp.batch.segments import Segment
from vidkp.config import RunConfig, default_workers
from vidkp.errors import OutputError
from vidkp.io.decode import quiet_opencv
from vidkp.io.sources import Source

log = logging.getLogger(__name__)

Work = tuple[Source, Segment | None]
"""One unit of work: an input, or one segment of a split video."""


_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_SAVED_CLUSTER_FLAGS: tuple[str | None, bool | None] | None = None


def restore_ray_flags() -> None:
    """Undo init_local_ray's loopback-only switches (after ray.shutdown), so that this process
    can later join a real cluster."""
    global _SAVED_CLUSTER_FLAGS
    if _SAVED_CLUSTER_FLAGS is None:
        return
    env, flag = _SAVED_CLUSTER_FLAGS
    if env is None:
        os.environ.pop(_CLUSTER_ENV, None)
    else:
        os.environ[_CLUSTER_ENV] = env
    if flag is not None:
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = flag
    _SAVED_CLUSTER_FLAGS = None


def cluster_address(address: str | None) -> str | None:
    """The Ray cluster a run joins: `address`, else RAY_ADDRESS, else None (a local Ray)."""
    return address or os.environ.get("RAY_ADDRESS") or None


def init_local_ray(num_cpus: int, address: str | None = None) -> None:
    """Join the Ray cluster at `address` (else RAY_ADDRESS), or start a private local Ray on loopback only.

    The local Ray has no dashboard and binds every port to 127.0.0.1. Ray decides this from
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 when `ray` is first imported, so the flag is also set
    on Ray's constants in case the caller imported Ray before vidkp; the result is checked.
    """
    address = cluster_address(address)
    if address:  # an existing cluster: Ray refuses num_cpus here; workers need vidkp and OUT there too
        import ray

        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        return
    global _SAVED_CLUSTER_FLAGS
    _SAVED_CLUSTER_FLAGS = (os.environ.get(_CLUSTER_ENV), None)
    os.environ[_CLUSTER_ENV] = "0"  # inherited by Ray's own processes
    import ray
    from ray._private import ray_constants

    _SAVED_CLUSTER_FLAGS = (_SAVED_CLUSTER_FLAGS[0], ray_constants.ENABLE_RAY_CLUSTER)
    ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before the line above
    # address="local": always a new private instance, never a cluster recorded under /tmp/ray
    ray.init(address="local", num_cpus=max(num_cpus, 1), include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1", logging_level=logging.ERROR)
    ip = ray._private.worker.global_worker.node_ip_address
    if ip not in ("127.0.0.1", "::1"):
        ray.shutdown()
        raise OutputError(f"expected the local Ray to bind to 127.0.0.1, got {ip}; not starting it")


_ACTOR_CLS = None


def _actor_class():
    """The Ray actor class, defined lazily so that importing vidkp does not import Ray."""
    global _ACTOR_CLS
    if _ACTOR_CLS is None:
        import ray

        @ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)
        class PipelineWorker:
            """One worker process: threads pinned to 1, model loaded once, many inputs."""

            def __init__(self, config_json: str, params: dict[str, Any], counter: Any, attempt: str | None) -> None:
                import cv2

                cv2.setNumThreads(1)
                quiet_opencv()
                self.pipe = Pipeline(RunConfig.from_json(config_json), params, attempt)
                self.counter = counter

            def process(self, work: list[Work], out: str) -> list[dict[str, Any]]:
                on_frames = (lambda n: self.counter.add.remote(n)) if self.counter is not None else None
                return [self.pipe.process(s, out, on_frames, seg).record() for s, seg in work]

        @ray.remote(num_cpus=0)
        class FrameCounter:
            """Frames decoded so far, pushed by workers for the driver's progress bar."""

            def __init__(self) -> None:
                self.n = 0

            def add(self, n: int) -> None:
                self.n += n

            def get(self) -> int:
                return self.n

        _ACTOR_CLS = (PipelineWorker, FrameCounter)
    return _ACTOR_CLS


def run_on_ray(items: list[list[Work]], config: RunConfig, params: dict[str, Any], out: str,
               on_done: Callable[[dict[str, Any]], None], on_frames: Callable[[int], None]) -> None:
    """Process the work `items` on Ray workers (starting a private local Ray unless one is
    running or `config.address` names a cluster), calling `on_done` with each input's record."""
    import ray
    from ray.exceptions import RayActorError, RayError

    started = False
    if not ray.is_initialized():
        init_local_ray(config.workers or default_workers(), config.address)
        started = True
    try:
        worker_cls, counter_cls = _actor_class()
        counter = counter_cls.remote()
        cfg_json = config.to_json()
        attempt = current_attempt(out)
        wanted = config.workers or int(ray.cluster_resources().get("CPU", 1))
        n_workers = max(1, min(wanted, len(items)))
        # The first actors get work at once (the cluster has their CPUs). A replacement gets work
        # only once it has started: one for an actor lost with its node may never find a free CPU,
        # and the work must go on without it.
        actors = [worker_cls.remote(cfg_json, params, counter, attempt) for _ in range(n_workers)]
        ready = [True] * n_workers
        starting: dict[Any, int] = {}  # readiness ref of a replacement -> slot
        n_starts = n_workers

        def replace_actor(slot: int) -> None:
            nonlocal n_starts
            actors[slot] = worker_cls.remote(cfg_json, params, counter, attempt)
            ready[slot] = False
            starting[actors[slot].__ray_ready__.remote()] = slot
            n_starts += 1

        queue = list(reversed(items))
        attempts: dict[int, int] = {}
        pending: dict[Any, tuple[int, Any, list[Work]]] = {}
        load = [0] * n_workers

        def submit(slot: int) -> None:
            while ready[slot] and queue and load[slot] < config.in_flight_per_worker:
                item = queue.pop()
                ref = actors[slot].process.remote(item, out)
                pending[ref] = (slot, actors[slot], item)
                load[slot] += 1

        for slot in range(n_workers):
            submit(slot)
        seen_frames = 0
        start_error = ""
        while pending or (queue and starting):
            done, _ = ray.wait([*pending, *starting], num_returns=1, timeout=0.5)
            seen_frames = _poll_frames(counter, seen_frames, on_frames)
            for ref in done:
                if ref in starting:
                    slot = starting.pop(ref)
                    try:
                        ray.get(ref)
                        ready[slot] = True
                        submit(slot)
                    except RayError as e:  # the worker could not start (e.g. the model failed to load)
                        start_error = f"worker failed to start: {' '.join(str(e).split())[:300]}"
                        log.warning("%s", start_error)
                        if n_starts < 3 * n_workers:
                            replace_actor(slot)
                    continue
                slot, actor, item = pending.pop(ref)
                load[slot] -= 1
                try:
                    for rec in ray.get(ref):
                        on_done(rec)
                except RayError as e:  # actor died, out of memory, task error: retry once, then report
                    if isinstance(e, RayActorError) and actors[slot] is actor:  # it died: replace it
                        ray.kill(actors[slot], no_restart=True)
                        replace_actor(slot)
                    msg = f"worker failed: {' '.join(str(e).split())[:300]}"
                    log.warning("%s (inputs %s)", msg, [s.path for s, _ in item])
                    attempts[id(item)] = attempts.get(id(item), 0) + 1
                    if attempts[id(item)] < 2:  # one retry, then record the failure (no marker)
                        queue.append(item)
                        for other in range(n_workers):  # an idle started worker takes it now
                            submit(other)
                        continue
                    _report_unfinished(item, msg, params, on_done)
                submit(slot)
        for item in queue:  # only when no worker could be started
            _report_unfinished(item, start_error or "no worker could be started", params, on_done)
        _poll_frames(counter, seen_frames, on_frames)
    finally:
        if started:
            ray.shutdown()
            restore_ray_flags()


def _report_unfinished(item: list[Work], msg: str, params: dict[str, Any],
                       on_done: Callable[[dict[str, Any]], None]) -> None:
    """Record inputs (segments) that no worker finished as failed, without a marker (a rerun retries them)."""
    for s, seg in item:
        on_done(InputSummary(video=s.path, kind=s.kind, status="failed", error=msg,
                             params=json.dumps(params, sort_keys=True), marked=False,
                             segment=seg.index if seg else None).record())


def _poll_frames(counter: Any, seen: int, on_frames: Callable[[int], None]) -> int:
    import ray

    try:
        now = ray.get(counter.get.remote(), timeout=5)
    except Exception:  # noqa: BLE001 - progress is best effort
        return seen
    if now > seen:
        on_frames(now - seen)
    return max(now, seen)
