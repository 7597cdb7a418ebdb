"""FlyPay signer and response verifier: known-answer vectors and an independent HMAC."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.flypay import sign, signed_headers, verify
from router.secret import Secret

#: The doc's rule is the FixedFloat one (hex HMAC-SHA256 over the raw JSON body), so the
#: The FixedFloat vector of docs/providers.md (secret ``SECRET``, body ``{}``) holds for FlyPay too.
EMPTY_VECTOR = "deaf105d300669ecb5f322fc1564ea75595b32bea172e36f338b5e7dad28f670"
#: Computed once from the doc's rule for the body our client sends for an estimate.
ESTIMATE_BODY = b'{"currency_from":"btc","currency_to":"usdt","amount":0.05}'
ESTIMATE_VECTOR = "6c46ebc0c56e746c1a5f13a31cc30b243e39ca4a5e31e364b7858967bf160f65"


def _independent(secret: str, body: bytes) -> str:
    """PHP's ``hash_hmac("sha256", $json_data, $secret_key)``, written out with hashlib only."""
    key = secret.encode().ljust(64, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + body).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).hexdigest()


@pytest.mark.parametrize(("body", "expected"), [
    (b"{}", EMPTY_VECTOR),
    (ESTIMATE_BODY, ESTIMATE_VECTOR),
])
def test_known_answers(body: bytes, expected: str) -> None:
    assert sign(b"SECRET", body) == expected
    assert _independent("SECRET", body) == expected
    assert hmac.new(b"SECRET", body, hashlib.sha256).hexdigest() == expected


def test_signature_covers_the_exact_bytes() -> None:
    spaced = b'{"currency_from": "btc", "currency_to": "usdt", "amount": 0.05}'
    assert sign(b"SECRET", spaced) != ESTIMATE_VECTOR  # Python's json.dumps spacing differs
    assert sign(b"SECRET", spaced) == _independent("SECRET", spaced)
    assert sign(b"OTHER", ESTIMATE_BODY) != ESTIMATE_VECTOR


def test_verify_accepts_only_the_right_signature() -> None:
    body = b'{"status":"success","data":{}}'
    good = sign(b"SECRET", body)
    assert verify(b"SECRET", body, good)
    assert verify(b"SECRET", body, good.upper())  # hex case does not matter
    assert verify(b"SECRET", body, f" {good} ")
    assert not verify(b"SECRET", body, None)
    assert not verify(b"SECRET", body, "")
    assert not verify(b"WRONG", body, good)
    assert not verify(b"SECRET", body + b" ", good)
    assert not verify(b"SECRET", body, good[:-1])
    assert not verify(b"SECRET", body, "é" * 64)  # non-ASCII never raises


def test_signed_headers() -> None:
    headers = signed_headers(Secret("PUBLIC"), Secret("SECRET"), ESTIMATE_BODY)
    assert headers == {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Api-Key": "PUBLIC",
        "Authorization": "PUBLIC",  # the doc names both headers for the key: both carry it
        "Signature": ESTIMATE_VECTOR,
    }
