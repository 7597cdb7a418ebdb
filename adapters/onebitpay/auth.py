"""1BitPay request signing (the doc's 鉴权规则 section; summed up in ``docs/providers.md``).

The public parameters travel as **headers**: ``Nonce``, ``TimeStamp`` (13-digit ms), ``MerchantNo``,
``SignType`` (1 = MD5), ``Lang``, ``ApiKey`` and ``Sign``. ``Sign`` is the lowercase hex MD5 of::

    k1=v1&k2=v2&...&kn=vn<api secret>

over the public parameters and the body's top-level parameters together, without ``Sign`` and
without empty values. The doc's text says "ASCII order", but its worked example sorts the keys
**case-insensitively** (``name`` between ``MerchantNo`` and ``Nonce``): ``d826a313...`` for it,
where strict ASCII order gives ``ffa33062...``. Both readings are an :data:`Order`; we sign in the
example's (``casefold``) first and the client falls back to ``ascii`` once if 1BitPay refuses the
signature, then keeps what worked for the key. Keys equal but for case (none are sent) fall back
to ASCII order between themselves.

Values are signed as they are written in the JSON body: strings as they are, integers in decimal,
``Decimal`` in plain notation (we send money as JSON strings, as the doc's examples do, so both
sides see the same text), booleans ``true``/``false``.

:class:`Signer` holds the credentials and an injected clock and nonce source; :func:`sign` and
:func:`canonical` are pure functions.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Literal

from router.secret import Secret

from .constants import LANG, SIGN_TYPE_MD5

__all__ = ["CONTENT_TYPE", "ORDERS", "Order", "Signer", "canonical", "random_nonce", "sign",
           "signed_text"]

#: How the keys are sorted: ignoring case (the worked example) or by ASCII code (the rule's text).
Order = Literal["casefold", "ascii"]
ORDERS: tuple[Order, ...] = ("casefold", "ascii")

CONTENT_TYPE = "application/json"
_NONCE_ALPHABET = string.ascii_letters + string.digits


def random_nonce() -> str:
    """Six random letters or digits (the doc: 随机6位字符或数字组合)."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(6))


def signed_text(value: object) -> str:
    """How one parameter value appears in the string to sign ("" means: left out)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot sign a parameter of type {type(value).__name__}")


def canonical(params: Mapping[str, object], order: Order = "casefold") -> str:
    """``k=v&k=v...``: ``Sign`` and empty values dropped, keys sorted case-insensitively
    (``casefold``) or by ASCII code (``ascii``)."""
    texts = {k: signed_text(v) for k, v in params.items() if k != "Sign"}
    present = (k for k, v in texts.items() if v)
    keys = sorted(present, key=lambda k: (k.lower(), k)) if order == "casefold" else sorted(present)
    return "&".join(f"{k}={texts[k]}" for k in keys)


def sign(params: Mapping[str, object], secret: bytes, order: Order = "casefold") -> str:
    """Lowercase hex MD5 of :func:`canonical` ``(params, order)`` followed directly by ``secret``."""
    text = canonical(params, order).encode()
    return hashlib.md5(text + secret, usedforsecurity=False).hexdigest()


class Signer:
    """Signs calls for one merchant credential. ``clock()`` gives unix seconds, ``nonce()`` a
    fresh nonce; both are injectable so the headers are reproducible in tests."""

    __slots__ = ("_api_key", "_api_secret", "_clock", "_lang", "_merchant_no", "_nonce")

    def __init__(
        self,
        merchant_no: Secret,
        api_key: Secret,
        api_secret: Secret,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = random_nonce,
        lang: str = LANG,
    ) -> None:
        self._merchant_no = merchant_no
        self._api_key = api_key
        self._api_secret = api_secret
        self._clock = clock
        self._nonce = nonce
        self._lang = lang

    def __repr__(self) -> str:
        return f"Signer(key={self._api_key.fingerprint}…)"

    def headers(self, body_params: Mapping[str, object],
                order: Order = "casefold") -> dict[str, str]:
        """The headers of one call whose JSON body holds ``body_params`` (top level), its keys
        sorted in ``order``."""
        public = {
            "Nonce": self._nonce(),
            "TimeStamp": str(int(self._clock() * 1000)),
            "MerchantNo": self._merchant_no.reveal(),
            "SignType": SIGN_TYPE_MD5,
            "Lang": self._lang,
            "ApiKey": self._api_key.reveal(),
        }
        clash = public.keys() & body_params.keys()
        if clash:
            raise ValueError(f"body parameters shadow public parameters: {sorted(clash)}")
        public["Sign"] = sign({**public, **body_params}, self._api_secret.encode(), order)
        return {"Accept": "application/json", "Content-Type": CONTENT_TYPE, **public}
