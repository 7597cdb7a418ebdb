"""Body mutations for the ``malformed_json``, ``missing_field``, ``wrong_type`` and
``absurd_number`` faults: pure functions of the body bytes and a seeded ``random.Random``.

Field mutations parse the body keeping every JSON number's exact text (``msgspec.Raw``), change
one place in the payload (the envelope's ``data`` when there is one, else the whole document) and
write it back compactly: what they did not touch keeps its bytes' meaning and order. They prefer
money fields (names with amount, rate, price, fee, min, max, ...); an answer with nothing fitting
(not JSON, empty ``data``) is left alone (None).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from .kinds import ABSURD_NUMBER, MALFORMED_JSON, MISSING_FIELD, WRONG_TYPE

__all__ = ["ABSURD_VALUES", "garble", "mutate"]

#: What ``absurd_number`` writes: as a string where the field was a string, else as a JSON number
#: (``NaN`` has no JSON number form: it is always the string ``"NaN"``).
ABSURD_VALUES: Final = ("-5", "0", "NaN", "1e300")
_MONEY: Final = re.compile(r"amount|rate|price|fee|min|max|usd|btc|volume|total|balance|reserve",
                           re.IGNORECASE)
_NUMERIC_TEXT: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_STRUCTURAL: Final = frozenset(b'{}[]:,"')
_SWAPS: Final = {ord("{"): b"(", ord("}"): b")", ord("["): b"<", ord("]"): b">", ord(":"): b"=",
                 ord(","): b";", ord('"'): b"'"}


@dataclass(slots=True)
class _Slot:
    parent: dict[str, Any] | list[Any]
    key: str | int
    name: str

    @property
    def value(self) -> Any:
        return self.parent[self.key]  # type: ignore[index]

    def set(self, value: Any) -> None:
        self.parent[self.key] = value  # type: ignore[index]


def _raw_number(text: str) -> msgspec.Raw:
    return msgspec.Raw(text.encode())


def _reject(name: str) -> Any:
    raise ValueError(name)


def _parse(raw: bytes) -> Any:
    return json.loads(raw, parse_float=_raw_number, parse_constant=_reject)


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, msgspec.Raw)):
        return True
    return isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value.strip()) is not None


def _slots(node: Any, name: str = "") -> Iterator[_Slot]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from _slots(value, key)
            else:
                yield _Slot(node, key, key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, (dict, list)):
                yield from _slots(value, name)
            else:
                yield _Slot(node, i, name)


def _target(doc: Any) -> Any:
    if isinstance(doc, dict) and isinstance(doc.get("data"), (dict, list)) and doc["data"]:
        return doc["data"]
    return doc


def _pick(rng: random.Random, *pools: list[_Slot]) -> _Slot | None:
    for pool in pools:
        if pool:
            return pool[rng.randrange(len(pool))]
    return None


def mutate(kind: str, raw: bytes, rng: random.Random) -> bytes | None:
    """``raw`` changed by fault ``kind``, or None when the fault does not fit this body."""
    if kind == MALFORMED_JSON:
        return garble(raw, rng)
    try:
        doc = _parse(raw)
    except (ValueError, RecursionError):
        return None
    slots = list(_slots(_target(doc)))
    money = [s for s in slots if isinstance(s.key, str) and _MONEY.search(s.name)
             and _is_numeric(s.value)]
    numeric = [s for s in slots if _is_numeric(s.value)]
    if kind == MISSING_FIELD:
        slot = _pick(rng, money, [s for s in slots if isinstance(s.parent, dict)])
        if slot is None:
            return None
        del slot.parent[slot.key]  # type: ignore[arg-type]
    elif kind == WRONG_TYPE:
        slot = _pick(rng, money, numeric)
        if slot is None:
            return None
        slot.set("abc" if rng.random() < 0.5 else [slot.value])
    elif kind == ABSURD_NUMBER:
        slot = _pick(rng, money, numeric)
        if slot is None:
            return None
        text = ABSURD_VALUES[rng.randrange(len(ABSURD_VALUES))]
        as_string = isinstance(slot.value, str) or text == "NaN"
        slot.set(text if as_string else msgspec.Raw(text.encode()))
    else:
        raise ValueError(f"not a body fault: {kind}")
    return msgspec.json.encode(doc)


def garble(raw: bytes, rng: random.Random) -> bytes:
    """A body that no longer parses: cut short, or one structural character swapped."""
    if len(raw) < 2:
        return b"{"
    if rng.random() < 0.5:
        positions = [i for i, b in enumerate(raw) if b in _STRUCTURAL]
        if positions:
            i = positions[rng.randrange(len(positions))]
            out = raw[:i] + _SWAPS[raw[i]] + raw[i + 1:]
            if not _parses(out):
                return out
    return raw[:rng.randint(1, len(raw) - 1)]


def _parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
