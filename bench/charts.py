"""PNG charts of a bench run (matplotlib, Agg backend: files only, never a window).

* ``latency.png``: latency distributions (empirical CDF, log time axis) of every provider's HTTP
  exchanges and of bestrate's ``quote()``, with the baselines' p50 marked;
* ``regret.png``: the batch workload's regret histogram, bestrate against indicative-only;
* ``budget.png``: budget units per provider per second over the run, from the stats sampler,
  with each workload's span shaded.
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


def _ecdf(ax: Any, values: Sequence[float], label: str, **kw: Any) -> None:
    xs = sorted(values)
    n = len(xs)
    ax.step(xs, [(i + 1) / n for i in range(n)], where="post", label=label, **kw)


def _latency(sc: Scenario, res: Mapping[str, Any], series: Mapping[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.6))
    for name, values in sorted(series["provider_call_ms"].items()):
        if values:
            _ecdf(ax, values, f"{name} HTTP ({len(values)})", linewidth=1.2)
    _ecdf(ax, series["quote_ms"], f"bestrate quote() ({len(series['quote_ms'])})",
          linewidth=2.6, color="black")
    for label, b in res.get("baselines", {}).items():
        if "quote_ms" in b and b["quote_ms"].get("p50"):
            ax.axvline(b["quote_ms"]["p50"], linestyle="--", linewidth=1, color="grey")
            ax.annotate(f"{label} p50", (b["quote_ms"]["p50"], 0.04), rotation=90, fontsize=8,
                        color="dimgrey", ha="right")
    ax.set_xscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("milliseconds (log scale)")
    ax.set_ylabel("share of calls at or below")
    ax.set_ylim(0, 1.01)
    ax.grid(True, which="both", alpha=0.3)
    profile = sc.sandbox.latency_profile or f"fixed {sc.sandbox.latency_ms:g} ms"
    ax.set_title(f"{sc.name}: latency per provider and of quote() (sandbox {profile})")
    ax.legend(fontsize=8, loc="lower right")
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


def _budget_rates(rows: Sequence[Sequence[Any]], width: float) -> dict[str, tuple[list[float], list[float]]]:
    """Units per second per provider in buckets of ``width`` seconds: each delta between two
    samples of one sandbox is spread evenly over the time between them."""
    buckets: dict[str, dict[int, float]] = {}
    last: dict[tuple[str, str], tuple[float, int]] = {}
    for t, label, name, units, _requests in rows:
        prev = last.get((label, name))
        last[(label, name)] = (t, units)
        if prev is None or t <= prev[0]:
            continue
        rate, t0 = max(0, units - prev[1]) / (t - prev[0]), prev[0]
        b = buckets.setdefault(name, {})
        for k in range(int(t0 // width), int(t // width) + 1):
            overlap = min(t, (k + 1) * width) - max(t0, k * width)
            if overlap > 0:
                b[k] = b.get(k, 0.0) + rate * overlap / width
    out = {}
    for name, b in buckets.items():
        ks = range(min(b), max(b) + 1)
        out[name] = ([k * width for k in ks], [b.get(k, 0.0) for k in ks])
    return out


def _budget(sc: Scenario, samples: Mapping[str, Any], path: Path) -> bool:
    rows = samples["rows"]
    end = max((r[0] for r in rows), default=0.0)
    series = _budget_rates(rows, max(2 * samples["interval_s"], end / 150))
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for k, (label, start, end) in enumerate(samples["phases"]):
        ax.axvspan(start, end, alpha=0.08 if k % 2 else 0.16, color="tab:grey")
        ax.annotate(label, (start, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                    va="top", ha="left", color="dimgrey")
    for name, (xs, ys) in sorted(series.items()):
        ax.step(xs, ys, where="post", linewidth=1.2, label=name)
    ax.set_xlabel("seconds since the run started")
    ax.set_ylabel("budget units per second")
    ax.set_title(f"{sc.name}: provider budget use over time (emulator counters)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    return True


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
    return drawn
