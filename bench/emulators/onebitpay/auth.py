"""1BitPay request signing, written from the doc (鉴权规则) and docs/providers.md: pure functions.

The public params travel in **headers**: ``Nonce``, ``TimeStamp`` (13-digit ms), ``MerchantNo``,
``SignType`` (1 = MD5), ``Lang`` (en|zh), ``ApiKey`` and ``Sign``. ``Sign`` is the lowercase hex
MD5 of ``k=v&k=v...`` over the public params and the JSON body's top-level params, minus ``Sign``
and empty values, with the API secret appended (no separator). Values are raw (not URL-encoded):
strings as sent, integers and decimals as their JSON text, booleans ``true``/``false``, nested
values as compact JSON; ``null`` and ``""`` are left out.

Key order: the doc says "ASCII order" but its worked example sorts **case-insensitively**
(``...MerchantNo=..&name=..&Nonce=..``). Real clients follow either, so :func:`verify` accepts
strict ASCII order and case-insensitive order (with either tie-break when two keys differ only in
case, e.g. the header ``MerchantNo`` and a body ``merchantNo``). A body that is not a JSON object
(``/api/otc/batch/sell`` takes an array) contributes no params: the public params alone are
signed. Hex is compared case-insensitively in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "ORDERS",
    "PUBLIC_PARAMS",
    "canonical_strings",
    "md5_sign",
    "param_text",
    "signed_params",
    "verify",
]

#: Header names exactly as the doc spells them (HTTP header lookup is case-insensitive).
PUBLIC_PARAMS: Final[tuple[str, ...]] = (
    "Nonce", "TimeStamp", "MerchantNo", "SignType", "Lang", "ApiKey", "Sign")
_HEX32: Final = re.compile(r"^[0-9a-fA-F]{32}$")


def param_text(value: Any) -> str | None:
    """How a param value appears in the string to sign; None = left out (null or empty)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    text = _json_text(value)
    return text or None


def _json_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_quote(str(k))}:{_json_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _quote(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


def signed_params(public: Mapping[str, str], body: object) -> dict[str, str]:
    """The params that enter the signature: public ones (headers win) plus the body's, no Sign."""
    merged: dict[str, Any] = {}
    if isinstance(body, dict):
        merged.update(body)
    merged.update(public)
    out: dict[str, str] = {}
    for key, value in merged.items():
        if key == "Sign":
            continue
        text = param_text(value)
        if text is not None:
            out[str(key)] = text
    return out


#: Key orders: ``ascii`` (the rule's text) and ``casefold`` (the worked example).
ORDERS: Final = ("ascii", "casefold")


def _orders(keys: Iterable[str], order: str | None) -> list[list[str]]:
    ks = list(keys)
    out = []
    if order in (None, "ascii"):
        out.append(sorted(ks))                                            # strict ASCII (the text)
    if order in (None, "casefold"):
        out += [sorted(ks, key=lambda k: (k.lower(), k)),                 # the example, upper first
                sorted(ks, key=lambda k: (k.lower(), k.swapcase()))]      # the example, lower first
    return out


def canonical_strings(params: Mapping[str, str], order: str | None = None) -> list[str]:
    """Every accepted ``k=v&...`` string for ``params`` (without the secret), distinct, in order:
    under ``order`` (one of :data:`ORDERS`) only, or, with None, under either."""
    seen: list[str] = []
    for order_keys in _orders(params, order):
        s = "&".join(f"{k}={params[k]}" for k in order_keys)
        if s not in seen:
            seen.append(s)
    return seen


def md5_sign(canonical: str, secret: str) -> str:
    """32-char lowercase hex MD5 of ``canonical + secret`` (UTF-8)."""
    return hashlib.md5((canonical + secret).encode("utf-8")).hexdigest()


def verify(params: Mapping[str, str], secret: str, given: str, order: str | None = None) -> bool:
    """True if ``given`` signs ``params`` under the key ``order`` (None: either order)."""
    given = given.strip()
    if not _HEX32.match(given):
        return False
    want = given.lower().encode()
    ok = False
    for canonical in canonical_strings(params, order):
        ok |= hmac.compare_digest(md5_sign(canonical, secret).encode(), want)
    return ok
