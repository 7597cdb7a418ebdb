"""FlyPay request signing and response verification.

Both directions use the same rule (the doc's ``hash_hmac("sha256", $json_data, $secret_key)``;
see ``docs/providers.md``): lowercase hex HMAC-SHA256 keyed with the secret key over the **exact
raw bytes**.

* Request: header ``Signature`` over the raw JSON body sent, and the public key in **both**
  ``Api-Key`` (the doc's list of mandatory headers and its curl example) and ``Authorization``
  (the next paragraph: "must contain the public key"), as it stands, no ``Bearer``. The key is
  public, so sending it twice discloses nothing, and whichever header FlyPay reads finds it. A
  call without parameters sends and signs ``{}``.
* Response: header ``Signature`` over the raw response body; compared case-insensitively and in
  constant time.

The scheme has no timestamp or nonce, so no clock or nonce source is needed: pure functions.
"""

from __future__ import annotations

import hashlib
import hmac

from router.secret import Secret

__all__ = ["CONTENT_TYPE", "sign", "signed_headers", "verify"]

CONTENT_TYPE = "application/json"


def sign(secret: bytes, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``body`` keyed with ``secret``."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` (a response's ``Signature`` header) signs ``body``; ``None`` → no."""
    if signature is None:
        return False
    given = signature.strip().lower().encode("ascii", "replace")
    return hmac.compare_digest(given, sign(secret, body).encode("ascii"))


def signed_headers(api_key: Secret, api_secret: Secret, body: bytes) -> dict[str, str]:
    """The headers of one signed API call whose raw body is ``body`` (the doc's four, with the
    key in both of the headers the doc names for it)."""
    key = api_key.reveal()
    return {
        "Accept": "application/json",
        "Content-Type": CONTENT_TYPE,
        "Api-Key": key,
        "Authorization": key,
        "Signature": sign(api_secret.encode(), body),
    }
