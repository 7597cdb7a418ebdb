"""PNG charts of a bench run (matplotlib, Agg backend: files only, never a window).

* ``latency.png``: latency distributions (empirical CDF, log time axis) of every provider's HTTP
  exchanges (all five named; one without a call in the run says so) and of bestrate's
  ``quote()``, with the baselines' p50 marked;
* ``regret.png``: the batch workload's regret histogram, bestrate against indicative-only;
* ``budget.png``: budget units per provider per second over the run, from the stats sampler, one
  panel per client (bestrate, then each baseline) with each workload's span shaded;
* ``cpu.png``: client CPU per quote against the floor of its own HTTP calls (engine workload);
* ``providers.png``: the provider comparison (win share, gap to the best route, latency), from
  the ``providers`` workload or else from the batch run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from .batchbench import REGRET_BINS  # noqa: E402
from .scenario import Scenario  # noqa: E402

__all__ = ["draw_all"]

_DPI = 110
#: Every provider the sandbox serves, in a fixed order, each with its own colour on every chart.
PROVIDERS_ORDER = ("fixedfloat", "gatepay", "flypay", "onebitpay", "fatpay")
_COLORS = dict(zip(PROVIDERS_ORDER, ("tab:blue", "tab:orange", "tab:green", "tab:purple",
                                     "tab:brown"), strict=True))


def _color(name: str) -> str:
    return _COLORS.get(name, "tab:grey")


def _ecdf(ax: Any, values: Sequence[float], label: str, **kw: Any) -> None:
    xs = sorted(values)
    n = len(xs)
    ax.step(xs, [(i + 1) / n for i in range(n)], where="post", label=label, **kw)


def _latency(sc: Scenario, res: Mapping[str, Any], series: Mapping[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11.5, 5))
    calls = series["provider_call_ms"]
    asked = sc.providers or PROVIDERS_ORDER
    warm = series.get("warmup_call_ms") or {}
    for name in [*PROVIDERS_ORDER, *sorted(set(calls) - set(PROVIDERS_ORDER))]:
        values = calls.get(name) or []
        if values:
            _ecdf(ax, values, f"{name}: {len(values)} HTTP exchanges in the quotes", linewidth=1.4,
                  color=_color(name))
        elif warm.get(name):  # it prices from lists fetched at warm-up: those are its calls
            _ecdf(ax, warm[name], f"{name}: none in the quotes; {len(warm[name])} at warm-up "
                  "(dotted)", linewidth=1.4, color=_color(name), linestyle=":")
        else:  # named all the same, so a missing provider is seen to be missing
            why = "not in this scenario" if name not in asked else "no HTTP exchange in this run"
            ax.plot([], [], color=_color(name), linewidth=1.4, linestyle=":",
                    label=f"{name}: {why}")
    _ecdf(ax, series["quote_ms"], f"bestrate quote(): {len(series['quote_ms'])} quotes",
          linewidth=2.6, color="black")
    for label, b in res.get("baselines", {}).items():
        if "quote_ms" in b and b["quote_ms"].get("p50"):
            ax.axvline(b["quote_ms"]["p50"], linestyle="--", linewidth=1, color="grey")
            ax.annotate(f"{label} client p50", (b["quote_ms"]["p50"], 0.04), rotation=90,
                        fontsize=8, color="dimgrey", ha="right")
    ax.set_xscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("latency, milliseconds (log scale)")
    ax.set_ylabel("share of calls at or below that latency")
    ax.set_ylim(0, 1.01)
    ax.grid(True, which="both", alpha=0.3)
    profile = sc.sandbox.latency_profile or f"fixed {sc.sandbox.latency_ms:g} ms"
    ax.set_title(f"{sc.name}: each provider's HTTP latency and bestrate quote() (sandbox {profile})",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _regret(sc: Scenario, batch: Mapping[str, Any], path: Path) -> None:
    labels = ["0", "(0, 0.1]", "(0.1, 1]", "(1, 10]", "(10, 100]", "> 100"]
    assert len(labels) == len(REGRET_BINS) + 1
    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.4
    xs = range(len(labels))
    for k, (key, title, color) in enumerate((("bestrate", "bestrate quote_many", "tab:blue"),
                                             ("indicative_only", "indicative only", "tab:orange"))):
        counts = batch[key]["regret_hist"]
        total = max(1, sum(counts))
        bars = ax.bar([x + (k - 0.5) * width for x in xs], [100 * c / total for c in counts], width,
                      label=f"{title} ({total} scored)", color=color)
        for bar, c in zip(bars, counts, strict=True):
            if c:
                ax.annotate(str(c), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(xs), labels)
    ax.set_xlabel("regret against the firm-everything oracle, basis points")
    ax.set_ylabel("share of scored answers, %")
    ax.set_title(f"{sc.name}: batch regret ({batch['queries']} queries, {batch['distinct']} distinct)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _budget_rates(rows: Sequence[Sequence[Any]], width: float
                  ) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
    """Units per second per client and provider in buckets of ``width`` seconds: each delta
    between two samples of one sandbox is spread evenly over the time between them and belongs
    to the client of the later sample (rows without a client are bestrate's)."""
    buckets: dict[tuple[str, str], dict[int, float]] = {}
    last: dict[tuple[str, str], tuple[float, int]] = {}
    for row in rows:
        t, label, name, units = row[0], row[1], row[2], row[3]
        who = row[5] if len(row) > 5 else "bestrate"
        prev = last.get((label, name))
        last[(label, name)] = (t, units)
        if prev is None or t <= prev[0]:
            continue
        delta = max(0, units - prev[1])
        b = buckets.setdefault((who, name), {})
        if not delta:
            continue
        rate, t0 = delta / (t - prev[0]), prev[0]
        for k in range(int(t0 // width), int(t // width) + 1):
            overlap = min(t, (k + 1) * width) - max(t0, k * width)
            if overlap > 0:
                b[k] = b.get(k, 0.0) + rate * overlap / width
    out: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for (who, name), b in buckets.items():
        if not b:
            continue
        ks = range(min(b), max(b) + 1)
        out.setdefault(who, {})[name] = ([k * width for k in ks], [b.get(k, 0.0) for k in ks])
    return out


def _budget(sc: Scenario, samples: Mapping[str, Any], path: Path) -> bool:
    rows = samples["rows"]
    end = max((r[0] for r in rows), default=0.0)
    width = max(2 * samples["interval_s"], end / 150)
    series = _budget_rates(rows, width)
    if not series:
        return False
    clients = sorted(series, key=lambda c: (c != "bestrate", c))
    fig, axes = plt.subplots(len(clients), 1, figsize=(9, 1.2 + 2.1 * len(clients)), sharex=True,
                             squeeze=False)
    names = sorted({n for per in series.values() for n in per} | set(PROVIDERS_ORDER))
    for ax, who in zip(axes[:, 0], clients, strict=True):
        for k, (label, start, stop) in enumerate(samples["phases"]):
            ax.axvspan(start, stop, alpha=0.06 if k % 2 else 0.12, color="tab:grey")
            if who == clients[0]:
                ax.annotate(label, (start, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                            va="bottom", ha="left", color="dimgrey")
        total = 0.0
        bottom: dict[float, float] = {}
        for name in names:
            if name in series[who]:
                xs, ys = series[who][name]
                total += sum(ys) * width
                ax.bar(xs, ys, width=width, align="edge", bottom=[bottom.get(x, 0.0) for x in xs],
                       color=_color(name), label=f"{name} {sum(ys) * width:,.0f}", linewidth=0)
                for x, y in zip(xs, ys, strict=True):
                    bottom[x] = bottom.get(x, 0.0) + y
        ax.set_ylabel("units / s")
        ax.set_ylim(0, max([*bottom.values(), 1.0]) * 1.4)
        ax.text(0.995, 0.96, f"{who}: {total:,.0f} units in all", transform=ax.transAxes,
                ha="right", va="top", fontsize=9, fontweight="bold",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, end * 1.01 or 1)
        ax.legend(fontsize=7, loc="upper left", ncol=5, framealpha=0.9)
    axes[-1, 0].set_xlabel("seconds since the run started (shaded: each workload's span)")
    fig.suptitle(f"{sc.name}: budget units per second, stacked by provider, one panel per client "
                 f"(emulator counters, {width:.2g} s buckets)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return True


def _cpu(sc: Scenario, eng: Mapping[str, Any], path: Path) -> None:
    floor = eng["floor_ms_per_quote"]
    bars = [("client CPU per quote", eng["cpu_ms_per_quote"], "tab:blue")]
    fr = eng.get("gc_frozen")
    if fr:
        bars.append(("... warmed with freeze_gc=True", fr["cpu_ms_per_quote"], "tab:cyan"))
    bars.append(("engine CPU, every answer cached", eng["cached_cpu_ms_per_quote"], "tab:green"))
    bars.append((f"floor: {eng['provider_calls_per_quote']} HTTP calls × "
                 f"{eng['post_cpu_ms']:.3f} ms", floor, "tab:grey"))
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.6 * len(bars)))
    ys = list(range(len(bars)))[::-1]
    for k, (y, (_, v, color)) in enumerate(zip(ys, bars, strict=True)):
        ax.barh(y, v, color=color, height=0.6)
        times = f" ({v / floor:.1f}× the floor)" if floor and k < len(bars) - 1 else ""
        ax.annotate(f"{v:.2f} ms{times}", (v, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    if floor:
        ax.axvline(2 * floor, color="tab:red", linestyle="--", linewidth=1.2,
                   label=f"target: 2× the floor = {2 * floor:.2f} ms")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_yticks(ys, [b[0] for b in bars], fontsize=8)
    ax.set_xlim(0, max(v for _, v, _ in bars) * 1.45)
    ax.set_xlabel("CPU milliseconds per quote (client process)")
    ax.set_title(f"{sc.name}: CPU per quote against the floor of its own HTTP calls "
                 f"({eng['quotes']} sequential distinct quotes)", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def _providers(sc: Scenario, cmp: Mapping[str, Any], source: str, path: Path) -> None:
    per = cmp["providers"]
    names = [n for n in PROVIDERS_ORDER if n in per] + sorted(set(per) - set(PROVIDERS_ORDER))
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(12, 4.2))
    xs = range(len(names))
    shares = [100 * (per[n]["win_share"] or 0) for n in names]
    a1.bar(xs, shares, color=[_color(n) for n in names])
    for x, n, v in zip(xs, names, shares, strict=True):
        a1.annotate(f"{v:.0f} %\n{per[n]['wins']} of {cmp['scored']}", (x, v), ha="center",
                    va="bottom", fontsize=7)
    a1.set_ylim(0, max([*shares, 10]) * 1.3)
    a1.set_ylabel("share of queries it wins, %")
    a1.set_title("win share (own answer is the best)", fontsize=9)
    width = 0.38
    for k, (key, label) in enumerate((("median", "median"), ("p95", "p95"))):
        vals = [per[n]["gap_bp"][key] for n in names]
        a2.bar([x + (k - 0.5) * width for x in xs], [v or 0 for v in vals], width, label=label,
               color=[_color(n) for n in names], alpha=1.0 if k == 0 else 0.5)
        for x, v in zip(xs, vals, strict=True):
            a2.annotate("no answer" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:.3g}", (x + (k - 0.5) * width, v or 0),
                        ha="center", va="bottom", fontsize=7, rotation=0 if v is not None else 90)
    a2.set_yscale("symlog", linthresh=1)
    a2.set_ylim(0, max([v or 0 for n in names for v in per[n]["gap_bp"].values()] + [1]) * 3)
    a2.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    a2.set_ylabel("gap to the best route, bp (symlog)")
    a2.set_title("gap to the best route: median (solid), p95 (light)", fontsize=9)
    for k, key in enumerate(("p50", "p99")):
        vals = [per[n]["latency_ms"][key] or 0 for n in names]
        a3.bar([x + (k - 0.5) * width for x in xs], vals, width, color=[_color(n) for n in names],
               alpha=1.0 if k == 0 else 0.5)
    a3.set_ylabel("quote latency, ms")
    a3.set_title("latency of its own quotes: p50 (solid), p99 (light)", fontsize=9)
    for ax in (a1, a2, a3):
        ax.set_xticks(list(xs), names, fontsize=8, rotation=20)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"{sc.name}: provider comparison ({source}, {cmp['scored']} queries with an "
                 "answer)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)


def draw_all(sc: Scenario, res: Mapping[str, Any], series: Mapping[str, Any], out: Path) -> list[str]:
    """Draw every chart the run has data for into ``out``; return their file names."""
    drawn = []
    if "latency" in series and series["latency"]:
        _latency(sc, res["latency"], series["latency"], out / "latency.png")
        drawn.append("latency.png")
    if "batch" in res and "regret_hist" in res["batch"].get("bestrate", {}):
        _regret(sc, res["batch"], out / "regret.png")
        drawn.append("regret.png")
    if res.get("budget_samples") and _budget(sc, res["budget_samples"], out / "budget.png"):
        drawn.append("budget.png")
    if "engine" in res and res["engine"].get("floor_ms_per_quote") is not None:
        _cpu(sc, res["engine"], out / "cpu.png")
        drawn.append("cpu.png")
    cmp = (res.get("providers") or {}).get("by_provider")
    source = "each provider alone, then all together"
    if cmp is None:
        cmp = (res.get("batch") or {}).get("by_provider")
        source = "batch: every distinct query asked of each provider alone"
    if cmp and cmp.get("scored"):
        _providers(sc, cmp, source, out / "providers.png")
        drawn.append("providers.png")
    return drawn
