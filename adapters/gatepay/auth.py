"""GatePay request signing (the rule and its known-answer vectors: ``docs/providers.md``).

``X-GatePay-Signature`` is the lowercase hex HMAC-SHA512, keyed with the payment API secret, of::

    timestamp + "\\n" + nonce + "\\n" + body + "\\n"

where ``timestamp`` is the ``X-GatePay-Timestamp`` header (unix **milliseconds**), ``nonce`` the
``X-GatePay-Nonce`` header (alphanumeric, at most 32 characters, fresh per request) and ``body``
the **exact bytes** sent (``""`` for a GET: the query string is not signed). The provider rejects
a timestamp more than 10 s off its own clock (code 400003).

:func:`sign` is a pure function; :class:`Signer` adds the clock and nonce source, both injected.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from typing import Final

from router.secret import Secret

from .constants import CONTENT_TYPE

__all__ = [
    "HEADER_CLIENT_ID",
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "Signer",
    "random_nonce",
    "sign",
    "string_to_sign",
]

HEADER_CLIENT_ID: Final = "X-GatePay-Certificate-ClientId"
HEADER_TIMESTAMP: Final = "X-GatePay-Timestamp"
HEADER_NONCE: Final = "X-GatePay-Nonce"
HEADER_SIGNATURE: Final = "X-GatePay-Signature"

_NONCE_RE: Final = re.compile(r"^[A-Za-z0-9]{1,32}$")


def string_to_sign(timestamp: str, nonce: str, body: bytes) -> bytes:
    """``ts\\nnonce\\nbody\\n`` as bytes, ``body`` untouched."""
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


def sign(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA512 (128 characters) of :func:`string_to_sign`."""
    return hmac.new(secret, string_to_sign(timestamp, nonce, body), hashlib.sha512).hexdigest()


def random_nonce() -> str:
    """A fresh nonce: 32 lowercase hex characters (alphanumeric, the documented maximum)."""
    return secrets.token_hex(16)


class Signer:
    """Signs requests for one client id. ``clock`` gives unix seconds; ``nonce`` a fresh nonce.

    The repr names neither credential.
    """

    __slots__ = ("_client_id", "_clock", "_nonce", "_secret")

    def __init__(
        self,
        client_id: Secret,
        api_secret: Secret,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = random_nonce,
    ) -> None:
        self._client_id = client_id
        self._secret = api_secret
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:
        return f"Signer(client_id={self._client_id.fingerprint}…)"

    def timestamp(self) -> str:
        """``X-GatePay-Timestamp``: the clock in whole milliseconds."""
        return str(int(self._clock() * 1000))

    def headers(self, body: bytes = b"") -> dict[str, str]:
        """The headers of one signed call whose raw body is ``body`` (``b""`` for a GET)."""
        nonce = self._nonce()
        if not _NONCE_RE.match(nonce):
            raise ValueError("nonce source gave a nonce that is not 1-32 alphanumeric characters")
        ts = self.timestamp()
        return {
            "Accept": "application/json",
            "Content-Type": CONTENT_TYPE,
            HEADER_CLIENT_ID: self._client_id.reveal(),
            HEADER_TIMESTAMP: ts,
            HEADER_NONCE: nonce,
            HEADER_SIGNATURE: sign(self._secret.encode(), ts, nonce, body),
        }
