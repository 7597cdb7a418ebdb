"""FixedFloat request signing.

``X-API-SIGN`` is the lowercase hex HMAC-SHA256 of the **exact raw body bytes** sent, keyed with the
API secret (known-answer vectors in ``docs/providers.md``). A call without parameters sends and signs ``{}``.
FixedFloat's scheme has no timestamp or nonce, so the signer needs no clock: it is a pure function.
"""

from __future__ import annotations

import hashlib
import hmac

from router.secret import Secret

__all__ = ["CONTENT_TYPE", "sign", "signed_headers"]

CONTENT_TYPE = "application/json; charset=UTF-8"


def sign(secret: bytes, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``body`` keyed with ``secret``."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_headers(api_key: Secret, api_secret: Secret, body: bytes) -> dict[str, str]:
    """The headers of one signed API call whose raw body is ``body``."""
    return {
        "Accept": "application/json",
        "Content-Type": CONTENT_TYPE,
        "X-API-KEY": api_key.reveal(),
        "X-API-SIGN": sign(api_secret.encode(), body),
    }
