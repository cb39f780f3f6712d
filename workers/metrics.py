"""What a capture worker measures: tasks, retries, dead letters, and the backlog at scrape time.

Tasks run in the worker's pool processes, so their counters and histograms use
prometheus-client's multiprocess mode (one memory-mapped file per process in the worker's
metrics folder); the worker's main process serves them, with the backlog (spool and broker
queues, read when scraped), on ``VOICE_WORKER_METRICS_PORT`` (docs/METRICS.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from celery import Celery
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from capture.spool import SUFFIX, aged
from core.folders import data_folder
from core.settings import Settings
from workers.config import QUEUES

TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class WorkerMetrics:
    """The task metrics (in ``registry``; None: no registry, as multiprocess mode wants)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.tasks = Counter(
            "voice_worker_tasks",
            "Tasks run, by name and outcome (success, retry, ignored, failure, rejected)",
            ["task", "outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "voice_worker_task_seconds",
            "Task run time, by name",
            ["task"],
            buckets=TASK_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "voice_worker_task_retries", "Retries scheduled, by task", ["task"], registry=registry
        )
        self.dead_letters = Counter(
            "voice_worker_dead_letters",
            "Tasks given up on and recorded as dead letters, by task",
            ["task"],
            registry=registry,
        )
        self.captures = Counter(
            "voice_worker_captures",
            "Turns the whole capture chain stored (its last task succeeded)",
            registry=registry,
        )


class Backlog(Collector):
    """Spool depth and age, and the broker's queue lengths, read at each scrape."""

    def __init__(self, settings: Settings, celery: Celery) -> None:
        self.settings, self.celery = settings, celery

    def describe(self) -> Iterator[Metric]:
        """The families, without reading the spool or the broker."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        """The families with their current values."""
        entries, oldest, sweep, queues, reachable = self._families()
        mtimes = [m for _, m in aged(data_folder(self.settings, "spool"), SUFFIX)]
        entries.add_metric([], len(mtimes))
        oldest.add_metric([], max(0.0, time.time() - min(mtimes)) if mtimes else 0.0)
        sweep.add_metric([], self.settings.sweep_after_s)
        try:
            lengths = self._queue_lengths()
        except Exception:  # the broker is down: say so, and report no lengths
            reachable.add_metric([], 0)
        else:
            reachable.add_metric([], 1)
            for queue, length in lengths.items():
                queues.add_metric([queue], length)
        yield from (entries, oldest, sweep, queues, reachable)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("voice_spool_entries", "Turns waiting in this worker's spool"),
            GaugeMetricFamily(
                "voice_spool_oldest_entry_age_seconds", "Age of the oldest spool entry (0: none)"
            ),
            GaugeMetricFamily(
                "voice_spool_sweep_after_seconds",
                "VOICE_SWEEP_AFTER_S: an entry older than this has lost its chain",
            ),
            GaugeMetricFamily(
                "voice_queue_length", "Messages waiting in a broker queue", labels=["queue"]
            ),
            GaugeMetricFamily("voice_broker_reachable", "1 when the broker answered the scrape"),
        )

    def _queue_lengths(self) -> dict[str, int]:
        lengths = {}
        # channel(), not default_channel: that one retries a broker that is down forever
        with self.celery.connection_for_read() as connection, connection.channel() as channel:
            for queue in QUEUES:
                try:
                    lengths[queue] = int(channel.queue_declare(queue, passive=True).message_count)
                except ChannelError:  # a Redis queue with nothing in it has no key at all
                    lengths[queue] = 0
        return lengths
