"""``bestrate batch``: reading queries (CSV or JSON lines), writing one JSON line per query.

Input: CSV with a header naming ``sell,buy,amount[,side]`` (more optional columns: ``rate_type``,
``max_hops``), or JSON lines with the same keys. Every line is validated on its own: a bad line is
answered in place with ``{"line", "error": {"field", "problem", "allowed"}}`` and the rest go on.
Output: one JSON line per query, in input order: the ``quote --json`` object plus ``"line"``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from router.errors import InvalidRequest
from router.face.render import routeset_to_dict
from router.model import QuoteRequest
from router.pricing.batch import BatchStats

__all__ = ["Progress", "read_queries", "summary_lines"]

_ENC = msgspec.json.Encoder()
_FIELDS = ("sell", "buy", "amount", "side", "rate_type", "max_hops")


def _rows(text: str, source: str) -> Iterator[tuple[int, dict[str, Any] | InvalidRequest]]:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_float=str, parse_int=str)
            except json.JSONDecodeError as exc:
                yield n, InvalidRequest(f"{source}:{n}", f"not JSON ({exc.msg})", "one JSON object per line")
                continue
            if not isinstance(row, dict):
                yield n, InvalidRequest(f"{source}:{n}", "not a JSON object", "one JSON object per line")
                continue
            yield n, row
        return
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"sell", "buy", "amount"} <= {f.strip() for f in reader.fieldnames}:
        raise InvalidRequest(source, "no CSV header with sell,buy,amount",
                             "CSV with a header sell,buy,amount[,side] or JSON lines")
    for n, row in enumerate(reader, 2):
        yield n, {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}


def read_queries(path: str, make: Callable[..., QuoteRequest]) -> list[tuple[int, QuoteRequest | InvalidRequest]]:
    """``(line, request or the error for that line)`` for every query in ``path`` (``-``: stdin)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest("FILE", f"cannot read {path}: {exc.__class__.__name__}",
                             "a readable UTF-8 CSV or JSON lines file") from None
    out: list[tuple[int, QuoteRequest | InvalidRequest]] = []
    for n, row in _rows(text, path):
        if isinstance(row, InvalidRequest):
            out.append((n, row))
            continue
        unknown = set(row) - set(_FIELDS)
        if unknown:
            out.append((n, InvalidRequest(sorted(unknown)[0], "unknown column", ", ".join(_FIELDS))))
            continue
        fields = {k: v for k, v in row.items() if v not in (None, "")}
        try:
            if "max_hops" in fields:
                try:
                    fields["max_hops"] = int(fields["max_hops"])
                except ValueError:
                    raise InvalidRequest("max_hops", "not an integer", "1, 2 or 3") from None
            for need in ("sell", "buy", "amount"):
                if need not in fields:
                    raise InvalidRequest(need, "missing", "sell, buy and amount on every line")
            out.append((n, make(fields.pop("sell"), fields.pop("buy"), fields.pop("amount"), **fields)))
        except InvalidRequest as exc:
            out.append((n, exc))
    return out


def error_line(line: int, exc: InvalidRequest) -> bytes:
    return _ENC.encode({"line": line, "error": {"field": exc.field, "problem": exc.problem,
                                               "allowed": exc.allowed}})


def result_line(line: int, rs: Any, mode: str) -> bytes:
    return _ENC.encode({"line": line, **routeset_to_dict(rs, mode)})


class Progress:
    """A progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0

    def __call__(self, stats: BatchStats, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        total = max(stats.planned_firm, 1)
        width = 30
        filled = int(width * min(stats.done_firm, total) / total)
        sys.stderr.write(f"\r{stats.phase:<10} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{stats.done_firm}/{stats.planned_firm} firm quotes, "
                         f"{stats.distinct} distinct of {stats.queries}   ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def summary_lines(stats: BatchStats, answered: int, routes: int, firm: int, invalid: int,
                  spent: dict[str, int], wall: float) -> list[str]:
    units = ", ".join(f"{p} {u}" for p, u in sorted(spent.items())) or "none"
    lines = [
        f"queries {stats.queries + invalid} ({invalid} invalid, {stats.distinct} distinct)",
        f"answered {answered}: {routes} with a route, {firm} firm, {routes - firm} indicative",
        f"budget units spent: {units}",
        f"wall time {wall:.2f} s",
    ]
    if stats.dry:
        lines.append(f"budget ran dry: {', '.join(sorted(stats.dry))} (those answers stay indicative)")
    return lines
