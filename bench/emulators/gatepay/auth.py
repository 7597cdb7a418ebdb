"""Gate Pay request authentication, as the doc and ``docs/providers.md`` describe it (pure parts).

Headers: ``X-GatePay-Certificate-ClientId``, ``X-GatePay-Timestamp`` (ms), ``X-GatePay-Nonce``,
``X-GatePay-Signature`` = hex HMAC-SHA512(api_secret, ``ts + "\\n" + nonce + "\\n" + body +
"\\n"``) over the exact body bytes received (GET signs an empty body; the query string is not
signed). The hex is compared case-insensitively in constant time. A timestamp more than 10 s from
the emulator's wall clock is refused; the nonce is 1-32 ASCII letters or digits and may be used
once per client id while its request could still be fresh (:class:`NonceWindow`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ...world import World

__all__ = [
    "CLIENT_ID_HEADER",
    "MAX_SKEW_MS",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "NonceWindow",
    "credentials",
    "nonce_ok",
    "parse_timestamp",
    "sign",
    "signature_ok",
]

CLIENT_ID_HEADER: Final = "X-GatePay-Certificate-ClientId"
TIMESTAMP_HEADER: Final = "X-GatePay-Timestamp"
NONCE_HEADER: Final = "X-GatePay-Nonce"
SIGNATURE_HEADER: Final = "X-GatePay-Signature"
MAX_SKEW_MS: Final = 10_000
_NONCE_RE: Final = re.compile(r"[A-Za-z0-9]{1,32}")
_TS_RE: Final = re.compile(r"[0-9]{1,16}")
_HEX_RE: Final = re.compile(r"[0-9a-fA-F]{128}")
_ID_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Lower-case hex HMAC-SHA512 of ``ts\\nnonce\\nbody\\n`` keyed by the secret's UTF-8 bytes."""
    message = b"".join((timestamp.encode(), b"\n", nonce.encode(), b"\n", body, b"\n"))
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def signature_ok(secret: str, timestamp: str, nonce: str, body: bytes, given: str) -> bool:
    """Is ``given`` the signature of this request (hex, any case, compared in constant time)?"""
    given = given.strip()
    if _HEX_RE.fullmatch(given) is None:
        return False
    expected = sign(secret, timestamp, nonce, body)
    return hmac.compare_digest(expected.encode(), given.lower().encode())


def parse_timestamp(raw: str) -> int | None:
    """The header's milliseconds, or None when it is not a plain non-negative integer."""
    raw = raw.strip()
    return int(raw) if _TS_RE.fullmatch(raw) else None


def nonce_ok(nonce: str) -> bool:
    """1 to 32 ASCII letters or digits."""
    return _NONCE_RE.fullmatch(nonce) is not None


@dataclass(slots=True)
class _Seen:
    order: deque[tuple[float, str]] = field(default_factory=deque)
    nonces: set[str] = field(default_factory=set)


class NonceWindow:
    """Nonces seen per client id, each remembered for ``ttl`` seconds of wall clock.

    A request is only accepted within ``MAX_SKEW_MS`` of its timestamp, so a nonce first seen at
    ``t`` can only be replayed fresh until about ``t + 20 s``; ``ttl`` covers that. Memory is
    bounded: past ``max_per_client`` live nonces the oldest are forgotten first.
    """

    def __init__(self, ttl: float = 2 * MAX_SKEW_MS / 1000 + 1,
                 max_per_client: int = 100_000) -> None:
        self.ttl = ttl
        self.max_per_client = max_per_client
        self._clients: dict[str, _Seen] = {}

    def use(self, client_id: str, nonce: str, now: float) -> bool:
        """Record ``nonce`` for ``client_id``; False if already used and still remembered."""
        seen = self._clients.setdefault(client_id, _Seen())
        while seen.order and (seen.order[0][0] <= now
                              or len(seen.order) >= self.max_per_client):
            seen.nonces.discard(seen.order.popleft()[1])
        if nonce in seen.nonces:
            return False
        seen.nonces.add(nonce)
        seen.order.append((now + self.ttl, nonce))
        return True

    def reset(self) -> None:
        self._clients.clear()


def credentials(world: World) -> dict[str, str]:
    """The sandbox's Gate Pay credentials, derived from the world's seed.

    ``client_id``: 16 characters like Gate's (``mZ96D37oKk-HrWJc``); ``api_secret``: the base64
    text of 32 seeded bytes, like Gate's payment API secrets (its UTF-8 text is the HMAC key).
    """
    raw = world.digest("credentials", "gatepay", "client_id")
    client_id = "".join(_ID_ALPHABET[b % 64] for b in raw[:16])
    secret = base64.b64encode(world.digest("credentials", "gatepay", "api_secret")).decode()
    return {"client_id": client_id, "api_secret": secret}
