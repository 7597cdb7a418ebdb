"""``bestrate bench``: named scenarios (TOML data in ``bench/scenarios/``), figures, reports.

The sandbox runs in its own process (``python -m bench.sandbox``) so that measuring the router does
not share an event loop, or a core, with emulating the providers.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import orjson

__all__ = ["Scenario", "load_scenarios", "percentile", "run_bench"]


class Scenario(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    description: str
    kind: str = "latency"  # latency | batch
    queries: int = 10_000
    distinct: int = 320
    seed: int = 0
    frozen: bool = True
    latency_ms: float = 0.0
    calls: int = 200
    warmup: int = 10
    parse_items: int = 4096
    parse_repeat: int = 50
    pairs: tuple[tuple[str, str, str], ...] = (("BTC", "USDT", "0.05"),)
    providers: tuple[str, ...] = ()  # empty: every provider the sandbox serves
    max_hops: int = 2


def load_scenarios() -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    for entry in sorted(resources.files("bench.scenarios").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            sc = msgspec.toml.decode(entry.read_bytes(), type=Scenario)
            out[sc.name] = sc
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "p99": round(percentile(values, 99), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values)}


class _Progress:
    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.enabled = sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{' ' * (width - filled)}] "
                             f"{self.done}/{self.total}")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


@contextmanager
def sandbox_process(sc: Scenario, *, no_limits: bool = True) -> Iterator[dict[str, dict[str, str]]]:
    """Run ``python -m bench.sandbox`` in its own process; yield its providers JSON."""
    cmd = [sys.executable, "-m", "bench.sandbox", "--seed", str(sc.seed),
           "--latency-ms", str(sc.latency_ms)]
    if sc.frozen:
        cmd.append("--frozen")
    if no_limits:
        cmd.append("--no-limits")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("sandbox process exited before printing its providers")
        yield json.loads(line)["providers"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


async def _latency(sc: Scenario, providers: dict[str, dict[str, str]]) -> dict[str, Any]:
    import aiohttp

    from adapters.registry import build_source, sandbox_values
    from router import Router

    durations: list[float] = []

    async def on_start(session: Any, ctx: Any, params: Any) -> None:
        ctx.t0 = time.perf_counter()

    async def on_end(session: Any, ctx: Any, params: Any) -> None:
        durations.append(time.perf_counter() - ctx.t0)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    sources = [build_source(name, {**sandbox_values(name, entry), "budget_limit": 1_000_000})
               for name, entry in providers.items() if not sc.providers or name in sc.providers]
    total, overhead = [], []
    progress = _Progress(sc.calls, f"latency {sc.name}")
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        async with Router(sources, session=session, cache=False) as router:
            await router.warm()
            for i in range(sc.warmup + sc.calls):
                sell, buy, amount = sc.pairs[i % len(sc.pairs)]
                req = router.request(sell, buy, amount, max_hops=sc.max_hops)
                durations.clear()
                t0 = time.perf_counter()
                rs = await router.run(req)
                took = time.perf_counter() - t0
                if i < sc.warmup:
                    continue
                if rs.best is None:
                    raise RuntimeError(f"no route for {sell}->{buy} {amount}: {rs.unavailable}")
                total.append(took * 1000)
                overhead.append((took - max(durations, default=0.0)) * 1000)
                progress.step()
    return {
        "quote_ms": _summary(total),
        "overhead_over_slowest_call_ms": _summary(overhead),
        "overhead_over_fixed_latency_ms": _summary([t - sc.latency_ms for t in total]),
        "provider_latency_ms": sc.latency_ms,
    }


def _parse(sc: Scenario) -> dict[str, Any]:
    from adapters.fixedfloat.feeds import parse_rates
    from bench.emulators.fixedfloat.feed import render_rates_xml, synthetic_items

    body = render_rates_xml(synthetic_items(sc.parse_items, seed=sc.seed))
    items, _skipped = parse_rates(body)
    if len(items) != sc.parse_items:
        raise RuntimeError(f"parsed {len(items)} of {sc.parse_items} items")
    times = []
    for _ in range(sc.parse_repeat):
        t0 = time.perf_counter()
        parse_rates(body)
        times.append((time.perf_counter() - t0) * 1000)
    return {"items": sc.parse_items, "bytes": len(body), "parse_ms": _summary(times)}


def _machine() -> dict[str, Any]:
    versions = {}
    for dist in ("bestrate", "aiohttp", "msgspec", "orjson", "uvloop"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "machine": platform.machine(), "versions": versions}


def _report(sc: Scenario, results: dict[str, Any]) -> str:
    lat, parse = results["latency"], results["parse"]
    rows = [
        ("quote latency (ms)", lat["quote_ms"]),
        ("overhead over slowest provider call (ms)", lat["overhead_over_slowest_call_ms"]),
        (f"overhead over the fixed {sc.latency_ms:g} ms (ms)", lat["overhead_over_fixed_latency_ms"]),
        (f"parse {parse['items']}-item rates file (ms)", parse["parse_ms"]),
    ]
    lines = [f"# bestrate bench: {sc.name}", "", sc.description, "",
             f"seed {sc.seed}, frozen {sc.frozen}, {sc.calls} calls after {sc.warmup} warm-up, "
             f"{results['machine']['cpus']} CPUs, Python {results['machine']['python']}", "",
             "| figure | p50 | p95 | p99 | min | max | n |", "|---|---|---|---|---|---|---|"]
    for label, s in rows:
        lines.append(f"| {label} | {s['p50']} | {s['p95']} | {s['p99']} | {s['min']} | {s['max']} | {s['n']} |")
    lines += ["", f"Reproduce: `bestrate bench --scenario {sc.name}`", ""]
    return "\n".join(lines)


def _batch_report(sc: Scenario, results: dict[str, Any]) -> str:
    b = results["batch"]
    lines = [f"# bestrate bench: {sc.name}", "", sc.description, "",
             f"seed {sc.seed}, frozen {sc.frozen}, {b['queries']} queries over {b['distinct']} "
             f"distinct (pair, amount), {results['machine']['cpus']} CPUs", "",
             "| run | answered | firm answers | wall s | regret median bp | p95 bp | max bp | same route as oracle |",
             "|---|---|---|---|---|---|---|---|"]
    for label, key in (("bestrate", "bestrate"), ("indicative only", "indicative_only")):
        r = b[key]
        wall = b["wall_s"] if key == "bestrate" else r["wall_s"]
        lines.append(f"| {label} | {r['answered']} | {r['firm_answers']} | {wall} | "
                     f"{r['regret_bp']['median']} | {r['regret_bp']['p95']} | {r['regret_bp']['max']} | "
                     f"{r['same_route_as_oracle']} |")
    n = b["firm_everything"]
    lines += ["", f"Baseline firm-quote everything under the same budgets: in bestrate's "
              f"{n['seconds']} s it answers {n['answered_in_time']} of {b['distinct']} distinct "
              f"queries ({n['firm_in_time']} with a firm best route); quoting every provider on "
              f"every distinct query took {n['oracle_units']} units (the oracle), which the default "
              f"budgets allow in {n['minutes_needed']} minutes.", "",
              "Emulators after the bestrate run (the limited sandbox):", "",
              "| provider | units (bestrate) | emulator units | rate_limited | blocks |",
              "|---|---|---|---|---|"]
    for name, st in sorted(results["emulators"].items()):
        lines.append(f"| {name} | {b['units'].get(name, 0)} | {st['units']} | {st['rate_limited']} | "
                     f"{st['blocks']} |")
    lines += ["", f"Reproduce: `bestrate bench --scenario {sc.name}`", ""]
    return "\n".join(lines)


def run_bench(args: argparse.Namespace) -> int:
    from router.errors import InvalidRequest

    scenarios = load_scenarios()
    if getattr(args, "list", False):
        for sc in scenarios.values():
            print(f"{sc.name:<12} {sc.description}")
        return 0
    sc = scenarios.get(args.scenario)
    if sc is None:
        raise InvalidRequest("--scenario", f"unknown scenario {args.scenario!r}", ", ".join(scenarios))
    if getattr(args, "calls", None):
        sc = msgspec.structs.replace(sc, calls=int(args.calls))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results: dict[str, Any] = {"scenario": msgspec.to_builtins(sc), "seed": sc.seed,
                               "started_at": started, "machine": _machine()}
    if sc.kind == "batch":
        from .batchbench import run_batch

        with sandbox_process(sc, no_limits=False) as limited, \
                sandbox_process(sc, no_limits=True) as unlimited:
            results["batch"] = run_batch(sc, limited, unlimited, sc.queries, sc.distinct)
            results["emulators"] = results["batch"].pop("emulators_after_bestrate")
        results["wall_s"] = round(time.time() - started, 3)
        report = _batch_report(sc, results)
    else:
        with sandbox_process(sc) as providers:
            results["latency"] = asyncio.run(_latency(sc, providers))
        results["parse"] = _parse(sc)
        results["wall_s"] = round(time.time() - started, 3)
        report = _report(sc, results)
    (out / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    (out / "report.md").write_text(report)
    print("\n".join(line for line in report.splitlines() if line.startswith("|")))
    print(f"wrote {out / 'results.json'} and {out / 'report.md'}")
    return 0
