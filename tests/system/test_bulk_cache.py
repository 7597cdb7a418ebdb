"""Bulk data on disk between CLI runs, against one external sandbox (as a user runs it).

A second `bestrate quote` within the lists' TTL spends no units on lists: only the firm quotes
of the query itself. A corrupt cache file is ignored and replaced, never trusted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.registry import field_specs
from tests.support.threadsandbox import ThreadSandbox

SPECS = field_specs()


@pytest.fixture(scope="module")
def providers() -> Iterator[dict[str, dict[str, str]]]:
    with ThreadSandbox(seed=11) as p:
        yield p


def _units(providers: dict[str, dict[str, str]]) -> dict[str, int]:
    out = {}
    for name, p in providers.items():
        with urllib.request.urlopen(p["base_url"] + "/_sandbox/stats") as r:
            out[name] = json.load(r)["units"]
    return out


def _quote(providers: dict[str, dict[str, str]], cache: Path) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}
    for name, block in providers.items():
        env.update({f"BESTRATE_{name.upper()}_{f.upper()}": v for f, v in block.items()
                    if f in SPECS[name]})
    env.update(BESTRATE_CACHE_DIR=str(cache), BESTRATE_BUDGETS_STORE="local")
    before = _units(providers)
    proc = subprocess.run([sys.executable, "-m", "router.cli", "quote", "BTC", "USDT", "0.5",
                           "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["routes"]
    after = _units(providers)
    return {n: after[n] - before[n] for n in after}


def test_a_second_run_spends_no_units_on_lists(providers: dict[str, dict[str, str]],
                                               tmp_path: Path) -> None:
    first = _quote(providers, tmp_path / "a")
    second = _quote(providers, tmp_path / "a")
    cold = _quote(providers, tmp_path / "b")  # a fresh cache directory pays for the lists again
    assert first == cold
    # 1BitPay and FaTPay answer this query from lists alone; GatePay's 1 + N pair lists and
    # FlyPay's payways are gone, their firm quotes remain; FixedFloat's ccies is gone
    assert second["onebitpay"] == second["fatpay"] == 0 < cold["onebitpay"]
    assert cold["gatepay"] - second["gatepay"] >= 10
    assert second["flypay"] == cold["flypay"] - 1 and second["fixedfloat"] == cold["fixedfloat"] - 1
    files = {p.name.split("-")[0] for p in (tmp_path / "a" / "bulk").iterdir()}
    assert files == set(providers)


def test_a_corrupt_file_is_ignored_and_replaced(providers: dict[str, dict[str, str]],
                                                tmp_path: Path) -> None:
    cache = tmp_path / "c"
    cold = _quote(providers, cache)
    (pairs,) = (cache / "bulk").glob("gatepay-*-pairs.bulk")
    good = pairs.read_bytes()
    pairs.write_bytes(good[:-40] + b"x" * 40)  # same length, payload no longer matches its sum
    again = _quote(providers, cache)
    assert again["gatepay"] == cold["gatepay"]  # the lists were read again, not trusted
    assert pairs.read_bytes() != good[:-40] + b"x" * 40  # and the file was replaced
