"""``bestrate batch``: reading queries (CSV or JSON lines) as a stream, writing one JSON line each.

**Input**: CSV with a header naming ``sell,buy,amount`` (optional columns ``side``,
``rate_type``, ``max_hops``), or JSON lines with the same keys; UTF-8, with or without a BOM,
LF or CRLF. It is read as a stream (:func:`iter_queries`), so a file of any length runs in bounded
memory. Every record is checked on its own and a bad one is that line's error
(``{"line", "digest", "error": {"field", "problem", "allowed"}}``), never the file's: a field over
:data:`MAX_FIELD` characters, a JSON line over :data:`MAX_LINE`, nested objects, a wrong JSON type
(a bool is not an integer, a list is not an amount), a key given twice, an unknown column, more
values than the header names. ``line`` is the physical line the record starts on (blank lines
count), ``digest`` a short hash of its content, which ``--resume`` checks.

**Output**: one JSON line per record, in input order, each written whole and flushed: the
``quote --json`` object with ``line`` and ``digest``. By default routes are cut to the best
``routes`` (2: the answer and its runner-up), fields that are ``null`` are left out of them, and what was left out is compact
(:func:`compact_unavailable`: ``left_out`` counts per reason); ``full=True`` keeps everything.

**Resume**: :func:`answered_prefix` reads a partial output file: the records already answered (a
prefix of the input, since answers are written in order), and where the last complete line ends.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import msgspec

from router.errors import InvalidRequest
from router.face.render import compact_unavailable, routeset_to_dict
from router.model import QuoteRequest
from router.pricing.batch import BatchStats

__all__ = ["MAX_FIELD", "MAX_LINE", "Progress", "Record", "answered_prefix",
           "answer_body", "compact_unavailable", "error_line", "iter_queries", "result_line", "summary_lines"]

_ENC = msgspec.json.Encoder()
_FIELDS = ("sell", "buy", "amount", "side", "rate_type", "max_hops")
_TEXT = ("sell", "buy", "side", "rate_type")
#: Longest CSV field, and longest JSON line, read (characters).
MAX_FIELD = 4096
MAX_LINE = 65536
_NEED = ("sell", "buy", "amount")


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: its physical line, its content digest, and the request or its error."""

    line: int
    digest: str
    query: QuoteRequest | InvalidRequest


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _json_row(text: str) -> dict[str, Any] | InvalidRequest:
    if len(text) > MAX_LINE:
        return InvalidRequest("line", f"is {len(text)} characters long",
                              f"at most {MAX_LINE} characters")
    try:
        row = json.loads(text, parse_float=str, parse_int=str, object_pairs_hook=_pairs)
    except _Duplicate as exc:
        return InvalidRequest(str(exc)[:40], "given twice", "each key once")
    except RecursionError:
        return InvalidRequest("line", "nested too deep", "one flat JSON object per line")
    except json.JSONDecodeError as exc:
        return InvalidRequest("line", f"not JSON ({exc.msg})", "one JSON object per line")
    if not isinstance(row, dict):
        return InvalidRequest("line", "not a JSON object", "one JSON object per line")
    for key, value in row.items():
        if key not in _FIELDS:
            continue
        if isinstance(value, bool):
            return InvalidRequest(key, f"is {str(value).lower()}, a bool",
                                  "an integer: 1, 2 or 3" if key == "max_hops" else "a string")
        if value is not None and not isinstance(value, str):
            kind = "an object" if isinstance(value, dict) else "an array"
            return InvalidRequest(key, f"is {kind}",
                                  "a number" if key in ("amount", "max_hops") else "a string")
        if key == "max_hops" and isinstance(value, str) and not value.isascii():
            return InvalidRequest(key, "not an integer", "1, 2 or 3")
    return row


def _records_json(lines: Iterator[str]) -> Iterator[tuple[int, str, dict[str, Any] | InvalidRequest]]:
    for n, raw in enumerate(lines, 1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        yield n, _digest(text), _json_row(text)


def _records_csv(f: IO[str], first: str, source: str
                 ) -> Iterator[tuple[int, str, dict[str, Any] | InvalidRequest]]:
    old = csv.field_size_limit(MAX_FIELD)
    try:
        yield from _csv_rows(csv.reader(_chain(first, f)), source)
    finally:
        csv.field_size_limit(old)


def _chain(first: str, f: IO[str]) -> Iterator[str]:
    yield first
    yield from f


def _csv_rows(reader: Any, source: str) -> Iterator[tuple[int, str, dict[str, Any] | InvalidRequest]]:
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        header = []
    names = [h.strip() for h in header]
    if not {"sell", "buy", "amount"} <= set(names):
        raise InvalidRequest(source, "no CSV header with sell,buy,amount",
                             "CSV with a header sell,buy,amount[,side] or JSON lines")
    unknown = sorted(set(names) - set(_FIELDS) - {""})
    end = reader.line_num
    while True:
        start = end + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            problem = "over the field size limit" if "limit" in str(exc) else f"unreadable ({exc})"
            yield start, _digest(f"{start}:{exc}"), InvalidRequest(
                "line", problem, f"CSV fields of at most {MAX_FIELD} characters")
            continue
        end = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        digest = _digest("\x1f".join(values))
        if unknown:
            yield start, digest, InvalidRequest(unknown[0][:40], "unknown column",
                                                ", ".join(_FIELDS))
        elif len(values) > len(names):
            yield start, digest, InvalidRequest(
                "line", f"{len(values) - len(names)} more values than the header's {len(names)}",
                "one value per header column")
        else:
            yield start, digest, {k: v.strip() for k, v in zip(names, values, strict=False) if k}


def iter_queries(f: IO[str], source: str, make: Callable[..., QuoteRequest]) -> Iterator[Record]:
    """Every record of ``f`` (text, opened with ``encoding="utf-8-sig"`` and ``newline=""``), in
    order, as a :class:`Record`; read lazily. An unreadable header is an
    :class:`InvalidRequest` naming ``source`` (raised before the first record)."""
    first = ""
    leading = 0
    for first in f:
        if first.strip():
            break
        leading += 1
    rows = (_records_json(_chain(first, f)) if first.lstrip().startswith("{")
            else _records_csv(f, first, source))
    for n, digest, row in rows:
        yield Record(n + leading, digest, row if isinstance(row, InvalidRequest) else _make(row, make))


def _make(row: dict[str, Any], make: Callable[..., QuoteRequest]) -> QuoteRequest | InvalidRequest:
    unknown = sorted(set(row) - set(_FIELDS))
    if unknown:
        return InvalidRequest(unknown[0][:40], "unknown key", ", ".join(_FIELDS))
    fields = {k: v for k, v in row.items() if v not in (None, "")}
    try:
        if "max_hops" in fields:
            text = fields["max_hops"]
            if not (text.isascii() and text.isdigit()):
                raise InvalidRequest("max_hops", "not an integer", "1, 2 or 3")
            fields["max_hops"] = int(text)
        for need in _NEED:
            if need not in fields:
                raise InvalidRequest(need, "missing", "sell, buy and amount on every line")
        return make(fields.pop("sell"), fields.pop("buy"), fields.pop("amount"), **fields)
    except InvalidRequest as exc:
        return exc


def error_line(rec: Record) -> bytes:
    exc = rec.query
    assert isinstance(exc, InvalidRequest)
    return _ENC.encode({"line": rec.line, "digest": rec.digest,
                        "error": {"field": exc.field, "problem": exc.problem,
                                  "allowed": exc.allowed}})


def _without_nulls(value: Any) -> Any:
    """``value`` with every ``null`` field of its objects left out (the compact form)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def answer_body(rs: Any, mode: str, *, routes: int = 2, full: bool = False) -> bytes:
    """The JSON of one answer without its opening brace, to follow a line's own fields in
    :func:`result_line`: encoded once per answer however many lines share it."""
    doc = routeset_to_dict(rs, mode)
    if not full:
        doc["routes"] = [_without_nulls(r) for r in doc["routes"][:max(routes, 1)]]
        for r in doc["routes"]:  # a timestamp to the millisecond, not float noise
            if isinstance(r.get("observed_at"), float):
                r["observed_at"] = round(r["observed_at"], 3)
        counts, kept = compact_unavailable(doc["unavailable"], doc["request"])
        doc["left_out"] = counts
        # one network's detail does not describe the others the entry stands for
        doc["unavailable"] = [{k: v for k, v in e.items() if k != "detail"} if "markets" in e
                              else e for e in kept]
    return _ENC.encode(doc)[1:]


def result_line(rec: Record, body: bytes) -> bytes:
    """One answer line: the record's ``line`` and ``digest``, then the answer's ``body``."""
    return _ENC.encode({"line": rec.line, "digest": rec.digest})[:-1] + b"," + body


def answered_prefix(path: str) -> tuple[dict[int, str], int]:
    """``({line: digest} already answered, byte offset just after the last complete line)`` of a
    partial output file; a torn last line (no newline, or not JSON) is not counted."""
    done: dict[int, str] = {}
    good = 0
    with open(path, "rb") as f:
        offset = 0
        for raw in f:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                doc = json.loads(raw)
            except ValueError:
                break
            if not (isinstance(doc, dict) and isinstance(doc.get("line"), int)
                    and isinstance(doc.get("digest"), str)):
                raise InvalidRequest("--resume", f"{path} holds a line that is not a batch answer",
                                     "the --out file of an earlier run of this batch")
            done[doc["line"]] = doc["digest"]
            good = offset
    return done, good


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


def summary_lines(queries: int, invalid: int, distinct: int, answered: int, routes: int,
                  firm: int, spent: dict[str, int], wall: float, dry: set[str]) -> list[str]:
    units = ", ".join(f"{p} {u}" for p, u in sorted(spent.items())) or "none"
    lines = [
        f"queries {queries} ({invalid} invalid, {distinct} distinct)",
        f"answered {answered}: {routes} with a route, {firm} firm, {routes - firm} indicative",
        f"budget units spent: {units}",
        f"wall time {wall:.2f} s",
    ]
    if dry:
        lines.append(f"budget ran dry: {', '.join(sorted(dry))} (those answers stay indicative)")
    return lines
