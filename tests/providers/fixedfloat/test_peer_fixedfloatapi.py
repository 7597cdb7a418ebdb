"""The third-party PyPI client ``fixedfloatapi`` (sync, requests, signs ``json.dumps`` output with
spaces) driven against the emulator, which runs on its own loop in a background thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import fixedfloatapi
import fixedfloatapi.FixedFloatAPI as ffapi_module
import pytest
import requests
from aiohttp import web

from bench.emulators.fixedfloat import create_app
from bench.world import World

KEY, SECRET = "peer-key", "peer-secret"


class BackgroundServer:
    """An aiohttp app served from a private event loop in a daemon thread."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.app = app
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    def __exit__(self, *exc: object) -> None:
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    app = create_app(World(13, frozen=True), credentials={KEY: SECRET})
    with BackgroundServer(app) as server, requests.Session() as session:
        session.trust_env = False  # never route loopback through an environment proxy
        seen: list[str] = []

        def post(url: str, *args: Any, **kwargs: Any) -> requests.Response:
            assert url.startswith("https://ff.io/")
            seen.append(url)
            return session.post(server.base_url + url[len("https://ff.io"):], *args, **kwargs)

        monkeypatch.setattr(ffapi_module.requests, "post", post)
        yield server.base_url
        assert seen, "the client never called requests.post"


def test_peer_client_lists_currencies(emulator: str) -> None:
    client = fixedfloatapi.FixedFloatApi(KEY, SECRET)
    ccies = client.ccies()
    codes = {c["code"] for c in ccies}
    assert {"BTC", "ETH", "USDTTRC", "BTCLN", "BSC"} <= codes
    assert all(isinstance(c["recv"], bool) for c in ccies)


def test_peer_client_prices_with_spaced_json(emulator: str) -> None:
    client = fixedfloatapi.FixedFloatApi(KEY, SECRET)
    data = client.price({"fromCcy": "BTC", "toCcy": "ETH", "amount": 0.1, "direction": "from",
                         "type": "fixed"})
    assert data["errors"] == []
    assert Decimal(data["from"]["amount"]) == Decimal("0.1")
    assert Decimal(data["to"]["amount"]) > 0 and Decimal(data["from"]["rate"]) > 1
    data = client.price({"fromCcy": "USDTTRC", "toCcy": "BTC", "amount": "0.01",
                         "direction": "to", "type": "float"})
    assert Decimal(data["to"]["amount"]) == Decimal("0.01")


def test_peer_client_create_and_order(emulator: str) -> None:
    client = fixedfloatapi.FixedFloatApi(KEY, SECRET)
    order = client.create({"fromCcy": "ETH", "toCcy": "BTC", "amount": 0.5, "direction": "from",
                           "type": "float",
                           "toAddress": "bc1qm8e58htm6qlhz5u7awhe4a5kxt3w86ffwtl9j0"})
    again = client.order({"id": order["id"], "token": order["token"]})
    assert again["id"] == order["id"] and again["status"] == "NEW"


def test_peer_client_with_wrong_secret_is_refused(emulator: str) -> None:
    client = fixedfloatapi.FixedFloatApi(KEY, "not-the-secret")
    with pytest.raises(Exception) as info:
        client.ccies()
    assert info.value.args[-1] == 401
