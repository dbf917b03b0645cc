"""Prometheus metrics of one service instance, in their own registry (no global state).

``aigc_check_requests_total{endpoint,status}``, ``aigc_check_verdicts_total{verdict}``,
``aigc_check_errors_total{code}``, latency histograms for whole requests and for the
checker hop, upload sizes, requests in flight, open connections, and the worker pool's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

# From 0.25 ms (an in-process check of a JPEG without C2PA) to the default 10 s time limit.
LATENCY_BUCKETS = (0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SIZE_BUCKETS = (1e3, 1e4, 1e5, 1e6, 3e6, 1e7, 3e7, 1e8, 1e9)
CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # the *_created series double the output and no dashboard reads them


class _PoolCollector:
    """Reads the pool's state at scrape time instead of mirroring it into gauges."""

    def __init__(self, pool_state: Callable[[], dict[str, int]]) -> None:
        self.pool_state = pool_state

    def collect(self) -> Iterator[Metric]:
        state = self.pool_state()
        workers = GaugeMetricFamily("aigc_check_workers", "Checker worker processes, by state", labels=["state"])
        for key in ("size", "alive", "idle"):
            workers.add_metric([key], state[key])
        yield workers
        restarts = CounterMetricFamily("aigc_check_worker_restarts", "Workers killed and replaced (timeout, crash)")
        restarts.add_metric([], state["restarts"])
        yield restarts


class _ConnectionCollector:
    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("aigc_check_connections", "Open HTTP connections", value=self.count())


class Children:
    """A labelled metric's children by their label values, each looked up once: ``labels()`` validates
    the values and takes a lock on every call, which the event loop paid three times a request."""

    def __init__(self, metric: Counter | Histogram) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __getitem__(self, values: tuple[str, ...]) -> Any:
        child = self._children.get(values)
        if child is None:  # label values are few (endpoints, statuses, verdicts): the dict stays small
            child = self._children[values] = self.metric.labels(*values)
        return child


class ServiceMetrics:
    def __init__(self, pool_state: Callable[[], dict[str, int]], in_flight: Callable[[], int]) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter(
            "aigc_check_requests", "HTTP requests answered, by endpoint and status", ["endpoint", "status"], registry=r
        )
        self.verdicts = Counter("aigc_check_verdicts", "Verdicts returned by /v1/check", ["verdict"], registry=r)
        self.errors = Counter("aigc_check_errors", "Requests answered with a JSON error, by code", ["code"], registry=r)
        self.latency = Histogram(
            "aigc_check_request_duration_seconds",
            "Whole request, upload included",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.check_latency = Histogram(
            "aigc_check_check_duration_seconds",
            "The check in a worker process, pool hop included",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.upload_bytes = Histogram(
            "aigc_check_upload_bytes", "Size of the checked files", buckets=SIZE_BUCKETS, registry=r
        )
        self.in_flight = Gauge(
            "aigc_check_requests_in_flight", "Check requests admitted and not yet answered", registry=r
        )
        self.in_flight.set_function(in_flight)  # read at scrape time: no update on every request
        r.register(_PoolCollector(pool_state))
        self.requests_by = Children(self.requests)
        self.verdicts_by = Children(self.verdicts)
        self.latency_by = Children(self.latency)

    def watch_connections(self, count: Callable[[], int]) -> None:
        """Expose ``aigc_check_connections``, read from the server at scrape time."""
        self.registry.register(_ConnectionCollector(count))

    def render(self) -> bytes:
        return generate_latest(self.registry)
