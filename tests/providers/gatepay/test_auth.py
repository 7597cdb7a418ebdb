"""GatePay signer: the known-answer vectors of docs/providers.md, headers, nonce, clock."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from adapters.gatepay.auth import (
    HEADER_CLIENT_ID,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    Signer,
    random_nonce,
    sign,
    string_to_sign,
)
from router.secret import Secret

GET_VECTOR = ("7252fd04ab3082d55914c55ce31807ad4392cddc0431112753e4d7cd9729054a"
              "b0ae3200d1d8e49eed35ec5c9918e7db19e0a3069169122a745bcccaed6c6371")
POST_BODY = b'{"buyCurrency":"USDT","sellCurrency":"GT"}'
POST_VECTOR = ("78b90c5ae88f9f5716318d34a856ca2cf5f0d528eec00ec2c4691ea8efc290ed"
               "c5f19eec5785e9032c576e5dec1574eaa2d2f96bf68cddfd1ff2de06ef87d89a")


def test_get_vector() -> None:
    assert sign(b"SECRET", "1740018226125", "5241889066", b"") == GET_VECTOR


def test_post_vector() -> None:
    assert sign(b"SECRET", "1740019013818", "9722139164", POST_BODY) == POST_VECTOR


def test_string_to_sign_layout() -> None:
    assert string_to_sign("1", "n", b"{}") == b"1\nn\n{}\n"
    assert string_to_sign("1", "n", b"") == b"1\nn\n\n"
    digest = hmac.new(b"k", b"1\nn\n{}\n", hashlib.sha512).hexdigest()
    assert sign(b"k", "1", "n", b"{}") == digest and len(digest) == 128


def test_signature_covers_exact_bytes() -> None:
    spaced = b'{"buyCurrency": "USDT", "sellCurrency": "GT"}'
    assert sign(b"SECRET", "1740019013818", "9722139164", spaced) != POST_VECTOR


def test_signer_headers_reproduce_the_post_vector() -> None:
    signer = Signer(Secret("cid-123"), Secret("SECRET"), clock=lambda: 1740019013.818,
                    nonce=lambda: "9722139164")
    headers = signer.headers(POST_BODY)
    assert headers[HEADER_CLIENT_ID] == "cid-123"
    assert headers[HEADER_TIMESTAMP] == "1740019013818"  # milliseconds
    assert headers[HEADER_NONCE] == "9722139164"
    assert headers[HEADER_SIGNATURE] == POST_VECTOR
    assert headers["Content-Type"] == "application/json"
    assert "SECRET" not in repr(signer) and "cid-123" not in repr(signer)


def test_get_headers_sign_an_empty_body() -> None:
    signer = Signer(Secret("cid"), Secret("SECRET"), clock=lambda: 1740018226.125,
                    nonce=lambda: "5241889066")
    assert signer.headers()[HEADER_SIGNATURE] == GET_VECTOR


def test_nonces_are_fresh_and_alphanumeric() -> None:
    nonces = {random_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9]{1,32}", n) for n in nonces)
    signer = Signer(Secret("cid"), Secret("s"))
    assert signer.headers()[HEADER_NONCE] != signer.headers()[HEADER_NONCE]


@pytest.mark.parametrize("bad", ["", "a" * 33, "abc-def", "ab cd"])
def test_bad_nonce_source_is_refused(bad: str) -> None:
    signer = Signer(Secret("cid"), Secret("s"), nonce=lambda: bad)
    with pytest.raises(ValueError):
        signer.headers()
