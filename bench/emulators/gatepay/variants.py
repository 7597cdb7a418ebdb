"""Where Gate Pay's convert doc allows two readings: the sandbox variants (:mod:`..variants`).

* ``pair_rows`` -- ``GET /v1/pay/convert/pair`` answers rows ``{pair, sellCurrency,
  sellCurrencyMin/Max, buyCurrency, buyCurrencyMin/Max}`` (gatepay-convert.txt, lines 16-32 and
  the example at 131-161). Is a row one direction (sell ``sellCurrency`` for ``buyCurrency``), or
  a market serving both directions, each coin's limits under its own name? The doc's example
  (``BTC_USDT`` and ``BNB_USDT`` for ``currency=GT&side=buy``) fits the second reading better.
  ``directed``: a row is one direction; rows are listed per direction, ``side`` filters them, and
  a direction without a row is not offered (here: an alt, a coin outside the hubs, is bought only
  with USDT, so ``BTC -> SOL`` has no row and its preview is 400001 while ``SOL -> BTC`` and
  ``USDT -> SOL`` work). ``both``: one row per pair, named base_quote in market convention
  (``BTC_USDT``, ``SOL_BTC``), ``side`` ignored; both directions convert, each coin within the
  limits its own fields give. Default: today's rows, one per direction, every listed pair
  convertible both ways.
* ``preview_rate_field`` -- the preview's table calls the rate ``price``; the convert example
  sends and answers ``rate`` (real clients read either; docs/providers.md). ``price`` / ``rate``: the
  preview answers that field only. An answer-side ambiguity: the default sends both.
* ``order_id_param`` -- the order query's table names the parameter ``OrderID`` (line 86), the
  curl example sends ``orderId`` (line 218). ``OrderID`` / ``orderId``: only that spelling is read
  (the other is a missing parameter, 400001). Default: either (and ``order_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ...world.profile_gatepay import COINS, HUBS, pair_supported
from ..variants import Variant, VariantChoice
from .pricing import QUOTE_PRIORITY

__all__ = ["VARIANTS", "first_of", "order_id_names", "orient", "preview_answer", "row_pairs",
           "strictly_supported"]

VARIANTS: Final = (
    Variant("pair_rows", ("directed", "both"),
            "a pair row is one direction (sellCurrency -> buyCurrency) or serves both",
            "lenient: a row per direction, every pair convertible both ways"),
    Variant("preview_rate_field", ("price", "rate"),
            "the preview's rate is named price (table) or rate (example)", "both fields"),
    Variant("order_id_param", ("OrderID", "orderId"),
            "the order query parameter is OrderID (table) or orderId (example)",
            "lenient: accepts either (and order_id)"),
)
_ORDER_ID_NAMES: Final = ("orderId", "OrderID", "order_id")


def _directed_ok(sell: str, buy: str) -> bool:
    """In ``directed``: any coin sells into a hub; an alt is bought with USDT only."""
    return buy in HUBS or sell == "USDT"


def strictly_supported(variants: VariantChoice, sell: str, buy: str) -> bool:
    """Does the variant offer ``sell -> buy`` (given that the world's Gate Pay converts it)?"""
    return variants.active("pair_rows") != "directed" or _directed_ok(sell, buy)


def orient(a: str, b: str) -> tuple[str, str]:
    """The pair as a ``both`` row names it: (base, quote), the quote first in QUOTE_PRIORITY."""
    return (a, b) if QUOTE_PRIORITY.index(b) < QUOTE_PRIORITY.index(a) else (b, a)


def row_pairs(variants: VariantChoice, currency: str, side: str | None,
              directed_pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ``(sellCurrency, buyCurrency)`` of each row listed for ``currency`` and ``side``;
    ``directed_pairs`` is today's per-direction list."""
    mode = variants.active("pair_rows")
    if mode == "both":
        return [orient(currency, c) for c in COINS if pair_supported(currency, c)]
    if mode == "directed":
        return [(s, b) for s, b in directed_pairs if _directed_ok(s, b)]
    return directed_pairs


def preview_answer(variants: VariantChoice, data: dict[str, Any]) -> dict[str, Any]:
    """The preview's data with only the rate field the variant names (both by default)."""
    chosen = variants.active("preview_rate_field")
    if chosen is None:
        return data
    drop = "rate" if chosen == "price" else "price"
    return {k: v for k, v in data.items() if k != drop}


def order_id_names(variants: VariantChoice) -> tuple[str, ...]:
    """The query parameter names an order id is read from."""
    chosen = variants.active("order_id_param")
    return _ORDER_ID_NAMES if chosen is None else (chosen,)


def first_of(query: Mapping[str, str], names: tuple[str, ...]) -> str:
    """The first non-empty value among ``names`` in ``query`` ("" when none)."""
    return next((query[k].strip() for k in names if query.get(k, "").strip()), "")
