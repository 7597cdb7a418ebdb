"""Where the time goes: cProfile around a run, summarised as the top functions by own time and
the top project functions (``router/``, ``adapters/``) by cumulative time."""

from __future__ import annotations

import cProfile
import pstats
import sys
import sysconfig
from pathlib import Path
from typing import Any

__all__ = ["hotspots"]

_ROOT = Path(__file__).resolve().parents[2]
_PREFIXES = sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
                   | {str(_ROOT)}, key=len, reverse=True)


def _where(file: str, line: int, func: str) -> str:
    if file == "~":
        return func  # a builtin, e.g. "<method 'quantize' of 'decimal.Decimal' objects>"
    for prefix in _PREFIXES:
        if file.startswith(prefix):
            file = file[len(prefix):].lstrip("/\\")
            break
    return f"{file}:{line} {func}"


def _project(file: str) -> bool:
    return file.startswith(str(_ROOT)) and ("/router/" in file or "/adapters/" in file)


def hotspots(profile: cProfile.Profile, top: int = 12) -> dict[str, Any]:
    """The ``top`` functions by own time, and the ``top`` project functions by cumulative time,
    each with calls and seconds (cProfile's own overhead inflates every figure alike)."""
    stats = pstats.Stats(profile, stream=sys.stderr)
    rows = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]

    def entry(key: tuple[str, int, str], value: tuple[int, int, float, float, Any]) -> dict[str, Any]:
        _cc, nc, tt, ct, _callers = value
        return {"function": _where(*key), "calls": nc, "self_s": round(tt, 4),
                "cumulative_s": round(ct, 4), "self_share": round(tt / total, 4) if total else None}

    by_self = sorted(rows.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    by_cum = sorted(((k, v) for k, v in rows.items() if _project(k[0])),
                    key=lambda kv: kv[1][3], reverse=True)[:top]
    return {"profiled_s": round(total, 3), "self": [entry(k, v) for k, v in by_self],
            "cumulative": [entry(k, v) for k, v in by_cum]}
