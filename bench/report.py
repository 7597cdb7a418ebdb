"""``report.md`` and the headline table: the figures of ``results.json`` as tables a person reads.

Every comparison with a baseline is said in words from bestrate's side ("bestrate 3.9× slower",
"2.1× fewer calls"), and every figure with a target says in its own row whether it was met.
:func:`figures` is the one list of headline figures: the terminal's headline table, the report's,
and the summary of a whole ``make bench`` (``python -m bench.summary``, which the README's
benchmark section is regenerated from) all render it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .scenario import Scenario

__all__ = ["HEADER", "Figure", "against", "compare", "figures", "headline", "provider_comparison",
           "render_report", "target_cell", "verdict"]

BASELINES = {"sequential": "sequential client", "parallel": "naive parallel client",
             "fixedfloatapi": "fixedfloatapi", "firm_everything": "firm-quote-everything batch",
             "indicative": "indicative only"}
COST_BP_MISSING = "n/a (cost_bp not available)"


@dataclass(slots=True)
class Figure:
    """One headline figure: bestrate's value, each baseline's (with the comparison in words),
    and the target with its verdict (``met`` / ``missed``; empty when there is no target)."""

    label: str
    bestrate: str
    baselines: dict[str, str] = field(default_factory=dict)
    target: str = ""
    verdict: str = ""


def verdict(ok: bool | None) -> str:
    """``met``, ``missed`` or ``not measured``."""
    return "not measured" if ok is None else ("met" if ok else "missed")


def _n(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _factor(a: float, b: float) -> str:
    f = max(a, b) / min(a, b)
    return f"{f:.1f}×" if f < 10 else f"{f:,.0f}×"


#: words for (bestrate better, bestrate worse), by what the figure measures
_WORDS = {"time": ("faster", "slower"), "rate": ("higher", "lower"), "calls": ("fewer calls", "more calls"),
          "share": ("more often", "less often"), "count": ("more", "fewer"),
          "bp": ("lower", "higher")}
_LOWER_IS_BETTER = {"time", "calls", "bp"}


def compare(ours: float | None, theirs: float | None, kind: str) -> str:
    """bestrate against a baseline, in words: ``bestrate 3.9× slower``, ``2.1× fewer calls``,
    ``about the same`` (within 5 %); empty when either figure is missing."""
    if ours is None or theirs is None:
        return ""
    if ours == theirs or (ours > 0 and theirs > 0 and max(ours, theirs) / min(ours, theirs) < 1.05):
        return "about the same"
    better, worse = _WORDS[kind]
    lower_better = kind in _LOWER_IS_BETTER
    if ours <= 0 or theirs <= 0:
        wins = (ours < theirs) if lower_better else (ours > theirs)
        return f"bestrate {better if wins else worse}"
    wins = (ours < theirs) if lower_better else (ours > theirs)
    return f"bestrate {_factor(ours, theirs)} {better if wins else worse}"


def _cell(value: str, ours: float | None, theirs: float | None, kind: str) -> str:
    words = compare(ours, theirs, kind)
    return f"{value} ({words})" if words else value


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


def _latency_figures(sc: Scenario, res: Mapping[str, Any]) -> list[Figure]:
    lat = res["latency"]
    q, o = lat["bestrate"]["quote_ms"], lat["bestrate"]["overhead_over_slowest_call_ms"]
    out = []
    f = Figure(f"quote() p50 / p99, ms ({_providers(sc)})", f"{_n(q.get('p50'))} / {_n(q.get('p99'))}")
    for key in ("sequential", "parallel"):
        b = lat.get("baselines", {}).get(key, {})
        if "quote_ms" in b:
            bq = b["quote_ms"]
            f.baselines[key] = (f"{_n(bq.get('p50'))} / {_n(bq.get('p99'))} (p50: "
                                f"{compare(q.get('p50'), bq.get('p50'), 'time')}; p99: "
                                f"{compare(q.get('p99'), bq.get('p99'), 'time')})")
    out.append(f)
    ok = None if o.get("p50") is None else (o["p50"] < 3 and o["p99"] < 10)
    out.append(Figure("overhead over the slowest provider call p50 / p99, ms",
                      f"{_n(o.get('p50'))} / {_n(o.get('p99'))}", target="p50 < 3 ms, p99 < 10 ms",
                      verdict=verdict(ok)))
    ff = lat.get("baselines", {}).get("fixedfloatapi", {})
    ffa = lat.get("fixedfloat_alone")
    if ffa and "price_ms" in ff:
        ours, theirs = ffa["quote_ms"].get("p50"), ff["price_ms"].get("p50")
        out.append(Figure("FixedFloat alone p50, ms (bestrate quote() against the PyPI client's "
                          "price call)", _n(ours),
                          {"fixedfloatapi": _cell(_n(theirs), ours, theirs, "time")}))
    return out


def _concurrency_figures(res: Mapping[str, Any]) -> list[Figure]:
    conc = res["concurrency"]
    base = conc.get("baselines", [])
    out = []
    for mode in ("distinct", "identical"):
        r = _run(conc, mode)
        if r is None:
            continue
        f = Figure(f"throughput, {r['callers']:,} concurrent {mode} callers, quotes/s",
                   _n(r["quotes_per_s"], 1))
        for label in ("sequential", "parallel"):
            b = next((b for b in base if b["client"] == label and b["mode"] == mode), None)
            if b is None:
                continue
            ours = _run(conc, mode, b["callers"])
            at = f" at {b['callers']:,} callers" if b["callers"] != r["callers"] else ""
            f.baselines[label] = _cell(f"{_n(b['quotes_per_s'], 1)}{at}",
                                       ours["quotes_per_s"] if ours else None, b["quotes_per_s"],
                                       "rate")
        if mode == "distinct":
            f.target, f.verdict = ">= 500 quotes/s", verdict(r["quotes_per_s"] >= 500)
        out.append(f)
        if mode == "identical":
            calls = sum(r["provider_calls"].values())
            f = Figure(f"provider calls for {r['callers']:,} identical quotes",
                       f"{calls} ({r['calls_per_quote']:g} per quote; one quote alone makes "
                       f"{sum((conc.get('one_quote_calls') or {}).values())})",
                       target="the calls of one quote", verdict=verdict(r.get("coalesced")))
            for label in ("sequential", "parallel"):
                b = next((b for b in base if b["client"] == label and b["mode"] == mode), None)
                if b is not None:
                    ours = _run(conc, mode, b["callers"])
                    f.baselines[label] = _cell(f"{_n(b['calls_per_quote'])} per quote",
                                               ours["calls_per_quote"] if ours else None,
                                               b["calls_per_quote"], "calls")
            out.append(f)
    return out


def _batch_figures(res: Mapping[str, Any]) -> list[Figure]:
    batch = res["batch"]
    ours, ind = batch["bestrate"], batch["indicative_only"]
    out = [Figure("batch regret p95 against a firm-everything oracle, bp", _n(ours["regret_bp"]["p95"]),
                  {"indicative": _cell(_n(ind["regret_bp"]["p95"]), ours["regret_bp"]["p95"],
                                       ind["regret_bp"]["p95"], "bp")})]
    n = batch["firm_everything"]
    mine = ours.get("firm_answers_distinct")
    out.append(Figure(f"batch: distinct queries with a firm best route in bestrate's {n['seconds']} s "
                      f"(of {batch['distinct']})", _n(mine),
                      {"firm_everything": _cell(_n(n["firm_in_time"]), mine, n["firm_in_time"],
                                                "count")}))
    return out


def _faults_figures(res: Mapping[str, Any]) -> list[Figure]:
    faults = res["faults"]
    ours = faults["best_healthy_within_deadline"]
    f = Figure(f"best healthy route within {faults['deadline_s']:g} s ({faults['profile']} faults)",
               _pct(ours))
    b = faults.get("baselines", {}).get("parallel")
    if b:
        f.baselines["parallel"] = _cell(_pct(b["best_healthy_within_deadline"]), ours,
                                        b["best_healthy_within_deadline"], "share")
    return [f]


def _engine_figures(res: Mapping[str, Any]) -> list[Figure]:
    eng = res["engine"]
    ratio = eng["ratio_to_floor"]
    out = [Figure(f"client CPU per quote, ms ({eng['quotes']} sequential distinct quotes; floor: "
                  f"{eng['provider_calls_per_quote']} calls × {_n(eng['post_cpu_ms'], 3)} ms per "
                  "bare signed POST)",
                  f"{_n(eng['cpu_ms_per_quote'])} = {_n(ratio)}× the floor of "
                  f"{_n(eng['floor_ms_per_quote'])}", target="<= 2× the floor",
                  verdict=verdict(None if ratio is None else ratio <= 2))]
    snaps = eng.get("snapshots")
    if snaps:
        out.append(Figure("graph snapshots during the sequential quotes: built in full / patched",
                          f"{snaps['built']} / {snaps['patched']}"))
    out.append(Figure("engine CPU per quote with every provider answer cached, ms",
                      _n(eng["cached_cpu_ms_per_quote"])))
    out.append(Figure("longest event-loop stall during the sequential quotes, ms",
                      _n(eng["longest_stall_ms"]), target="< 5 ms",
                      verdict=verdict(eng["longest_stall_ms"] < 5)))
    fr = eng.get("gc_frozen")
    if fr:
        out.append(Figure("... warmed with freeze_gc=True: CPU per quote / longest stall, ms",
                          f"{_n(fr['cpu_ms_per_quote'])} / {_n(fr['longest_stall_ms'])}",
                          target="stall < 5 ms", verdict=verdict(fr["longest_stall_ms"] < 5)))
    ov = eng.get("overload")
    if ov:
        lat = ov["latency_ms"]
        out.append(Figure(f"{ov['callers']:,} concurrent quotes, {ov['deadline_s']:g} s deadline, "
                          "one process: answered within deadline + 50 ms (p50 / p99 / max ms; "
                          "with a route)",
                          f"{ov['within_deadline_50ms']:,} ({_n(lat.get('p50'), 0)} / "
                          f"{_n(lat.get('p99'), 0)} / {_n(lat.get('max'), 0)}; "
                          f"{ov['with_a_route']:,} with a route)", target="every one",
                          verdict=verdict(ov["within_deadline_50ms"] == ov["callers"])))
    return out


def _chaos_figures(res: Mapping[str, Any]) -> list[Figure]:
    chaos = res["chaos"]
    lat = chaos["latency_ms"]
    limit = (chaos["deadline_s"] * 1000) + 50
    return [Figure(f"chaos: {chaos['calls']:,} quotes, {chaos['concurrency']} concurrent, "
                   f"p50 / p99 / max ms (deadline {chaos['deadline_s'] * 1000:g} ms)",
                   f"{_n(lat.get('p50'))} / {_n(lat.get('p99'))} / {_n(lat.get('max'))}",
                   target=f"p99 <= {limit:g} ms", verdict=verdict(lat.get("p99", 0) <= limit)),
            Figure("chaos: unhandled exceptions / wrong winners / budget overruns",
                   f"{chaos['unhandled_exceptions']} / {chaos['wrong_winners']} / "
                   f"{chaos['budget_overruns']}", target="0 / 0 / 0",
                   verdict=verdict(chaos["unhandled_exceptions"] == chaos["wrong_winners"]
                                   == chaos["budget_overruns"] == 0))]


def _provider_figures(cmp: Mapping[str, Any], where: str) -> list[Figure]:
    per = cmp["providers"]
    ranked = sorted(per.items(), key=lambda kv: -(kv[1]["win_share"] or 0))
    wins = ", ".join(f"{n} {_pct(p['win_share'])}" for n, p in ranked if p["win_share"])
    out = [Figure(f"{where}: win share per provider ({cmp['scored']} queries)", wins or "none")]
    classes = [f"{c}: {_winners(v['winners'])}" for c, v in cmp["classes"].items() if v["winners"]]
    if classes:
        out.append(Figure(f"{where}: provider that wins most, per pair class", "; ".join(classes)))
    return out


def _winners(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else (" and ".join(names) + " (tied)" if names else "")


def figures(sc: Scenario, res: Mapping[str, Any]) -> list[Figure]:
    """Every headline figure of a run, in report order."""
    out: list[Figure] = []
    if res.get("latency"):
        out += _latency_figures(sc, res)
    if res.get("concurrency"):
        out += _concurrency_figures(res)
    if res.get("batch"):
        out += _batch_figures(res)
        if res["batch"].get("by_provider", {}).get("scored"):
            out += _provider_figures(res["batch"]["by_provider"], "batch")
    if res.get("faults"):
        out += _faults_figures(res)
    if res.get("engine"):
        out += _engine_figures(res)
    if res.get("chaos"):
        out += _chaos_figures(res)
    p = res.get("providers") or {}
    if p.get("by_provider", {}).get("scored"):
        out += _provider_figures(p["by_provider"], "providers")
    return out


HEADER = ("figure", "bestrate", "the baselines, and how bestrate compares", "target")


def against(f: Figure) -> str:
    """The baselines' figures of ``f``, each named, with the comparison in words."""
    return "; ".join(f"{BASELINES.get(k, k)}: {v}" for k, v in f.baselines.items())


def target_cell(f: Figure) -> str:
    if not f.target:
        return ""
    return f"{f.target}: " + (f"**{f.verdict}**" if f.verdict != "met" else f.verdict)


def _providers(sc: Scenario) -> str:
    names = sc.providers or ("all five",)
    lat = sc.sandbox.latency_profile or f"{sc.sandbox.latency_ms:g} ms"
    return f"{', '.join(names)} at {lat}"


def headline(sc: Scenario, res: Mapping[str, Any]) -> str:
    """The headline table (markdown, also printed to the terminal): every figure of
    :func:`figures`, a column per baseline that has one, and the target with its verdict."""
    figs = figures(sc, res)
    if not figs:
        return _providers_table(res) if res.get("providers") else f"{sc.name}: no headline figures"
    rows = [[f.label, f.bestrate, against(f), target_cell(f)] for f in figs]
    out = _table(HEADER, rows)
    p = res.get("providers")
    if p and sc.workloads == ("providers",):  # the comparison is this scenario's answer
        out += ["", *provider_comparison(p["by_provider"]), "",
                "| provider | units spent | of which warm-up | hard cap |", "|---|---|---|---|"]
        out += [f"| {n} | {p['units_spent'][n]} | {p['units_warmup'][n]} | {c} |"
                for n, c in p["caps"].items()]
    return "\n".join(out)


def _ms(v: Any) -> str:
    return "-" if v is None else f"{v:,.2f}"


def provider_comparison(cmp: Mapping[str, Any]) -> list[str]:
    """The per-provider and per-pair-class tables of a :func:`bench.providercmp.compare` result."""
    per = cmp["providers"]
    rows = []
    for n, p in per.items():
        cost = p["cost_bp_median"]
        rows.append([n, f"{_pct(p['win_share'])} ({p['wins']} of {cmp['scored']})",
                     _n(p["gap_bp"]["median"]), _n(p["gap_bp"]["p95"]),
                     COST_BP_MISSING if cost is None else _n(cost),
                     _pct(p["error_rate"]), _pct(p["timeout_rate"]),
                     f"{_ms(p['latency_ms']['p50'])} / {_ms(p['latency_ms']['p99'])}",
                     f"{p['answered']} of {p['served']}", _n(p["units"])])
    lines = _table(["provider", "win share", "gap to best median, bp", "gap p95, bp",
                    "median cost_bp", "error rate", "timeout rate", "latency p50 / p99, ms",
                    "answered (of the queries on pairs it serves)", "units spent"], rows)
    if cmp.get("mixed_route_best"):
        lines += ["", f"{cmp['mixed_route_best']} of the {cmp['scored']} queries were won by a "
                  "route through more than one provider (nobody wins those alone)."]
    lines += ["", "Which provider wins most, per pair class:", ""]
    crow = []
    for cls, v in cmp["classes"].items():
        shares = ", ".join(f"{n} {_pct(s)}" for n, s in v["shares"].items())
        crow.append([cls, v["queries"], _winners(v["winners"]) or "-", shares or "-"])
    lines += _table(["pair class", "queries", "wins most", "win shares"], crow)
    return lines


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
    items += [(f"{n} HTTP exchange at warm-up, none in the quotes (ms)", s)
              for n, s in lat.get("warmup_call_ms", {}).items() if n not in lat["provider_call_ms"]]
    lines += _table(["figure", "p50", "p95", "p99", "max", "n"], _summary_rows(items))
    rows = []
    q = b["quote_ms"]
    for label, v in lat.get("baselines", {}).items():
        if "quote_ms" in v:
            rows.append([BASELINES.get(label, label),
                         *(_cell(_n(v["quote_ms"][k]), q.get(k), v["quote_ms"][k], "time")
                           for k in ("p50", "p95", "p99")), v["calls_per_quote"], v["errors"]])
        elif "price_ms" in v:
            ff = lat["fixedfloat_alone"]["quote_ms"]
            rows.append([f"fixedfloatapi price() against bestrate on FixedFloat alone "
                         f"({_n(ff['p50'])} / {_n(ff['p95'])} / {_n(ff['p99'])} ms)",
                         *(_cell(_n(v["price_ms"][k]), ff.get(k), v["price_ms"][k], "time")
                           for k in ("p50", "p95", "p99")), 1, v["failed"]])
        else:
            rows.append([label, v.get("skipped", "-"), "", "", "", ""])
    if rows:
        lines += ["", "Baselines on the same sources and pairs (bestrate against each, in words):", ""]
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
        ours = _run(conc, b["mode"], b["callers"]) or {}
        oq = (ours.get("quote_ms") or {}).get("p50")
        rows.append([BASELINES.get(b["client"], b["client"]), b["mode"], b["callers"],
                     _cell(_n(b["quotes_per_s"], 1), ours.get("quotes_per_s"), b["quotes_per_s"], "rate"),
                     _cell(_n(b["quote_ms"]["p50"]), oq, b["quote_ms"]["p50"], "time"),
                     _cell(_n(b["calls_per_quote"]), ours.get("calls_per_quote"), b["calls_per_quote"],
                           "calls"), b["errors"]])
    if rows:
        lines += ["", "Baselines (bestrate against each at the same callers, in words):", ""]
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
                     r["regret_bp"]["p95"], r["regret_bp"]["max"], _pct(r["same_route_as_oracle"])])
    lines += _table(["run", "answered", "firm answers", "wall s", "regret median bp", "p95 bp",
                     "max bp", "same route as oracle"], rows)
    n = b["firm_everything"]
    oracle_units = ", ".join(f"{p} {u:,}" for p, u in n["oracle_units"].items())
    lines += ["", f"Baseline firm-quote everything under the same budgets: in bestrate's "
              f"{n['seconds']} s it answers {n['answered_in_time']} of {b['distinct']} distinct "
              f"queries ({n['firm_in_time']} with a firm best route; bestrate: "
              f"{b['bestrate'].get('firm_answers_distinct', '-')}). Quoting every provider on "
              f"every distinct query (the oracle) took {oracle_units} units, which the default "
              f"budgets allow in {n['minutes_needed']} minutes.", "",
              "Emulators after the bestrate run (the limited sandbox):", ""]
    lines += _table(["provider", "units (bestrate)", "emulator units", "rate_limited", "blocks"],
                    [[n, b["units"].get(n, 0), st["units"], st["rate_limited"], st["blocks"]]
                     for n, st in sorted(res["emulators"].items())])
    lines += ["", "![regret](regret.png)", ""]
    cmp = b.get("by_provider")
    if cmp:
        lines += ["### Providers compared on the batch", "",
                  f"Each of the {b['distinct']} distinct queries asked of every provider alone "
                  "(direct routes, one quote after the other, on the sandbox without limits), "
                  "against the oracle's best route. Win share: the share of queries where its own "
                  "answer is the best; gap: how far its own answer falls short of the best route, "
                  "in basis points; latency: its alone quotes; units: what bestrate's batch spent "
                  "on it.", "", *provider_comparison(cmp), "", "![providers](providers.png)", ""]
    return lines


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
        q, bq = f["quote_ms"], b["quote_ms"]
        rows.append(["naive parallel client",
                     _cell(_pct(b["best_healthy_within_deadline"]), f["best_healthy_within_deadline"],
                           b["best_healthy_within_deadline"], "share"),
                     _pct(b["within_deadline"]),
                     _cell(_n(bq.get("p50")), q.get("p50"), bq.get("p50"), "time"),
                     _cell(_n(bq.get("p99")), q.get("p99"), bq.get("p99"), "time"),
                     _n(bq.get("max"))])
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
             f"Mode {res['mode']}; seed {sc.seed}, market {'frozen' if sc.frozen else 'moving'}; "
             "sandbox latency "
             f"{sc.sandbox.latency_profile or f'{sc.sandbox.latency_ms:g} ms fixed'}; "
             f"{m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, {m['event_loop']}; "
             f"wall {res['wall_s']} s.", "", "## Headline", "",
             "Each baseline's figure is followed by how bestrate compares with it, from "
             "bestrate's side; a figure with a target says whether it was met.", "",
             headline(sc, res), ""]
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
    if "engine" in res:
        lines += ["## Engine CPU", "", "Client CPU per quote against the floor of its own HTTP "
                  "calls (a bare signed POST's CPU times the calls a quote makes); the dashed "
                  "line is the 2× target.", "", "![cpu](cpu.png)", ""]
    if "providers" in res:
        p = res["providers"]
        lines += ["## Providers", "", "Each pair asked of each provider alone (direct routes), then "
                  "of all together (`*`), every round; the comparison below scores every "
                  "provider's own answer against the best route of its pair and round.", ""]
        if p.get("by_provider"):
            lines += [*provider_comparison(p["by_provider"]), "", "![providers](providers.png)", ""]
        lines += ["Every answer, per pair (p50 of its rounds) and the units spent:", "",
                  _providers_table(res), ""]
    if "budget.png" in charts:
        lines += ["## Budget use over time", "", "Units per provider per second, read from "
                  "every emulator's `/_sandbox/stats` during the run, one panel per client: "
                  "bestrate's own spending apart from each baseline's (on the same sandbox).", "",
                  "![budget](budget.png)", ""]
    lines += [f"Reproduce: `{res['command']}`", ""]
    return "\n".join(line for line in lines
                     if not (line.startswith("![") and line[line.index("(") + 1:-1] not in charts))
