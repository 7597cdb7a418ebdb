"""Raw, doc-written requests to the sandbox's emulators (no adapter code): one signer per provider.

Each ``*_headers`` function builds the headers a client following the provider's doc sends for the
exact ``body`` bytes given; the tests choose the bytes, the header names and the key order, so a
test can send the reading it means to prove accepted or refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def ff_headers(block: Mapping[str, str], body: bytes) -> dict[str, str]:
    """FixedFloat: ``X-API-KEY`` and ``X-API-SIGN`` = hex HMAC-SHA256(secret, raw body)."""
    sign = hmac.new(block["api_secret"].encode(), body, hashlib.sha256).hexdigest()
    return {"X-API-KEY": block["api_key"], "X-API-SIGN": sign,
            "Content-Type": "application/json"}


def flypay_headers(block: Mapping[str, str], body: bytes, *,
                   key_header: str = "Api-Key") -> dict[str, str]:
    """FlyPay: the key in ``key_header`` and ``Signature`` = hex HMAC-SHA256(secret, raw body)."""
    sign = hmac.new(block["api_secret"].encode(), body, hashlib.sha256).hexdigest()
    return {key_header: block["api_key"], "Signature": sign, "Accept": "application/json",
            "Content-Type": "application/json"}


def gatepay_headers(block: Mapping[str, str], body: bytes = b"", *,
                    nonce: str | None = None) -> dict[str, str]:
    """Gate Pay: ms timestamp, nonce, hex HMAC-SHA512 over ``ts\\nnonce\\nbody\\n``."""
    ts = str(int(time.time() * 1000))
    nonce = nonce or hashlib.sha256(f"{ts}{time.perf_counter_ns()}".encode()).hexdigest()[:16]
    message = f"{ts}\n{nonce}\n".encode() + body + b"\n"
    sign = hmac.new(block["api_secret"].encode(), message, hashlib.sha512).hexdigest()
    return {"X-GatePay-Certificate-ClientId": block["client_id"], "X-GatePay-Timestamp": ts,
            "X-GatePay-Nonce": nonce, "X-GatePay-Signature": sign,
            "Content-Type": "application/json"}


def onebitpay_canonical(params: Mapping[str, str], order: str) -> str:
    """``k=v&...`` over ``params`` sorted in strict ASCII order or ignoring case (the example)."""
    keys = sorted(params) if order == "ascii" else sorted(params, key=lambda k: (k.lower(), k))
    return "&".join(f"{k}={params[k]}" for k in keys)


def onebitpay_headers(block: Mapping[str, str], body: Mapping[str, Any], *,
                      order: str = "ascii") -> dict[str, str]:
    """1BitPay: public params in headers, ``Sign`` = md5(k=v&... + secret) in ``order``."""
    public = {"Nonce": "a1b2c3", "TimeStamp": str(int(time.time() * 1000)),
              "MerchantNo": block["merchant_no"], "SignType": "1", "Lang": "en",
              "ApiKey": block["api_key"]}
    params = {**{k: str(v) for k, v in body.items() if v not in (None, "")}, **public}
    text = onebitpay_canonical(params, order) + block["api_secret"]
    return {**public, "Sign": hashlib.md5(text.encode()).hexdigest(),
            "Content-Type": "application/json"}


def fatpay_headers(block: Mapping[str, str], host: str, path: str,
                   query: Mapping[str, str]) -> dict[str, str]:
    """FaTPay: ``x-fp-*`` headers and base64 RSA-SHA256 over ``GET+host+path?sorted k=v``."""
    headers = {"X-Fp-Partner-Id": block["partner_id"], "X-Fp-Nonce": "868964",
               "X-Fp-Timestamp": str(int(time.time())), "X-Fp-Version": "v1.0"}
    signed = {**query, **{k.lower(): v for k, v in headers.items()}}
    text = "GET" + host + path + "?" + "&".join(f"{k}={signed[k]}" for k in sorted(signed))
    key = serialization.load_pem_private_key(block["private_key_pem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    sig = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**headers, "X-Fp-Signature": base64.b64encode(sig).decode()}


async def send(session: aiohttp.ClientSession, method: str, url: str, *, body: bytes = b"",
               headers: Mapping[str, str] | None = None,
               params: Mapping[str, str] | None = None) -> tuple[int, Mapping[str, str], bytes]:
    """One request; the answer's status, headers and raw body."""
    data: bytes | io.BytesIO | None = body or None
    if len(body) > 512 * 1024:  # aiohttp warns on big raw bytes
        data = io.BytesIO(body)
    async with session.request(method, url, data=data, headers=dict(headers or {}),
                               params=params) as r:
        return r.status, r.headers, await r.read()


def loads(raw: bytes) -> Any:
    return json.loads(raw)
