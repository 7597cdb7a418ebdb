"""FixedFloat signer: the known-answer vectors of docs/providers.md."""

from __future__ import annotations

import hashlib
import hmac

from adapters.fixedfloat.auth import CONTENT_TYPE, sign, signed_headers
from router.secret import Secret

PRICE_BODY = (b'{"fromCcy": "BTC", "toCcy": "ETH", "amount": 0.1, '
              b'"direction": "from", "type": "fixed"}')


def test_empty_object_vector() -> None:
    assert sign(b"SECRET", b"{}") == (
        "deaf105d300669ecb5f322fc1564ea75595b32bea172e36f338b5e7dad28f670"
    )


def test_spaced_price_body_vector() -> None:
    # Python's json.dumps output (spaces after , and :) — signed over the exact bytes
    assert sign(b"SECRET", PRICE_BODY) == (
        "b24c3dc389a558bea680a8897bccf9e4b0a37da9825da2b5f480eb3401271ebf"
    )


def test_signature_depends_on_exact_bytes() -> None:
    compact = PRICE_BODY.replace(b": ", b":").replace(b", ", b",")
    assert sign(b"SECRET", compact) != sign(b"SECRET", PRICE_BODY)
    assert sign(b"SECRET", compact) == hmac.new(b"SECRET", compact, hashlib.sha256).hexdigest()


def test_headers() -> None:
    headers = signed_headers(Secret("KEY"), Secret("SECRET"), b"{}")
    assert headers["X-API-KEY"] == "KEY"
    assert headers["X-API-SIGN"] == sign(b"SECRET", b"{}")
    assert headers["X-API-SIGN"] == headers["X-API-SIGN"].lower()
    assert headers["Content-Type"] == CONTENT_TYPE == "application/json; charset=UTF-8"
    assert "SECRET" not in repr(headers)
