"""Pathological requests get the provider's own answer, never the framework's; stalls are dropped.

Every request here is written from the docs (signed by :mod:`._raw`, never by adapter code): a
correctly signed body nested thousands of levels deep, invalid JSON, wrong types, a body over the
size limit, an unknown path or method, and an exception escaping a handler must each come back in
the provider's documented envelope. A client that sends half a request and stalls is disconnected
after the (short, configured) read timeout.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from bench.emulators.fixedfloat import STATE_KEY as FF_STATE
from bench.sandbox import Sandbox

from ._raw import ff_headers, flypay_headers, gatepay_headers, onebitpay_headers, send

DEEP = 5000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
async def sb() -> AsyncIterator[tuple[Sandbox, aiohttp.ClientSession]]:
    async with Sandbox(seed=3, frozen=True, no_limits=True, read_timeout=0.3) as box:
        async with aiohttp.ClientSession() as session:
            yield box, session


def ff_ok(raw: bytes, code: int) -> dict[str, Any]:
    env = json.loads(raw)
    assert set(env) == {"code", "msg", "data"} and env["code"] == code, env
    return env


async def test_fixedfloat_answers_pathological_bodies_with_its_envelope(sb: Any) -> None:
    box, s = sb
    block = box.providers["fixedfloat"]
    url = block["base_url"] + "/api/v2/price"
    bodies = [
        b'{"fromCcy": "BTC", "toCcy": ' + nested(DEEP).encode() + b"}",  # nested, correctly signed
        nested(DEEP).encode(),
        b'{"fromCcy": "BTC", ',  # invalid JSON
        b"\xff\xfe{}",  # not UTF-8
        json.dumps({"fromCcy": {"a": 1}, "toCcy": [1], "amount": [0.1], "direction": 7,
                    "type": None}).encode(),  # wrong types
        b"[1, 2, 3]",
    ]
    for body in bodies:
        status, _, raw = await send(s, "POST", url, body=body, headers=ff_headers(block, body))
        assert status == 200, (body[:40], raw[:200])
        assert ff_ok(raw, 301)["data"] is None
    huge = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    status, _, raw = await send(s, "POST", url, body=huge, headers=ff_headers(block, huge))
    assert status == 200 and ff_ok(raw, 301)
    status, _, raw = await send(s, "POST", block["base_url"] + "/api/v2/nothing", body=b"{}",
                                headers=ff_headers(block, b"{}"))
    assert status == 404 and ff_ok(raw, 301)
    status, _, raw = await send(s, "GET", url)
    assert status == 405 and ff_ok(raw, 301)


async def test_an_exception_escaping_a_handler_is_the_providers_500(
        sb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    box, s = sb
    block = box.providers["fixedfloat"]

    def boom(*_: object) -> None:
        raise RuntimeError("emulator bug")

    monkeypatch.setattr(box.apps["fixedfloat"][FF_STATE], "secret_for", boom)
    status, _, raw = await send(s, "POST", block["base_url"] + "/api/v2/ccies", body=b"{}",
                                headers=ff_headers(block, b"{}"))
    assert status == 500 and ff_ok(raw, 300)
    async with s.get(block["base_url"] + "/_sandbox/stats") as r:
        assert (await r.json())["errors"] == 1


async def test_flypay_answers_pathological_bodies_with_its_signed_envelope(sb: Any) -> None:
    box, s = sb
    block = box.providers["flypay"]
    url = block["base_url"] + "/api/v1/exchange/estimated_amount"
    bodies = [b'{"currency_from": ' + nested(DEEP).encode() + b"}", b"{nope",
              json.dumps({"currency_from": ["btc"], "currency_to": {}, "amount": "x"}).encode()]
    for body in bodies:
        status, headers, raw = await send(s, "POST", url, body=body,
                                          headers=flypay_headers(block, body))
        env = json.loads(raw)
        assert 400 <= status < 500 and env["status"] == "error" and env["message"], env
        assert headers["Signature"]  # a known key's answer is signed, errors too
    huge = b'{"pad": "' + b"x" * (300 * 1024) + b'"}'
    status, _, raw = await send(s, "POST", url, body=huge, headers=flypay_headers(block, huge))
    assert status == 413 and json.loads(raw)["status"] == "error"


async def test_gatepay_answers_pathological_bodies_with_its_envelope(sb: Any) -> None:
    box, s = sb
    block = box.providers["gatepay"]
    url = block["base_url"] + "/v1/pay/convert/preview"
    bodies = [b'{"sellCurrency": ' + nested(DEEP).encode() + b"}", b"{nope",
              json.dumps({"sellCurrency": 1, "buyCurrency": ["USDT"], "sellAmount": {}}).encode()]
    for body in bodies:
        status, _, raw = await send(s, "POST", url, body=body, headers=gatepay_headers(block, body))
        env = json.loads(raw)
        assert status == 200 and env["status"] == "FAIL" and env["code"] == "400001", env
    huge = b'{"pad": "' + b"x" * (100 * 1024) + b'"}'
    status, _, raw = await send(s, "POST", url, body=huge, headers=gatepay_headers(block, huge))
    assert status == 413 and json.loads(raw)["code"] == "400001"


async def test_onebitpay_answers_pathological_bodies_with_its_envelope(sb: Any) -> None:
    box, s = sb
    block = box.providers["onebitpay"]
    url = block["base_url"] + "/api/otc/rate"
    good = {"cryptoCurrency": "USDT", "legalCurrency": "CNY"}
    for body in (b'{"cryptoCurrency": ' + nested(DEEP).encode() + b"}", b"{nope"):
        status, _, raw = await send(s, "POST", url, body=body,
                                    headers=onebitpay_headers(block, good))
        assert status == 200 and json.loads(raw)["code"] == 400, raw[:200]
    huge = b'{"pad": "' + b"x" * (1100 * 1024) + b'"}'
    status, _, raw = await send(s, "POST", url, body=huge, headers=onebitpay_headers(block, good))
    assert status == 413 and json.loads(raw)["code"] == 400
    status, _, raw = await send(s, "POST", block["base_url"] + "/api/otc/nothing", body=b"{}")
    assert status == 404 and json.loads(raw)["code"] == 400


async def test_fatpay_answers_unknown_paths_and_methods_with_its_envelope(sb: Any) -> None:
    box, s = sb
    base = box.providers["fatpay"]["base_url"]
    status, _, raw = await send(s, "GET", base + "/open/api/onramp/nothing")
    assert status == 404 and json.loads(raw) == {"code": 10002, "msg": json.loads(raw)["msg"],
                                                 "data": None}
    status, _, raw = await send(s, "POST", base + "/open/api/onramp/price", body=b"{}")
    assert status == 405 and json.loads(raw)["code"] == 10002


def _stalled(base_url: str, first: bytes) -> bytes:
    """Send ``first`` (half a request) and wait; what the server sends before closing."""
    url = urlsplit(base_url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(first)
        out = b""
        while True:
            try:
                chunk = conn.recv(4096)
            except ConnectionResetError:
                return out
            if not chunk:
                return out
            out += chunk


@pytest.mark.parametrize("provider", ["fixedfloat", "flypay", "gatepay", "onebitpay", "fatpay"])
async def test_a_client_stalling_in_the_request_head_is_dropped(sb: Any, provider: str) -> None:
    box, _ = sb
    head = b"POST /api/v2/ccies HTTP/1.1\r\nHost: x\r\nContent-Le"
    got = await asyncio.to_thread(_stalled, box.providers[provider]["base_url"], head)
    assert got == b""  # closed without an answer (socket timeout 30 s would raise instead)


@pytest.mark.parametrize(("provider", "path"), [
    ("fixedfloat", "/api/v2/ccies"), ("flypay", "/api/v1/balances"),
    ("gatepay", "/v1/pay/convert/preview"), ("onebitpay", "/api/otc/rate")])
async def test_a_client_stalling_in_the_body_is_dropped(sb: Any, provider: str,
                                                        path: str) -> None:
    box, _ = sb
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n").encode() + b'{"half": '
    got = await asyncio.to_thread(_stalled, box.providers[provider]["base_url"], head)
    assert b"200 OK" not in got
    async with aiohttp.ClientSession() as s:  # and the emulator still serves everyone else
        async with s.get(box.providers[provider]["base_url"] + "/_sandbox/stats") as r:
            assert r.status == 200


def test_read_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="read_timeout"):
        Sandbox(read_timeout=0)
