"""``bestrate bench``: named scenarios (TOML data in ``bench/scenarios/``), workloads, reports.

Each workload runs against its own sandbox in its own process (``python -m bench.sandbox``), so
that measuring the router does not share an event loop, or a core, with emulating the providers:

* ``latency``: embedded quote latency and the router's overhead (bench/workloads/latency.py);
* ``concurrency``: 100 and 1,000 concurrent callers, distinct and identical requests;
* ``batch``: ``quote_many`` within budgets against an oracle (bench/batchbench.py);
* ``faults``: the best healthy route within the deadline under a fault profile;
* ``engine``: client CPU per quote against the floor of its own HTTP calls, loop stalls;
* ``chaos``: thousands of concurrent quotes under every fault kind, on the real clock: the
  latency distribution a loaded machine shows (bench/workloads/chaos.py);
* ``parse``: the rates-file parse; ``providers``: the provider comparison (``--live`` too).

Each writes its figures into ``results.json`` (with the machine, versions, scenario and seed),
``report.md`` (tables, baselines as ratios) and PNG charts; the headline table goes to stdout and
a progress bar to stderr when it is a terminal. ``python -m bench`` is the same command.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import orjson

from .measure import StatsSampler, emulator_stats, machine, percentile
from .scenario import Scenario, load_scenarios

__all__ = ["Scenario", "add_bench_arguments", "load_scenarios", "main", "percentile", "run_bench",
           "sandbox_process"]


@contextmanager
def sandbox_process(sc: Scenario, *, no_limits: bool = True, latency_ms: float | None = None,
                    latency_profile: str | None = None,
                    faults: str | None = None) -> Iterator[dict[str, dict[str, str]]]:
    """Run ``python -m bench.sandbox`` in its own process; yield its providers JSON.

    Latency defaults to the scenario's ``[sandbox]`` table; ``faults`` is off unless named."""
    latency_ms = sc.sandbox.latency_ms if latency_ms is None else latency_ms
    profile = sc.sandbox.latency_profile if latency_profile is None else latency_profile
    cmd = [sys.executable, "-m", "bench.sandbox", "--seed", str(sc.seed),
           "--latency-ms", str(latency_ms)]
    if profile:
        cmd += ["--latency-profile", profile]
    if faults:
        cmd += ["--faults", faults]
    if sc.frozen:
        cmd.append("--frozen")
    if no_limits:
        cmd.append("--no-limits")
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                proc.wait(timeout=10)
                errors.seek(0)
                tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
                raise RuntimeError(f"sandbox process exited ({' '.join(cmd[2:])}): "
                                   f"{tail[0] if tail else 'no message'}")
            yield json.loads(line)["providers"]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _split_series(figures: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    series = figures.pop("_series", None)
    return figures, series


def _run_workloads(sc: Scenario, args: argparse.Namespace, sampler: StatsSampler,
                   results: dict[str, Any], series: dict[str, Any]) -> None:
    for name in sc.workloads:
        t0 = time.perf_counter()
        if name == "latency":
            from .workloads.latency import run_latency

            with sandbox_process(sc) as providers, sampler.watching("latency", providers):
                results["latency"], series["latency"] = _split_series(run_latency(sc, providers))
        elif name == "concurrency":
            from .workloads.concurrency import run_concurrency

            with sandbox_process(sc, latency_ms=sc.concurrency.latency_ms, latency_profile="") \
                    as providers, sampler.watching("concurrency", providers):
                results["concurrency"] = run_concurrency(sc, providers)
        elif name == "batch":
            from .batchbench import run_batch

            with sandbox_process(sc, no_limits=False, latency_ms=0, latency_profile="") as limited, \
                    sandbox_process(sc, latency_ms=0, latency_profile="") as unlimited, \
                    sampler.watching("batch", limited):
                results["batch"] = run_batch(sc, limited, unlimited, sc.batch.queries,
                                             sc.batch.distinct)
                results["emulators"] = results["batch"].pop("emulators_after_bestrate")
        elif name == "faults":
            from .workloads.faults import run_faults

            w = sc.faults
            with sandbox_process(sc, latency_ms=w.latency_ms, latency_profile=w.latency_profile or None,
                                 faults=w.profile) as faulty, \
                    sandbox_process(sc, latency_ms=0, latency_profile="") as clean, \
                    sampler.watching("faults", faulty):
                results["faults"], series["faults"] = _split_series(run_faults(sc, faulty, clean))
        elif name == "engine":
            from .workloads.engine import run_engine

            with sandbox_process(sc, latency_ms=0, latency_profile="") as providers:
                results["engine"] = run_engine(sc, providers)
        elif name == "chaos":  # in process: the oracle reads the emulators' own counters
            from .runloop import run
            from .workloads.chaos import run_chaos

            c = sc.chaos
            figures = run(run_chaos(c.calls, deadline=c.deadline, concurrency=c.concurrency,
                                    pace=c.pace, seed=c.seed))
            results["chaos"] = {k: v for k, v in figures.items() if not k.endswith("_detail")}
        elif name == "parse":
            from .workloads.parse import run_parse

            results["parse"] = run_parse(sc)
        elif name == "providers":
            results["providers"] = _providers(sc, args, sampler)
        results.setdefault("workload_s", {})[name] = round(time.perf_counter() - t0, 3)


def _providers(sc: Scenario, args: argparse.Namespace, sampler: StatsSampler) -> dict[str, Any]:
    from . import live
    from .runloop import run

    if getattr(args, "live", False):
        sources, caps = live.live_sources(sc, getattr(args, "config", None) or "bestrate.toml")
        live.announce(caps, sc, "live")
        return run(live.compare_providers(sc, sources, caps))
    with sandbox_process(sc, no_limits=False) as providers, sampler.watching("providers", providers):
        sources, caps = live.sandbox_capped_sources(sc, providers)
        live.announce(caps, sc, "sandbox")
        out = run(live.compare_providers(sc, sources, caps))
        out["emulators"] = emulator_stats(providers)
        return out


def run_bench(args: argparse.Namespace) -> int:
    from router.errors import InvalidRequest

    from .report import headline, render_report
    from .runloop import LOOP

    scenarios = load_scenarios()
    if getattr(args, "list", False):
        for each in scenarios.values():
            print(f"{each.name:<14} {each.description}  [{', '.join(each.workloads)}]")
        return 0
    sc = scenarios.get(args.scenario)
    if sc is None:
        raise InvalidRequest("--scenario", f"unknown scenario {args.scenario!r}", ", ".join(scenarios))
    live = bool(getattr(args, "live", False))
    if live and "providers" not in sc.workloads:
        raise InvalidRequest("--live", f"scenario {sc.name!r} does not compare live providers",
                             ", ".join(n for n, s in scenarios.items() if "providers" in s.workloads))
    if live:
        sc = msgspec.structs.replace(sc, workloads=("providers",))
    if getattr(args, "calls", None):
        sc = msgspec.structs.replace(sc, latency=msgspec.structs.replace(sc.latency, calls=int(args.calls)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results: dict[str, Any] = {
        "scenario": msgspec.to_builtins(sc), "seed": sc.seed, "mode": "live" if live else "sandbox",
        "started_at": _dt.datetime.fromtimestamp(started, _dt.UTC).isoformat(),
        "machine": {**machine(), "event_loop": LOOP},
        "command": " ".join(["bestrate", "bench", *_argv(args)]),
    }
    series: dict[str, Any] = {}
    with StatsSampler() as sampler:
        _run_workloads(sc, args, sampler, results, series)
    results["budget_samples"] = {"interval_s": sampler.interval, "phases": sampler.phases,
                                 "rows": sampler.samples}
    results["wall_s"] = round(time.time() - started, 3)
    charts = _charts(sc, results, series, out)
    results["charts"] = charts
    (out / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    (out / "report.md").write_text(render_report(sc, results, charts))
    print(headline(sc, results))
    print(f"wrote {out / 'results.json'}, {out / 'report.md'}"
          + (f" and {len(charts)} chart(s)" if charts else ""))
    return 0


def _charts(sc: Scenario, results: Mapping[str, Any], series: Mapping[str, Any], out: Path) -> list[str]:
    try:
        from .charts import draw_all
    except ImportError as exc:  # matplotlib missing: the figures stand without their pictures
        print(f"bestrate bench: no charts ({exc.name} is not installed; pip install "
              "'bestrate[bench]')", file=sys.stderr)
        return []
    return draw_all(sc, results, series, out)


def _argv(args: argparse.Namespace) -> list[str]:
    out = ["--scenario", str(args.scenario), "--out", str(args.out)]
    if getattr(args, "live", False):
        out.append("--live")
    return out


def add_bench_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``bestrate bench`` options (the CLI's ``bench`` subcommand takes the same)."""
    parser.add_argument("--scenario", default="latency", help="scenario name (see --list)")
    parser.add_argument("--out", default="bench-out", help="directory for results and charts")
    parser.add_argument("--list", action="store_true", help="list scenarios")
    parser.add_argument("--calls", type=int, default=None, help="override the latency call count")
    parser.add_argument("--live", action="store_true",
                        help="compare the configured live providers, within a hard cap of units")
    parser.add_argument("--config", default="bestrate.toml", help="TOML config (for --live)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench [options]``: the same as ``bestrate bench``."""
    from router.errors import BestrateError

    args = add_bench_arguments(argparse.ArgumentParser(prog="bestrate bench")).parse_args(argv)
    try:
        return run_bench(args)
    except BestrateError as exc:
        print(f"bestrate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

