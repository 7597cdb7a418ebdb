"""``report.md`` and the headline table: the figures of ``results.json`` as tables a person reads.

Baselines are shown as ``value (ratio)`` where ratio = baseline / bestrate: for latencies and
calls, 3.0x means the baseline takes three times as long (or calls three times as often); for
throughput and shares, 0.5x means it gets half.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .scenario import Scenario
from .workloads.common import ratio as _ratio

__all__ = ["headline", "render_report"]

_TARGETS = {"overhead": "p50 < 3 ms, p99 < 10 ms", "throughput": ">= 500 quotes/s (5 providers, 0 ms)",
            "coalesce": "1 call per provider market"}


def _n(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _x(r: Any) -> str:
    return "" if r is None else f" ({r:g}x)"


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _run(conc: Mapping[str, Any], mode: str, callers: int | None = None) -> Mapping[str, Any] | None:
    runs = [r for r in conc.get("runs", []) if r["mode"] == mode
            and (callers is None or r["callers"] == callers)]
    return max(runs, key=lambda r: r["callers"]) if runs else None


def _headline_rows(sc: Scenario, res: Mapping[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    lat = res.get("latency")
    if lat:
        q, o = lat["bestrate"]["quote_ms"], lat["bestrate"]["overhead_over_slowest_call_ms"]
        base = lat.get("baselines", {})
        cells = []
        for key in ("sequential", "parallel"):
            b = base.get(key, {})
            cells.append(f"{_n(b['quote_ms'].get('p50'))}{_x(b['ratio_to_bestrate']['p50'])} / "
                         f"{_n(b['quote_ms'].get('p99'))}{_x(b['ratio_to_bestrate']['p99'])}"
                         if "quote_ms" in b else "-")
        ff = base.get("fixedfloatapi", {})
        ffa = res["latency"].get("fixedfloat_alone")
        rows.append([f"quote() p50 / p99, ms ({_providers(sc, res)})",
                     f"{_n(q.get('p50'))} / {_n(q.get('p99'))}", *cells, "-", ""])
        rows.append(["overhead over the slowest provider call p50 / p99, ms",
                     f"{_n(o.get('p50'))} / {_n(o.get('p99'))}", "-", "-", "-", _TARGETS["overhead"]])
        if ffa and "price_ms" in ff:
            rows.append(["FixedFloat alone: p50, ms (bestrate quote vs the PyPI client's price)",
                         _n(ffa["quote_ms"]["p50"]), "-", "-",
                         f"{_n(ff['price_ms']['p50'])}{_x(ff['ratio_p50_to_bestrate_ff'])}", ""])
    conc = res.get("concurrency")
    if conc:
        base = conc.get("baselines", [])
        for mode in ("distinct", "identical"):
            r = _run(conc, mode)
            if r is None:
                continue
            cells = []
            for label in ("sequential", "parallel"):
                b = next((b for b in base if b["client"] == label and b["mode"] == mode), None)
                rr = b.get("ratio_to_bestrate", {}) if b else {}
                cells.append(f"{_n(b['quotes_per_s'], 1)}{_x(rr.get('quotes_per_s'))}"
                             f" @{b['callers']}" if b else "-")
            ours = _run(conc, mode, base[0]["callers"]) if base else None
            extra = f" (@{ours['callers']}: {_n(ours['quotes_per_s'], 1)})" if ours and ours is not r else ""
            rows.append([f"throughput, {r['callers']:,} concurrent {mode} callers, quotes/s",
                         f"{_n(r['quotes_per_s'], 1)}{extra}", *cells, "-",
                         _TARGETS["throughput"] if mode == "distinct" else ""])
            if mode == "identical":
                calls = sum(r["provider_calls"].values())
                cells = []
                for label in ("sequential", "parallel"):
                    b = next((b for b in base if b["client"] == label and b["mode"] == mode), None)
                    cells.append(f"{_n(b['calls_per_quote'])} per quote" if b else "-")
                verdict = "yes" if r.get("coalesced") else "NO"
                rows.append([f"provider calls for {r['callers']:,} identical quotes",
                             f"{calls} = one quote's ({verdict})", *cells, "-", _TARGETS["coalesce"]])
    batch = res.get("batch")
    if batch:
        ours, ind = batch["bestrate"], batch["indicative_only"]
        rows.append([f"batch regret p95, bp (indicative only: {_n(ind['regret_bp']['p95'])} bp)",
                     _n(ours["regret_bp"]["p95"]), "-", "-", "-", ""])
        n = batch["firm_everything"]
        rows.append([f"batch: distinct queries answered firmly in bestrate's {n['seconds']} s "
                     "(sequential: a firm quote() per query, same budgets)",
                     f"{ours['firm_answers_distinct']} of {batch['distinct']}"
                     if "firm_answers_distinct" in ours else f"{batch['distinct']} answered",
                     f"{n['firm_in_time']}{_x(_ratio(n['firm_in_time'], ours.get('firm_answers_distinct')))}",
                     "-", "-", ""])
    faults = res.get("faults")
    if faults:
        b = faults.get("baselines", {}).get("parallel")
        cell = (f"{_pct(b['best_healthy_within_deadline'])}"
                f"{_x(b['ratio_to_bestrate']['best_healthy_within_deadline'])}") if b else "-"
        rows.append([f"best healthy route within {faults['deadline_s']:g} s ({faults['profile']})",
                     _pct(faults["best_healthy_within_deadline"]), "-", cell, "-", ""])
    eng = res.get("engine")
    if eng:
        ratio = eng["ratio_to_floor"]
        rows.append([f"client CPU per quote, ms ({eng['quotes']} sequential distinct quotes; floor: "
                     f"{eng['provider_calls_per_quote']} calls x {_n(eng['post_cpu_ms'], 3)} ms "
                     "per bare signed POST)",
                     f"{_n(eng['cpu_ms_per_quote'])} = {_n(ratio)}x the floor "
                     f"({_n(eng['floor_ms_per_quote'])})", "-", "-", "-",
                     "<= 2x the floor: " + ("met" if ratio is not None and ratio <= 2 else "missed")])
        snaps = eng.get("snapshots")
        if snaps:
            rows.append(["graph snapshots during the sequential quotes: built in full / patched",
                         f"{snaps['built']} / {snaps['patched']}", "-", "-", "-", ""])
        rows.append(["engine CPU per quote with every provider answer cached, ms",
                     _n(eng["cached_cpu_ms_per_quote"]), "-", "-", "-", ""])
        rows.append(["longest event-loop stall during the sequential quotes, ms",
                     _n(eng["longest_stall_ms"]), "-", "-", "-",
                     "< 5 ms: " + ("met" if eng["longest_stall_ms"] < 5 else "missed")])
        fr = eng.get("gc_frozen")
        if fr:
            rows.append(["... the same, warmed with freeze_gc=True: CPU per quote / longest stall, ms",
                         f"{_n(fr['cpu_ms_per_quote'])} / {_n(fr['longest_stall_ms'])}", "-", "-",
                         "-", "stall < 5 ms: " + ("met" if fr["longest_stall_ms"] < 5 else "missed")])
        ov = eng.get("overload")
        if ov:
            lat = ov["latency_ms"]
            rows.append([f"{ov['callers']:,} concurrent quotes, {ov['deadline_s']:g} s deadline, one "
                         "process: within deadline + 50 ms (p50 / p99 / max ms; with a route)",
                         f"{ov['within_deadline_50ms']:,} ({_n(lat.get('p50'), 0)} / "
                         f"{_n(lat.get('p99'), 0)} / {_n(lat.get('max'), 0)}; {ov['with_a_route']:,})",
                         "-", "-", "-", "every one: " + (
                             "met" if ov["within_deadline_50ms"] == ov["callers"] else "missed")])
    chaos = res.get("chaos")
    if chaos:
        lat = chaos["latency_ms"]
        limit = (chaos["deadline_s"] * 1000) + 50
        rows.append([f"chaos: {chaos['calls']:,} quotes, {chaos['concurrency']} concurrent, "
                     f"p50 / p99 / max ms (deadline {chaos['deadline_s'] * 1000:g} ms)",
                     f"{_n(lat.get('p50'))} / {_n(lat.get('p99'))} / {_n(lat.get('max'))}",
                     "-", "-", "-", f"p99 <= {limit:g} ms: "
                     + ("met" if lat.get("p99", 0) <= limit else "missed")])
    return rows


def _providers(sc: Scenario, res: Mapping[str, Any]) -> str:
    names = sc.providers or ("all five",)
    lat = sc.sandbox.latency_profile or f"{sc.sandbox.latency_ms:g} ms"
    return f"{', '.join(names)} at {lat}"


def headline(sc: Scenario, res: Mapping[str, Any]) -> str:
    """The headline table (markdown, also printed to the terminal)."""
    rows = _headline_rows(sc, res)
    if not rows:
        return _providers_table(res) if res.get("providers") else f"{sc.name}: no headline figures"
    return "\n".join(_table(["figure", "bestrate", "sequential client", "naive parallel client",
                             "fixedfloatapi", "target"], rows))


def _providers_table(res: Mapping[str, Any]) -> str:
    p = res["providers"]
    rows = []
    for row in p["comparison"]:
        best = row["best"] or {}
        rows.append([row["pair"], row["amount"], row["provider"], best.get("amount_out", "-"),
                     best.get("kind", "-"), "+".join(best.get("providers", [])) or "-",
                     _n(row["latency_ms"].get("p50")), ", ".join(row["left_out"]) or ""])
    lines = _table(["pair", "amount", "asked", "best amount out", "kind", "route", "p50 ms",
                    "left out"], rows)
    lines += ["", "| provider | units spent | of which warm-up | hard cap |", "|---|---|---|---|"]
    lines += [f"| {n} | {p['units_spent'][n]} | {p['units_warmup'][n]} | {c} |"
              for n, c in p["caps"].items()]
    return "\n".join(lines)


def _summary_rows(items: Sequence[tuple[str, Mapping[str, Any] | None]]) -> list[list[Any]]:
    return [[label, *(_n(s.get(k)) for k in ("p50", "p95", "p99", "max")), s.get("n", 0)]
            for label, s in items if s]


def _latency_section(sc: Scenario, lat: Mapping[str, Any]) -> list[str]:
    b = lat["bestrate"]
    lines = ["## Embedded quote latency", "",
             f"{sc.latency.calls} quotes one at a time over {len(sc.latency.pairs)} pairs after "
             f"{sc.latency.warmup} warm-up, firm-quote cache {'on' if sc.latency.cache else 'off'}, "
             f"up to {sc.latency.max_hops} legs, deadline {sc.latency.deadline:g} s "
             f"({b.get('deadline_hits', 0)} quotes answered at the deadline with a call still out). "
             "Overhead = quote time less the slowest HTTP exchange of that quote (aiohttp trace "
             "hooks): the router's own work; quotes cut by the deadline are left out of it.", ""]
    items = [("bestrate quote() (ms)", b["quote_ms"]),
             ("overhead over the slowest provider call (ms)", b["overhead_over_slowest_call_ms"]),
             ("overhead over the fixed latency (ms)", b.get("overhead_over_fixed_latency_ms"))]
    items += [(f"{n} HTTP exchange (ms)", s) for n, s in lat["provider_call_ms"].items()]
    lines += _table(["figure", "p50", "p95", "p99", "max", "n"], _summary_rows(items))
    rows = []
    for label, v in lat.get("baselines", {}).items():
        if "quote_ms" in v:
            r = v["ratio_to_bestrate"]
            rows.append([label, *(f"{_n(v['quote_ms'][k])}{_x(r[k])}" for k in ("p50", "p95", "p99")),
                         v["calls_per_quote"], v["errors"]])
        elif "price_ms" in v:
            ff = lat["fixedfloat_alone"]["quote_ms"]
            rows.append([f"fixedfloatapi price() vs bestrate on FixedFloat alone ({_n(ff['p50'])} ms p50)",
                         f"{_n(v['price_ms']['p50'])}{_x(v['ratio_p50_to_bestrate_ff'])}",
                         _n(v["price_ms"]["p95"]), _n(v["price_ms"]["p99"]), 1, v["failed"]])
        else:
            rows.append([label, v.get("skipped", "-"), "", "", "", ""])
    if rows:
        lines += ["", "Baselines on the same sources and pairs (ratio = baseline / bestrate):", ""]
        lines += _table(["client", "p50 ms", "p95 ms", "p99 ms", "calls per quote", "errors"], rows)
    return lines + ["", "![latency](latency.png)", ""]


def _concurrency_section(sc: Scenario, conc: Mapping[str, Any]) -> list[str]:
    lines = ["## Concurrency", "",
             f"N callers at once, every provider at {sc.concurrency.latency_ms:g} ms; a fresh router "
             "per run. Provider calls are the emulators' own request counters.", ""]
    rows = []
    for r in conc["runs"]:
        calls = ", ".join(f"{n} {c}" for n, c in r["provider_calls"].items() if c)
        rows.append([r["mode"], r["callers"], _n(r["quotes_per_s"], 1), _n(r["quote_ms"]["p50"]),
                     _n(r["quote_ms"]["p99"]), r["calls_per_quote"], calls or "none",
                     {True: "yes", False: "NO"}.get(r.get("coalesced"), ""), _n(r["gc_s"])])
    lines += _table(["requests", "callers", "quotes/s", "p50 ms", "p99 ms", "calls/quote",
                     "provider calls", "= one quote's calls", "GC s"], rows)
    if conc.get("one_quote_calls") is not None:
        lines += ["", f"One quote of {' '.join(sc.concurrency.identical)} alone calls: "
                  + (", ".join(f"{n} {c}" for n, c in conc["one_quote_calls"].items() if c) or "none")]
    rows = []
    for b in conc.get("baselines", []):
        r = b.get("ratio_to_bestrate", {})
        rows.append([b["client"], b["mode"], b["callers"],
                     f"{_n(b['quotes_per_s'], 1)}{_x(r.get('quotes_per_s'))}",
                     f"{_n(b['quote_ms']['p50'])}{_x(r.get('p50_ms'))}",
                     f"{b['calls_per_quote']}{_x(r.get('calls_per_quote'))}", b["errors"]])
    if rows:
        lines += ["", "Baselines (ratio = baseline / bestrate at the same callers):", ""]
        lines += _table(["client", "requests", "callers", "quotes/s", "p50 ms", "calls/quote",
                         "errors"], rows)
    hs = conc.get("hotspots")
    if hs:
        lines += ["", f"### Where the time goes ({hs['callers']:,} concurrent {hs['mode']} callers, "
                  f"cProfile: {hs['profiled_s']} s profiled)", "",
                  "The run is repeated under cProfile with the garbage collector paused (its "
                  "pauses would land on whichever function allocated last); GC time is the "
                  "`GC s` column above. Provider calls during the profiled run (slower, so "
                  "more hedged or retried calls): "
                  + (", ".join(f"{n} {c}" for n, c in hs.get("provider_calls", {}).items() if c)
                     or "none") + ".", "",
                  "By own time (every function):", ""]
        lines += _table(["function", "calls", "own s", "share", "cumulative s"],
                        [[f"`{e['function']}`", f"{e['calls']:,}", e["self_s"], _pct(e["self_share"]),
                          e["cumulative_s"]] for e in hs["self"]])
        lines += ["", "By cumulative time (router and adapters):", ""]
        lines += _table(["function", "calls", "cumulative s", "own s"],
                        [[f"`{e['function']}`", f"{e['calls']:,}", e["cumulative_s"], e["self_s"]]
                         for e in hs["cumulative"]])
    return lines + [""]


def _batch_section(sc: Scenario, res: Mapping[str, Any]) -> list[str]:
    b = res["batch"]
    lines = ["## Batch", "", f"{b['queries']} queries over {b['distinct']} distinct (pair, amount) "
             "within every provider's budget, scored against an oracle that firm-quotes every "
             "provider on every distinct query (a second sandbox without limits).", ""]
    rows = []
    for label, key in (("bestrate", "bestrate"), ("indicative only", "indicative_only")):
        r = b[key]
        wall = b["wall_s"] if key == "bestrate" else r["wall_s"]
        rows.append([label, r["answered"], r["firm_answers"], wall, r["regret_bp"]["median"],
                     r["regret_bp"]["p95"], r["regret_bp"]["max"], r["same_route_as_oracle"]])
    lines += _table(["run", "answered", "firm answers", "wall s", "regret median bp", "p95 bp",
                     "max bp", "same route as oracle"], rows)
    n = b["firm_everything"]
    lines += ["", f"Baseline firm-quote everything under the same budgets: in bestrate's "
              f"{n['seconds']} s it answers {n['answered_in_time']} of {b['distinct']} distinct "
              f"queries ({n['firm_in_time']} with a firm best route); quoting every provider on "
              f"every distinct query took {n['oracle_units']} units (the oracle), which the default "
              f"budgets allow in {n['minutes_needed']} minutes.", "",
              "Emulators after the bestrate run (the limited sandbox):", ""]
    lines += _table(["provider", "units (bestrate)", "emulator units", "rate_limited", "blocks"],
                    [[n, b["units"].get(n, 0), st["units"], st["rate_limited"], st["blocks"]]
                     for n, st in sorted(res["emulators"].items())])
    return lines + ["", "![regret](regret.png)", ""]


def _faults_section(f: Mapping[str, Any]) -> list[str]:
    lines = ["## Faults", "", f"Fault profile `{f['profile']}`, deadline {f['deadline_s']:g} s, "
             f"{f['quotes']} quotes one at a time. A quote scores when it returns, within the "
             "deadline, the route a fault-free sandbox with the same seed values best among the "
             "providers that stayed healthy during that quote (those bestrate did not report "
             "failing; for the baseline, those that answered it).", ""]
    rows = [["bestrate", _pct(f["best_healthy_within_deadline"]), _pct(f["within_deadline"]),
             _n(f["quote_ms"].get("p50")), _n(f["quote_ms"].get("p99")), _n(f["quote_ms"].get("max"))]]
    b = f.get("baselines", {}).get("parallel")
    if b:
        r = b["ratio_to_bestrate"]
        rows.append(["naive parallel client",
                     f"{_pct(b['best_healthy_within_deadline'])}{_x(r['best_healthy_within_deadline'])}",
                     _pct(b["within_deadline"]), f"{_n(b['quote_ms'].get('p50'))}{_x(r['p50_ms'])}",
                     f"{_n(b['quote_ms'].get('p99'))}{_x(r['p99_ms'])}", _n(b["quote_ms"].get("max"))])
    lines += _table(["client", "best healthy route in time", "answered in time", "p50 ms",
                     "p99 ms", "max ms"], rows)
    inj = ", ".join(f"{n} {c}" for n, c in f["faults_injected"].items()) or "none reported"
    fail = ", ".join(f"{n} {c}" for n, c in f["failing_quotes_per_provider"].items()) or "none"
    lines += ["", f"Faults the sandbox injected (its counters): {inj}. Quotes in which bestrate "
              f"reported each provider failing: {fail}. Quotes with no healthy route: "
              f"{f['quotes_without_a_healthy_route']}.", ""]
    if f.get("misses"):
        lines += _table(["why a quote missed", "quotes"], [[k, v] for k, v in f["misses"].items()])
        lines.append("")
    if f.get("router_reasons"):
        lines += _table(["provider and reason bestrate reported", "quotes"],
                        [[k, v] for k, v in f["router_reasons"].items()])
        lines.append("")
    return lines


def _chaos_section(c: Mapping[str, Any]) -> list[str]:
    lat = c["latency_ms"]
    inj = ", ".join(f"{n} {k}" for n, k in c["faults_injected"].items()) or "none reported"
    rows = [["calls answered", f"{c['answered']:,} of {c['calls']:,}"],
            ["within deadline + 50 ms (caller's clock)", f"{c['answers_within_deadline_50ms']:,}"],
            ["latency p50 / p99 / max, ms", f"{_n(lat.get('p50'))} / {_n(lat.get('p99'))} / "
                                            f"{_n(lat.get('max'))}"],
            [f"answers later than deadline + {c['grace_ms']:g} ms by their own elapsed_ms",
             f"{c['late_by_own_clock']:,} (slowest {_n(c['own_elapsed_max_ms'])} ms)"],
            ["unhandled exceptions", str(c["unhandled_exceptions"])],
            ["wrong winners (against a fault-free sandbox, same seed)", str(c["wrong_winners"])],
            ["budget overruns (emulators' rate_limited + blocks)", str(c["budget_overruns"])],
            ["faults injected", f"{c['faults_injected_total']} of "
                                f"{sum(c['provider_requests'].values())} provider requests: {inj}"],
            ["hedges", f"{c['hedges']['fired']} fired ({c['hedges']['won']} won), "
                       f"{c['hedges']['retried']} retries after a transient failure"]]
    return ["## Chaos", "", f"Profile {c['profile']}; seed {c['seed']}, deadline "
            f"{c['deadline_s']:g} s, {c['concurrency']} concurrent, a batch every {c['pace_s']:g} s; "
            f"wall {c['wall_s']} s. The real-clock latency depends on the machine's load; the test "
            "suite asserts the rest on a virtual clock.", "",
            *_table(["figure", "value"], rows), ""]


def render_report(sc: Scenario, res: Mapping[str, Any], charts: Sequence[str]) -> str:
    m = res["machine"]
    lines = [f"# bestrate bench: {sc.name}", "", sc.description, "",
             f"Mode {res['mode']}; seed {sc.seed}, frozen {sc.frozen}; sandbox latency "
             f"{sc.sandbox.latency_profile or f'{sc.sandbox.latency_ms:g} ms fixed'}; "
             f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['event_loop']}; "
             f"wall {res['wall_s']} s.", "", "## Headline", "",
             "Ratios are baseline / bestrate (latency 3x: three times as slow; throughput 0.5x: "
             "half as many).", "", headline(sc, res), ""]
    if "latency" in res:
        lines += _latency_section(sc, res["latency"])
    if "concurrency" in res:
        lines += _concurrency_section(sc, res["concurrency"])
    if "batch" in res:
        lines += _batch_section(sc, res)
    if "faults" in res:
        lines += _faults_section(res["faults"])
    if "chaos" in res:
        lines += _chaos_section(res["chaos"])
    if "parse" in res:
        p = res["parse"]
        lines += ["## Rates-file parse", ""]
        lines += _table(["figure", "p50", "p95", "p99", "max", "n"],
                        _summary_rows([(f"parse {p['items']}-item rates file, {p['bytes']:,} bytes (ms)",
                                        p["parse_ms"])]))
        lines.append("")
    if "providers" in res and _headline_rows(sc, res):
        lines += ["## Providers", "", _providers_table(res), ""]
    if "budget.png" in charts:
        lines += ["## Budget use over time", "", "Units per provider per second, read from "
                  "every emulator's `/_sandbox/stats` during the run:", "", "![budget](budget.png)", ""]
    lines += [f"Reproduce: `{res['command']}`", ""]
    return "\n".join(line for line in lines
                     if not (line.startswith("![") and line[line.index("(") + 1:-1] not in charts))
