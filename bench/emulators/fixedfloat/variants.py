"""Where FixedFloat's doc allows two readings: the sandbox variants (:mod:`..variants`).

* ``rates_path`` -- the doc sends bulk rates to ``https://ff.io/rates.xml`` (fixedfloat.txt, the
  ``price`` section); real clients fetch ``/rates/fixed.xml`` and ``/rates/float.xml``
  (what real clients fetch; docs/providers.md). ``single``: only ``/rates.xml`` (the fixed-rate feed) is served; ``split``:
  only the two per-type files. The other layout is 404. Default: all three paths.
* ``empty_params`` -- "X-API-SIGN is generated from an empty string if no parameter is passed, or
  from an empty JSON object" (fixedfloat.txt, line ~116). A provider that re-derives what it
  verifies signs a call without params one way only. ``empty``: such a call (no body, or ``{}``)
  is verified against HMAC(``""``); ``braces``: against HMAC(``"{}"``). Default: the signature of
  the exact bytes sent, so either (body, signature) pair passes.
* ``amount_type`` -- ``amount`` is "numeric" in the parameter table and a JSON number in the curl
  example, but the PHP example sends ``'0.5'``, a string. ``number`` / ``string``: ``price`` and
  ``create`` take only that JSON type (the other is code 301). Default: both.
* ``ccies_flags`` -- ``recv``/``send`` are booleans in the doc, 0/1 in captured answers
  (both seen in captures; docs/providers.md). ``bool`` / ``int``: ``ccies`` (and ``price``'s ``ccies``) answer in that
  type. An answer-side ambiguity: the default is today's ``bool``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..variants import Variant, VariantChoice
from .model import ApiError

__all__ = ["VARIANTS", "check_amount_type", "flags_as_int", "rates_path_served", "signed_bytes"]

VARIANTS: Final = (
    Variant("rates_path", ("single", "split"),
            "bulk rates at /rates.xml (the doc) or /rates/fixed.xml + /rates/float.xml (clients)",
            "lenient: serves all three paths"),
    Variant("empty_params", ("empty", "braces"),
            "a call without params is signed over \"\" or over \"{}\" (the doc says either)",
            "lenient: verifies the exact bytes sent"),
    Variant("amount_type", ("number", "string"),
            "amount as a JSON number (table, curl) or a string (PHP example)",
            "lenient: accepts both"),
    Variant("ccies_flags", ("bool", "int"),
            "recv/send as booleans (doc) or 0/1 (captures)", "bool"),
)
_AMOUNT_METHODS: Final = frozenset({"price", "create"})
_NO_PARAMS: Final = frozenset({b"", b"{}"})


def rates_path_served(variants: VariantChoice, path: str) -> bool:
    """Is the feed at ``path`` (``/rates.xml`` or ``/rates/<type>.xml``) served in this variant?"""
    return variants.accepts("rates_path", "single" if path == "/rates.xml" else "split")


def signed_bytes(variants: VariantChoice, raw: bytes) -> bytes:
    """What the signature must cover: the raw body, or, for a call without params in a strict
    ``empty_params`` variant, the one string that variant signs."""
    chosen = variants.active("empty_params")
    if chosen is None or raw.strip() not in _NO_PARAMS:
        return raw
    return b"" if chosen == "empty" else b"{}"


def check_amount_type(variants: VariantChoice, method: str, params: Mapping[str, Any]) -> None:
    """In a strict ``amount_type`` variant, ``amount`` of ``price``/``create`` of the other JSON
    type is invalid input (301)."""
    chosen = variants.active("amount_type")
    if chosen is None or method not in _AMOUNT_METHODS or "amount" not in params:
        return
    if isinstance(params["amount"], str) != (chosen == "string"):
        raise ApiError(301, f"Invalid amount: expected a JSON {chosen}")


def flags_as_int(variants: VariantChoice, method: str, data: Any) -> Any:
    """``recv``/``send`` as 0/1 in the ``int`` variant of ``ccies_flags``, else ``data`` as is."""
    if variants.active("ccies_flags") != "int":
        return data
    if method == "ccies" and isinstance(data, list):
        return [_int_flags(row) for row in data]
    if method == "price" and isinstance(data, dict) and isinstance(data.get("ccies"), list):
        return {**data, "ccies": [_int_flags(row) for row in data["ccies"]]}
    return data


def _int_flags(row: Any) -> Any:
    if not isinstance(row, dict):
        return row
    return {k: int(v) if k in ("recv", "send") and isinstance(v, bool) else v
            for k, v in row.items()}
