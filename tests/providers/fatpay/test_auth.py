"""FaTPay signer: the string-to-sign vector of docs/providers.md, RSA round trips, key loading."""

from __future__ import annotations

import base64
import pickle
from functools import cache

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from adapters.fatpay import PrivateKey, Signer, host_of, sign, string_to_sign
from router.errors import ConfigError
from router.secret import Secret

#: docs/providers.md, FaTPay: the known-answer string to sign.
VECTOR = (
    "GETapi.ramp.fatpay.xyz/open/api/onramp/price?cryptoCurrencyCode=USDT_ERC20"
    "&currencyAmount=199&fiatCurrency=USD&x-fp-nonce=868964&x-fp-partner-id=2yQrS9A0xmM8xpfa"
    "&x-fp-timestamp=1661346861&x-fp-version=v1.0"
)


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None, *,
        fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
        password: bytes | None = None) -> str:
    key = key or rsa_key()
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()


def verify(public: rsa.RSAPublicKey, message: str, signature: str) -> None:
    public.verify(base64.b64decode(signature, validate=True), message.encode(),
                  padding.PKCS1v15(), hashes.SHA256())


def test_string_to_sign_vector() -> None:
    params = {"x-fp-version": "v1.0", "x-fp-timestamp": "1661346861", "x-fp-nonce": "868964",
              "x-fp-partner-id": "2yQrS9A0xmM8xpfa", "fiatCurrency": "USD",
              "currencyAmount": "199", "cryptoCurrencyCode": "USDT_ERC20"}
    assert string_to_sign("GET", "api.ramp.fatpay.xyz", "/open/api/onramp/price", params) == VECTOR


def test_signer_builds_the_vector_from_an_injected_clock_and_nonce() -> None:
    key = PrivateKey.load(pem())
    signer = Signer(Secret("2yQrS9A0xmM8xpfa"), key, clock=lambda: 1661346861.9,
                    nonce=lambda: "868964")
    query = {"fiatCurrency": "USD", "currencyAmount": "199", "cryptoCurrencyCode": "USDT_ERC20"}
    headers = signer.headers("GET", "api.ramp.fatpay.xyz", "/open/api/onramp/price", query)
    assert {k: v for k, v in headers.items() if k != "X-Fp-Signature"} == {
        "X-Fp-Partner-Id": "2yQrS9A0xmM8xpfa", "X-Fp-Nonce": "868964",
        "X-Fp-Timestamp": "1661346861", "X-Fp-Version": "v1.0"}
    verify(rsa_key().public_key(), VECTOR, headers["X-Fp-Signature"])
    # PKCS#1 v1.5 is deterministic: the same text signs the same way
    assert headers["X-Fp-Signature"] == sign(key, VECTOR)


def test_signature_fails_for_another_text_or_key() -> None:
    key = PrivateKey.load(pem())
    signature = sign(key, VECTOR)
    with pytest.raises(InvalidSignature):
        verify(rsa_key().public_key(), VECTOR.replace("199", "198"), signature)
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(InvalidSignature):
        verify(other.public_key(), VECTOR, signature)


def test_empties_dropped_ascii_order_and_raw_values() -> None:
    text = string_to_sign("get", "h", "/p", {"b": "x y&z", "a": "", "B": "1", "x-fp-n": "7",
                                              "c": None})  # type: ignore[dict-item]
    assert text == "GETh/p?B=1&b=x y&z&x-fp-n=7"  # upper-case before lower-case, not encoded


def test_call_without_query_signs_only_the_headers() -> None:
    signer = Signer(Secret("P1"), PrivateKey.load(pem()), clock=lambda: 5, nonce=lambda: "42")
    headers = signer.headers("GET", "127.0.0.1:8080", "/open/api/onramp/token", {})
    verify(rsa_key().public_key(), "GET127.0.0.1:8080/open/api/onramp/token?x-fp-nonce=42"
           "&x-fp-partner-id=P1&x-fp-timestamp=5&x-fp-version=v1.0", headers["X-Fp-Signature"])


def test_nonce_must_be_digits() -> None:
    signer = Signer(Secret("P1"), PrivateKey.load(pem()), nonce=lambda: "12a")
    with pytest.raises(ValueError, match="digits"):
        signer.headers("GET", "h", "/p", {})


def test_default_nonce_is_six_digits_and_varies() -> None:
    signer = Signer(Secret("P1"), PrivateKey.load(pem()))
    nonces = {signer.headers("GET", "h", "/p", {})["X-Fp-Nonce"] for _ in range(20)}
    assert all(n.isdigit() and len(n) == 6 for n in nonces) and len(nonces) > 1


@pytest.mark.parametrize(("url", "host"), [
    ("https://api.ramp.fatpay.xyz", "api.ramp.fatpay.xyz"),
    ("https://API.ramp.fatpay.xyz:443/", "api.ramp.fatpay.xyz"),
    ("http://127.0.0.1:49152", "127.0.0.1:49152"),
    ("http://localhost:80/prefix", "localhost"),
    ("https://h.example:8443", "h.example:8443"),
])
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


def test_pkcs1_and_escaped_newlines_are_accepted() -> None:
    text = pem(fmt=serialization.PrivateFormat.TraditionalOpenSSL)
    assert "BEGIN RSA PRIVATE KEY" in text
    key = PrivateKey.load(Secret(text))
    verify(rsa_key().public_key(), "m", sign(key, "m"))
    escaped = pem().strip().replace("\n", "\\n")  # as an environment variable may carry it
    verify(rsa_key().public_key(), "m", sign(PrivateKey.load(escaped), "m"))


@pytest.mark.parametrize(("value", "problem"), [
    ("", "is empty"),
    ("-----BEGIN PRIVATE KEY-----\nTOTALLYNOTAKEY\n-----END PRIVATE KEY-----\n",
     "not a readable"),
    ("secret-ish junk 0123456789", "not a readable"),
])
def test_bad_pem_is_a_config_error_that_does_not_echo_it(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        PrivateKey.load(value, field="fatpay.private_key_pem")
    assert info.value.field == "fatpay.private_key_pem" and problem in str(info.value)
    if value:  # no echo, and no chained parser error that could carry the text
        assert value.strip() not in str(info.value) and "TOTALLYNOTAKEY" not in str(info.value)
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_encrypted_and_non_rsa_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="encrypted"):
        PrivateKey.load(pem(password=b"pw"))
    with pytest.raises(ConfigError, match="not an RSA key"):
        PrivateKey.load(pem(ec.generate_private_key(ec.SECP256R1())))  # type: ignore[arg-type]


def test_key_and_signer_never_show_the_key() -> None:
    text = pem()
    key = PrivateKey.load(text)
    body = text.splitlines()[1]
    signer = Signer(Secret("partner-XYZ"), key)
    for shown in (repr(key), str(key), repr(signer)):
        assert body not in shown and "partner-XYZ" not in shown
    with pytest.raises(TypeError):
        pickle.dumps(key)
