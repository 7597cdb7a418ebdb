"""Turning caller input into a :class:`QuoteRequest`, or a typed :class:`InvalidRequest`."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

from router.assets import Asset, parse_asset
from router.errors import InvalidRequest
from router.model import QuoteRequest

__all__ = ["MAX_AMOUNT", "MAX_DEADLINE", "make_request", "parse_amount", "parse_deadline",
           "requests_of"]

#: No asset is traded in amounts this large; anything above is a typo or an attack.
MAX_AMOUNT: Final = Decimal("1e12")
MAX_DEADLINE: Final = 120.0
MAX_HOPS: Final = 3
#: An amount as text: ASCII digits with at most one decimal point, nothing else (no sign, no
#: exponent, no ``_`` separators, no other scripts' digits, which ``Decimal()`` would all accept).
_AMOUNT_TEXT: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_AMOUNT_ALLOWED: Final = "ASCII digits with an optional decimal point, such as '0.5' or '1000'"
_SIDES: Final = ("sell", "buy")
_RATE_TYPES: Final = ("any", "fixed", "float")


def parse_amount(value: object, asset: Asset, field: str = "amount") -> Decimal:
    """An exact, positive, finite amount with no more decimals than ``asset`` has."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidRequest(field, f"{type(value).__name__} is not an exact amount",
                             "a Decimal, an int or a decimal string such as '0.5'")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        amount = _amount_text(value, field)
    else:
        raise InvalidRequest(field, f"{type(value).__name__} is not an amount",
                             "a Decimal, an int or a decimal string")
    if not amount.is_finite():
        raise InvalidRequest(field, f"{amount} is not finite", "a finite positive number")
    if amount <= 0:
        raise InvalidRequest(field, f"{amount} is not positive", "a number greater than 0")
    if amount > MAX_AMOUNT:
        raise InvalidRequest(field, "amount is absurdly large", f"at most {MAX_AMOUNT:f}")
    decimals = asset.decimals
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if decimals is not None and -exponent > decimals:
        raise InvalidRequest(field, f"{asset.coin} has {decimals} decimals, got {-exponent}",
                             f"at most {decimals} decimal places for {asset.coin}")
    return amount


def _amount_text(value: str, field: str) -> Decimal:
    text = value.strip(" \t\r\n")
    shown = text if len(text) <= 24 else text[:21] + "..."
    if _AMOUNT_TEXT.fullmatch(text) is None:
        if text[:1] == "-" and _AMOUNT_TEXT.fullmatch(text[1:]):
            raise InvalidRequest(field, f"{shown} is not positive", "a number greater than 0")
        raise InvalidRequest(field, f"{shown!r} is not a plain decimal number", _AMOUNT_ALLOWED)
    digits = text.split(".")[0].lstrip("0")
    if len(digits) > len(f"{MAX_AMOUNT:f}") or len(text) > 64:
        raise InvalidRequest(field, f"{shown!r} is absurdly large or long",
                             f"at most {MAX_AMOUNT:f}, in at most 64 characters")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise InvalidRequest(field, f"{shown!r} is not a number", _AMOUNT_ALLOWED) from None


def parse_deadline(value: object, field: str = "deadline") -> float | None:
    """A deadline in seconds (a time budget, not money, so a float is fine)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise InvalidRequest(field, "not a number of seconds", f"0 < seconds <= {MAX_DEADLINE:g}")
    if isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value.strip(" \t")) is None:
        raise InvalidRequest(field, f"{value[:24]!r} is not a plain number of seconds",
                             f"0 < seconds <= {MAX_DEADLINE:g}, ASCII digits such as '2.5'")
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidRequest(field, "not a number of seconds",
                             f"0 < seconds <= {MAX_DEADLINE:g}") from None
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_DEADLINE:
        raise InvalidRequest(field, f"{value} is out of range", f"0 < seconds <= {MAX_DEADLINE:g}")
    return seconds


def _names(value: object, field: str, known: Iterable[str]) -> tuple[str, ...]:
    allowed = sorted(known)
    if isinstance(value, str):
        items = [v.strip().lower() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = [str(v).strip().lower() for v in value]
    else:
        raise InvalidRequest(field, "expected provider names", ", ".join(allowed))
    for item in items:
        if item not in allowed:
            raise InvalidRequest(field, f"unknown provider {item!r}", ", ".join(allowed))
    return tuple(dict.fromkeys(items))


def make_request(
    sell: object,
    buy: object,
    amount: object,
    *,
    side: object = "sell",
    rate_type: object = "any",
    max_hops: object = 2,
    providers: object = None,
    exclude: object = (),
    known_providers: Iterable[str] = (),
) -> QuoteRequest:
    """Validate every field; raise :class:`InvalidRequest` naming the first bad one."""
    sell_asset = parse_asset(sell, "sell")
    buy_asset = parse_asset(buy, "buy")
    if side not in _SIDES:
        raise InvalidRequest("side", f"{side!r} is not a side", "sell, buy")
    if rate_type not in _RATE_TYPES:
        raise InvalidRequest("rate_type", f"{rate_type!r} is not a rate type", "any, fixed, float")
    if isinstance(max_hops, bool) or not isinstance(max_hops, int) or not 1 <= max_hops <= MAX_HOPS:
        raise InvalidRequest("max_hops", f"{max_hops!r} is not allowed",
                             f"an integer from 1 to {MAX_HOPS}")
    value = parse_amount(amount, sell_asset if side == "sell" else buy_asset)
    known = tuple(known_providers)
    chosen = None if providers is None else _names(providers, "providers", known)
    if chosen == ():
        raise InvalidRequest("providers", "no provider named", ", ".join(sorted(known)))
    excluded = _names(exclude, "exclude", known) if exclude else ()
    return QuoteRequest(
        sell=sell_asset.id,
        buy=buy_asset.id,
        amount=value,
        side=side,
        rate_type=rate_type,
        max_hops=max_hops,
        providers=chosen,
        exclude=excluded,
    )


def requests_of(items: Iterable[object], make: Callable[..., QuoteRequest]) -> list[QuoteRequest]:
    """Validate a batch: :class:`QuoteRequest` objects as they are, mappings with ``sell``,
    ``buy``, ``amount`` (and options) through ``make``; :class:`InvalidRequest` names the first
    bad one (``requests[3].amount``)."""
    validated = []
    for i, item in enumerate(items):
        if isinstance(item, QuoteRequest):
            validated.append(item)
            continue
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"requests[{i}]", "not a request", "QuoteRequest or a mapping")
        fields = dict(item)
        try:
            sell, buy, amount = fields.pop("sell"), fields.pop("buy"), fields.pop("amount")
        except KeyError as exc:
            raise InvalidRequest(f"requests[{i}].{exc.args[0]}", "missing",
                                 "sell, buy and amount are required") from None
        try:
            validated.append(make(sell, buy, amount, **fields))
        except InvalidRequest as exc:
            raise InvalidRequest(f"requests[{i}].{exc.field}", exc.problem, exc.allowed) from None
        except TypeError:
            raise InvalidRequest(f"requests[{i}]", f"unknown field in {sorted(fields)}",
                                 "side, rate_type, max_hops, providers, exclude") from None
    return validated
