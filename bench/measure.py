"""Measuring tools shared by the workloads: percentiles, a progress bar, the emulators' stats, a
sampler of budget use over time, a GC timer, and a description of the machine."""

from __future__ import annotations

import gc
import importlib.metadata
import json
import math
import os
import platform
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["CLIENT_LABELS", "GcTimer", "Progress", "StatsSampler", "client", "emulator_stats", "machine",
           "percentile", "stats_delta", "summary"]

Providers = Mapping[str, Mapping[str, str]]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty sequence: the smallest value with
    at least ``q`` percent of the values at or below it."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered) - 1e-9) - 1))
    return ordered[k]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/min/max/mean/n of ``values`` (milliseconds, rounded to the microsecond)."""
    if not values:
        return {"n": 0}
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "p99": round(percentile(values, 99), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "mean": round(sum(values) / len(values), 3),
            "n": len(values)}


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, label: str, *, enabled: bool | None = None) -> None:
        self.total, self.label, self.done = max(1, total), label, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._drawn = -1

    def step(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / self.total)
        if filled == self._drawn and self.done != self.total:
            return
        self._drawn = filled
        sys.stderr.write(f"\r{self.label:<28} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{self.done}/{self.total}")
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.done < self.total:
            self.step(self.total - self.done)


def emulator_stats(providers: Providers, timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """``GET /_sandbox/stats`` of every emulator (totals since its start)."""
    out: dict[str, dict[str, Any]] = {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    for name, block in providers.items():
        with opener.open(block["base_url"] + "/_sandbox/stats", timeout=timeout) as resp:
            out[name] = json.loads(resp.read())
    return out


def stats_delta(after: Mapping[str, Mapping[str, Any]],
                before: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per provider, ``after - before`` of every numeric counter (maps such as ``faults`` too)."""
    out: dict[str, dict[str, Any]] = {}
    for name, now in after.items():
        then = before.get(name, {})
        row: dict[str, Any] = {}
        for key, value in now.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = value - then.get(key, 0)
            elif isinstance(value, Mapping):
                old = then.get(key) or {}
                row[key] = {k: v - old.get(k, 0) for k, v in value.items()
                            if isinstance(v, (int, float)) and v - old.get(k, 0)}
        out[name] = row
    return out


class StatsSampler:
    """Reads every watched emulator's stats every ``interval`` seconds on a background thread.

    ``watching(label, providers)`` points it at a sandbox (a workload's) for the ``with`` block;
    ``samples`` holds ``(t, label, provider, units, requests, client)`` rows, ``t`` in seconds
    since the sampler started and ``client`` who was spending then (``bestrate`` unless a
    workload runs a baseline inside ``with client("sequential"):``): units between two samples
    belong to the client of the later one, and a sample is taken at every change of client.
    """

    active: StatsSampler | None = None

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.samples: list[tuple[float, str, str, int, int, str]] = []
        self.phases: list[tuple[str, float, float]] = []
        self._target: tuple[str, Providers] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self.client = "bestrate"
        self._thread = threading.Thread(target=self._run, name="bench-stats-sampler", daemon=True)

    def __enter__(self) -> StatsSampler:
        self._thread.start()
        StatsSampler.active = self
        return self

    def __exit__(self, *exc: object) -> None:
        if StatsSampler.active is self:
            StatsSampler.active = None
        self._stop.set()
        self._thread.join(5)

    def now(self) -> float:
        return time.perf_counter() - self._t0

    @contextmanager
    def watching(self, label: str, providers: Providers) -> Iterator[None]:
        started = self.now()
        with self._lock:
            self._target = (label, providers)
        self._sample()
        try:
            yield
        finally:
            self._sample()
            with self._lock:
                self._target = None
            self.phases.append((label, round(started, 3), round(self.now(), 3)))

    def _sample(self) -> None:
        with self._lock:
            target = self._target
        if target is None:
            return
        label, providers = target
        who = self.client
        try:
            stats = emulator_stats(providers, timeout=2.0)
        except OSError:
            return  # the sandbox is going away
        t = round(self.now(), 3)
        with self._lock:
            for name, st in stats.items():
                self.samples.append((t, label, name, int(st.get("units", 0)),
                                     int(st.get("requests", 0)), who))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()


#: How the budget chart names each client that spends a sandbox's units.
CLIENT_LABELS = {"bestrate": "bestrate", "sequential": "sequential client",
                 "parallel": "naive parallel client", "fixedfloatapi": "fixedfloatapi (PyPI)",
                 "firm_everything": "firm-quote-everything batch"}


@contextmanager
def client(label: str) -> Iterator[None]:
    """Mark the budget units spent inside the block as ``label``'s (a baseline client's) in the
    running :class:`StatsSampler`, if any, so the budget chart shows them apart from bestrate's."""
    sampler = StatsSampler.active
    if sampler is None:
        yield
        return
    before = sampler.client
    sampler._sample()  # what was spent so far is the previous client's
    sampler.client = label
    try:
        yield
    finally:
        sampler._sample()
        sampler.client = before


class GcTimer:
    """Time spent in the garbage collector while the context is open (``seconds``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start = 0.0

    def _callback(self, phase: str, info: Mapping[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for dist in ("bestrate", "aiohttp", "msgspec", "orjson", "uvloop", "matplotlib",
                 "fixedfloatapi", "requests"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "cpu": cpu,
            "machine": platform.machine(), "versions": versions}
