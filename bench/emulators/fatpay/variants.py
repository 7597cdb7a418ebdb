"""Where FaTPay's doc allows two readings, or is silent: the sandbox variants (:mod:`..variants`).

* ``lists`` -- the doc names the token and fiat lists (list-all-cyptocurrencies,
  list-all-fiat-currencies) but not their paths or fields (docs/providers.md: "design them
  sensibly"). ``designed``: today's ``/open/api/onramp/token`` and ``/currency`` rows (the
  default); ``missing``: both paths are 404 (FaTPay's envelope, code 10002), so a client must fall
  back to the markets it was configured with; ``renamed``: both answer another plausible layout,
  ``data = {"list": [...]}`` with other field names (tokens ``{symbol, chain, code, decimals}``,
  fiats ``{currency, decimals, payments: [{method, min, max}]}``), which a client keyed on today's
  names cannot read.
* ``code_type`` -- ``code`` is a String in the envelope table and ``"10000"`` in its examples, an
  integer in practice (real clients; docs/providers.md). ``int`` (the default) / ``string``: every envelope's code in
  that JSON type.
* ``payment_options`` -- the price answer's ``paymentOptions`` is one object in the doc's example
  and a list in practice. ``list`` (the default) / ``object``: the option the query's ``payment``
  names (else the first) as one object.
"""

from __future__ import annotations

from typing import Any, Final

from ..variants import Variant, VariantChoice

__all__ = ["LIST_METHODS", "VARIANTS", "list_answer", "list_served", "payment_options_answer",
           "wire_code"]

VARIANTS: Final = (
    Variant("lists", ("designed", "missing", "renamed"),
            "token/currency list paths and fields are undocumented: today's design, absent "
            "(404), or another layout", "designed"),
    Variant("code_type", ("int", "string"),
            "envelope code as an integer (practice) or a string (doc table, examples)", "int"),
    Variant("payment_options", ("list", "object"),
            "price paymentOptions as a list (practice) or one object (doc example)", "list"),
)
LIST_METHODS: Final = frozenset({"token", "currency"})


def list_served(variants: VariantChoice) -> bool:
    return variants.active("lists") != "missing"


def wire_code(variants: VariantChoice, code: int) -> int | str:
    return str(code) if variants.active("code_type") == "string" else code


def list_answer(variants: VariantChoice, method: str, data: Any) -> Any:
    """The token/currency list in the variant's layout (``data`` is today's rows)."""
    if variants.active("lists") != "renamed" or method not in LIST_METHODS:
        return data
    if method == "token":
        rows = [{"symbol": r["cryptoCurrency"], "chain": r["network"],
                 "code": r["cryptoCurrencyCode"], "decimals": r["precision"]} for r in data]
    else:
        rows = [{"currency": r["fiatCurrency"], "decimals": r["precision"],
                 "payments": [{"method": o["name"], "min": o["minAmount"], "max": o["maxAmount"]}
                              for o in r["paymentOptions"]]} for r in data]
    return {"list": rows}


def payment_options_answer(variants: VariantChoice, method: str, data: Any,
                           payment: str | None) -> Any:
    """The price answer with ``paymentOptions`` as one object in the ``object`` variant."""
    if variants.active("payment_options") != "object" or method != "price":
        return data
    options = data["paymentOptions"]
    chosen = next((o for o in options if o["name"] == payment), options[0] if options else None)
    return {**data, "paymentOptions": chosen}
