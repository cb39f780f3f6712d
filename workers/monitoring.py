"""The worker's logs and metrics, wired to Celery's signals (imported by ``workers.tasks``).

- ``celeryd_init``, ``setup_logging``: Celery leaves logging to ``core.logs`` (VOICE_LOG_FORMAT,
  VOICE_LOG_LEVEL).
- ``task_prerun``/``task_postrun``: each task's log lines carry its name and, for the capture
  chain and feedback, the turn id (the same id the session logged); outcome and run time.
- ``task_retry``: retries. Dead letters are counted where ``workers.tasks`` records them.
- ``worker_init``: multiprocess mode in a fresh folder, before the pool forks;
  ``worker_ready``: the main process serves ``/metrics`` on ``VOICE_WORKER_METRICS_PORT``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from contextvars import Token
from typing import Any

from celery import signals
from prometheus_client import CollectorRegistry, start_http_server, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from core import logs
from core.folders import data_folder
from core.settings import get_settings
from workers.config import CHAINS, chain_routes, task_name
from workers.metrics import Backlog, WorkerMetrics

log = logging.getLogger(__name__)
# Tasks whose first argument is a turn id
TURN_TASKS = {name for name, _ in chain_routes()} | {"capture.feedback"}
CHAIN_ENDS = {task_name(steps[-1][0]) for steps in CHAINS.values()}  # a turn stored
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client reads it in each pool process
metrics: WorkerMetrics | None = None  # set in a worker (not in beat or a producer)
_running: dict[str, tuple[float, list[tuple[Any, Token[Any]]]]] = {}  # task id: start, ids


@signals.celeryd_init.connect  # first thing in a worker: its start-up warnings are log lines too
@signals.setup_logging.connect  # instead of Celery's own set-up (beat, pool processes)
def _setup_logging(**_: Any) -> None:
    logs.configure(get_settings())


@signals.worker_init.connect
def _worker_init(**_: Any) -> None:
    """Before the pool forks: every process of this worker writes its metrics to one folder."""
    global metrics
    settings = get_settings()
    if not settings.worker_metrics_port:
        return
    folder = data_folder(settings, "metrics", f"worker-{settings.worker_metrics_port}")
    shutil.rmtree(folder)  # files of an earlier run would be added to this one's
    folder.mkdir(mode=0o700)
    os.environ[MULTIPROC_ENV] = str(folder)
    values.ValueClass = values.MultiProcessValue()
    metrics = WorkerMetrics()


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **_: Any) -> None:
    """Serve the pool's metrics and the backlog (a port in use costs the metrics, not the work)."""
    settings = get_settings()
    if metrics is None:
        return
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ[MULTIPROC_ENV])
    registry.register(Backlog(settings, sender.app if sender is not None else _app()))
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.warning("worker metrics not served on %s:%d: %s", host, port, exc.strerror or exc)
        return
    log.info("worker metrics on http://%s:%d/metrics", host, port)


@signals.worker_process_shutdown.connect
def _process_shutdown(pid: int | None = None, **_: Any) -> None:
    if metrics is not None and MULTIPROC_ENV in os.environ:
        mark_process_dead(pid or os.getpid())


@signals.task_prerun.connect
def _task_prerun(task_id: str = "", task: Any = None, args: Any = (), **_: Any) -> None:
    name = getattr(task, "name", None)
    tokens: list[tuple[Any, Token[Any]]] = [(logs.task_name, logs.task_name.set(name))]
    if name in TURN_TASKS and args:
        tokens.append((logs.turn_id, logs.turn_id.set(str(args[0]))))
    _running[task_id] = (time.perf_counter(), tokens)


@signals.task_postrun.connect
def _task_postrun(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
    started, tokens = _running.pop(task_id, (None, []))
    for var, token in reversed(tokens):
        var.reset(token)
    name = getattr(task, "name", "unknown")
    if metrics is None:
        return
    metrics.tasks.labels(name, (state or "unknown").lower()).inc()
    if started is not None:
        metrics.seconds.labels(name).observe(time.perf_counter() - started)
    if name in CHAIN_ENDS and state == "SUCCESS":
        metrics.captures.inc()


@signals.task_retry.connect
def _task_retry(sender: Any = None, **_: Any) -> None:
    if metrics is not None:
        metrics.retries.labels(getattr(sender, "name", "unknown")).inc()


def dead_letter(task: str) -> None:
    """Count a task given up on (``workers.tasks`` records the dead letter itself)."""
    if metrics is not None:
        metrics.dead_letters.labels(task).inc()


def _app() -> Any:
    from workers.tasks import app

    return app
