"""The sandbox: one port per emulator on loopback, the contract's providers JSON, the CLI helper."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from bench.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_FIELDS = {
    "fixedfloat": {"base_url", "api_key", "api_secret"},
    "gatepay": {"base_url", "client_id", "api_secret"},
    "flypay": {"base_url", "api_key", "api_secret"},
    "onebitpay": {"base_url", "merchant_no", "api_key", "api_secret"},
    "fatpay": {"base_url", "partner_id", "private_key_pem"},
}


async def ff_call(session: aiohttp.ClientSession, block: dict[str, str], method: str,
                  body: bytes) -> bytes:
    sig = hmac.new(block["api_secret"].encode(), body, hashlib.sha256).hexdigest()
    async with session.post(f"{block['base_url']}/api/v2/{method}", data=body,
                            headers={"X-API-KEY": block["api_key"], "X-API-SIGN": sig}) as r:
        assert r.status == 200
        return await r.read()


async def test_sandbox_starts_every_emulator_on_its_own_loopback_port() -> None:
    async with Sandbox(seed=4, frozen=True) as sb:
        providers = sb.providers
        assert set(providers) == set(CONTRACT_FIELDS)
        ports = []
        for name, block in providers.items():
            assert set(block) == CONTRACT_FIELDS[name]
            assert all(isinstance(v, str) and v for v in block.values())
            url = urlsplit(block["base_url"])
            assert url.scheme == "http" and url.hostname == "127.0.0.1" and url.path == ""
            ports.append(url.port)
        assert len(set(ports)) == len(ports)
        assert sb.world.seed == 4 and sb.world.frozen
        async with aiohttp.ClientSession() as s:
            answer = json.loads(await ff_call(s, providers["fixedfloat"], "ccies", b"{}"))
            assert answer["code"] == 0 and len(answer["data"]) >= 25
            async with s.get(providers["fixedfloat"]["base_url"] + "/_sandbox/stats") as r:
                assert (await r.json())["requests"] == 1
    assert sb.providers == {}
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientConnectionError):
            await s.get(providers["fixedfloat"]["base_url"] + "/_sandbox/stats")


async def test_credentials_derive_from_the_seed_and_answers_repeat() -> None:
    body = b'{"fromCcy":"SOL","toCcy":"USDTBSC","amount":"12.5","direction":"from","type":"fixed"}'
    seen = []
    for seed in (8, 8, 9):
        async with Sandbox(seed=seed, frozen=True) as sb, aiohttp.ClientSession() as s:
            block = sb.providers["fixedfloat"]
            seen.append((block["api_key"], block["api_secret"],
                         await ff_call(s, block, "price", body)))
    assert seen[0] == seen[1]
    assert seen[0][0] != seen[2][0] and seen[0][1] != seen[2][1] and seen[0][2] != seen[2][2]
    assert len(seen[0][0]) >= 32 and len(seen[0][1]) >= 32


async def test_sandbox_options_reach_the_emulator() -> None:
    async with Sandbox(seed=1, no_limits=True) as sb, aiohttp.ClientSession() as s:
        block = sb.providers["fixedfloat"]
        body = (b'{"fromCcy":"BTC","toCcy":"USDTTRC","amount":"0.05","direction":"from",'
                b'"type":"float","toAddress":"TAzsQ9Gx8eqFNFSKbeXrbi45CuVPHzA8wr"}')
        codes = [json.loads(await ff_call(s, block, "create", body))["code"] for _ in range(6)]
        assert codes == [0] * 6  # 300 units in a minute: only without limits
        assert not sb.world.frozen


def _start(args: str) -> subprocess.Popen[str]:
    code = ("import types, sys; from bench.sandbox import run_sandbox; "
            f"sys.exit(run_sandbox(types.SimpleNamespace({args})))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_sandbox_prints_one_json_line_and_exits_cleanly_on_signal(sig: int) -> None:
    proc = _start("seed=3, frozen=True, no_limits=False, latency_ms=0, host='127.0.0.1', "
                  "faults=None")
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        doc = json.loads(line)
        assert set(doc) == {"providers"}
        assert set(doc["providers"]) == set(CONTRACT_FIELDS)
        for name, fields in doc["providers"].items():
            assert set(fields) == CONTRACT_FIELDS[name]
        block = doc["providers"]["fixedfloat"]
        assert urlsplit(block["base_url"]).hostname == "127.0.0.1"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
