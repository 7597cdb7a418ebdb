"""Scenarios are data: one TOML file each in ``bench/scenarios/``, decoded into these structs.

A scenario names the sandbox it runs against (seed, frozen market, latency and fault profiles)
and the workloads it runs, each with its own table::

    name = "smoke"
    description = "..."
    seed = 1
    workloads = ["latency", "concurrency", "batch", "faults", "parse"]
    [sandbox]
    latency_ms = 5                 # every provider answers after a fixed delay ...
    latency_profile = "heavy"      # ... or a named profile of `python -m bench.sandbox`
    [latency]
    calls = 12
    pairs = [["BTC", "USDT", "0.05"]]
    [concurrency]
    callers = [100, 1000]

Unknown keys are errors, so a typo in a scenario fails loudly.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import msgspec

__all__ = ["BatchWorkload", "ChaosWorkload", "ConcurrencyWorkload", "EngineWorkload", "FaultsWorkload", "LatencyWorkload",
           "LiveSettings", "ParseWorkload", "SandboxSettings", "Scenario", "load_scenarios"]

Pair = tuple[str, str, str]
Workload = Literal["latency", "concurrency", "batch", "faults", "chaos", "engine", "parse",
                   "providers"]
Baseline = Literal["sequential", "parallel", "fixedfloatapi"]

_PAIRS: tuple[Pair, ...] = (
    ("BTC", "USDT", "0.05"), ("ETH", "BTC", "1.5"), ("USDT@TRC20", "ETH", "2500"),
    ("LTC", "XMR", "10"), ("SOL", "USDC", "40"), ("DOGE", "TRX", "20000"),
)


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class SandboxSettings(_Strict, frozen=True):
    """How the sandbox process is started (``python -m bench.sandbox``)."""

    latency_ms: float = 0.0
    latency_profile: str = ""  # a named profile (``--latency-profile``); overrides latency_ms
    faults: str = ""  # a named fault profile (``--faults``); used by the faults workload only


class LatencyWorkload(_Strict, frozen=True):
    """Embedded quote latency: quotes one after the other, trace hooks on every HTTP call."""

    calls: int = 200
    warmup: int = 10
    pairs: tuple[Pair, ...] = (*_PAIRS, ("EUR", "BTC", "500"))  # the fiat pair reaches FaTPay
    max_hops: int = 2
    deadline: float = 5.0  # the router's default
    cache: bool = False  # the firm-quote cache off, so every quote reaches the providers
    baselines: tuple[Baseline, ...] = ("sequential", "parallel", "fixedfloatapi")
    baseline_calls: int = 30  # quotes per baseline (each pair in turn)


class ConcurrencyWorkload(_Strict, frozen=True):
    """N concurrent callers on distinct and on identical (pair, amount) requests."""

    callers: tuple[int, ...] = (100, 1000)
    modes: tuple[Literal["distinct", "identical"], ...] = ("distinct", "identical")
    latency_ms: float = 0.0  # provider latency for this workload (zero: the engine's own cost)
    identical: Pair = ("BTC", "USDT", "0.5")
    baselines: tuple[Baseline, ...] = ("sequential", "parallel")
    baseline_callers: int = 100  # the baselines run at this many callers only
    deadline: float = 30.0
    # after the measured runs, run the largest distinct one again under cProfile and report the
    # hotspots (the profiled run's own figures are not reported: cProfile slows everything)
    profile: bool = False


class BatchWorkload(_Strict, frozen=True):
    """``quote_many`` within budgets against a firm-everything oracle (bench/batchbench.py)."""

    queries: int = 10_000
    distinct: int = 320


class ChaosWorkload(_Strict, frozen=True):
    """Many concurrent quotes on an in-process sandbox under the shortened ``chaos`` profile, on
    the real clock (``bench.workloads.chaos``; the test suite runs the same on a virtual one)."""

    calls: int = 2000
    deadline: float = 0.5
    concurrency: int = 40
    pace: float = 0.4  # seconds between the starts of two batches of ``concurrency`` quotes
    seed: int = 3


class EngineWorkload(_Strict, frozen=True):
    """Client CPU per quote against the floor of its own HTTP calls, cached CPU, loop stalls."""

    quotes: int = 300
    warmup: int = 20
    floor_posts: int = 300
    overload_callers: int = 1000  # 0: no overload run
    overload_deadline: float = 1.0


class FaultsWorkload(_Strict, frozen=True):
    """Quotes under a fault profile, scored against a fault-free sandbox with the same seed."""

    profile: str = "flaky"
    latency_profile: str = ""  # defaults to the scenario's
    latency_ms: float = 20.0
    quotes: int = 60
    deadline: float = 2.0
    pairs: tuple[Pair, ...] = _PAIRS
    max_hops: int = 1
    baselines: tuple[Baseline, ...] = ("parallel",)


class ParseWorkload(_Strict, frozen=True):
    """Parse time of a FixedFloat rates file of ``items`` entries."""

    items: int = 4096
    repeat: int = 50


class LiveSettings(_Strict, frozen=True):
    """The provider comparison (``--scenario providers``, live with ``--live``)."""

    pairs: tuple[Pair, ...] = (("BTC", "USDT", "0.05"), ("ETH", "BTC", "1"))
    repeat: int = 2
    # the hard cap of budget units per provider for the whole run (also clamped to what the
    # provider's per-minute budget allows for quoting)
    units: dict[str, int] = msgspec.field(default_factory=lambda: {
        "fixedfloat": 20, "gatepay": 30, "flypay": 12, "onebitpay": 10, "fatpay": 10})
    deadline: float = 10.0


class Scenario(_Strict, frozen=True):
    name: str
    description: str
    seed: int = 0
    frozen: bool = True
    providers: tuple[str, ...] = ()  # empty: every provider the sandbox serves
    workloads: tuple[Workload, ...] = ("latency", "parse")
    sandbox: SandboxSettings = SandboxSettings()
    latency: LatencyWorkload = LatencyWorkload()
    concurrency: ConcurrencyWorkload = ConcurrencyWorkload()
    batch: BatchWorkload = BatchWorkload()
    faults: FaultsWorkload = FaultsWorkload()
    chaos: ChaosWorkload = ChaosWorkload()
    engine: EngineWorkload = EngineWorkload()
    parse: ParseWorkload = ParseWorkload()
    live: LiveSettings = LiveSettings()

    def __post_init__(self) -> None:
        compared = {"batch", "faults"} & set(self.workloads)
        if compared and not self.frozen:
            raise ValueError(f"workloads {sorted(compared)} compare two sandboxes' answers: "
                             "they need frozen = true")


def load_scenarios() -> dict[str, Scenario]:
    """Every shipped scenario by name, in file-name order."""
    out: dict[str, Scenario] = {}
    for entry in sorted(resources.files("bench.scenarios").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            try:
                sc = msgspec.toml.decode(entry.read_bytes(), type=Scenario)
            except msgspec.ValidationError as exc:
                raise msgspec.ValidationError(f"bench/scenarios/{entry.name}: {exc}") from None
            out[sc.name] = sc
    return out
