"""Property-based tests of the public surfaces: ``Router.quote``/``quote_many`` with arbitrary
arguments, and the CLI's ``quote`` and ``batch`` with arbitrary argument lists.

Every input either answers or raises :class:`InvalidRequest` (the API); exits 0, 1 or 2 with at
most one error line and never a traceback (the CLI).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from router import InvalidRequest, Router, RouteSet
from router.cli import main
from tests.support.fakes import FakeSource

D = Decimal

ASSETS = ["BTC", "USDT", "ETH", "USDT@TRC20", "usdt@erc20", " BTC ", "BTC@BTC", "CNY", "XMR",
          "USDT@", "@TRC20", "BTC@LN", "ÄÖ", "", "BTC\x00", "A" * 80]
AMOUNTS = ["0.5", "1", "100", "1e3", "-1", "0", "NaN", "sNaN", "Infinity", "1e-30", "0x10", "1_000",
           " 2 ", "1e400", "0.123456789", D("0.25"), D("NaN"), D("-0"), 3, -3, 0, 10**30, 0.5,
           True]
OTHER = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.decimals(),
    st.text(max_size=20), st.binary(max_size=8), st.lists(st.text(max_size=6), max_size=3),
    st.tuples(st.integers()), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(object), st.frozensets(st.integers(), max_size=2), st.complex_numbers(),
)


def _field(values: list[Any], good: int = 0) -> st.SearchStrategy[Any]:
    """Mostly a value from ``values`` (the first ``good`` of them most of the time: valid ones),
    sometimes anything at all."""
    curated = st.sampled_from(values[:good]) if good else st.sampled_from(values)
    return st.integers(0, 9).flatmap(
        lambda i: curated if i < 6 else st.sampled_from(values) if i < 8 else OTHER)


ROUTER_SOURCES = [("a", [("BTC", "USDT@TRC20"), ("ETH", "USDT@TRC20")], "60000"),
                  ("b", [("BTC", "USDT@ERC20"), ("USDT@TRC20", "ETH")], "59000")]


def _sources() -> list[FakeSource]:
    return [FakeSource(n, pairs, D(rate)) for n, pairs, rate in ROUTER_SOURCES]


@settings(database=None, max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sell=_field(["BTC", "ETH", *ASSETS], 2), buy=_field(["USDT", "USDT@TRC20", *ASSETS], 2),
       amount=_field(AMOUNTS, 4),
       side=_field(["sell", "buy", "SELL", "both"], 2),
       rate_type=_field(["any", "fixed", "float", "best"], 3),
       max_hops=_field([1, 2, 3, 0, 4, "2", 2.0, True], 3),
       deadline=_field([None, 0.2, "0.3", D("0.1"), 0, -1, "inf", float("nan"), 1e300, 121], 4),
       providers=_field([None, "a", "a,b", ["b"], "nobody", "", ",", ("a", "a")], 4),
       exclude=_field([(), "a", ["b"], "zzz", ()], 3))
async def test_quote_answers_or_raises_invalid_request(sell: Any, buy: Any, amount: Any,
                                                       side: Any, rate_type: Any, max_hops: Any,
                                                       deadline: Any, providers: Any,
                                                       exclude: Any) -> None:
    async with Router(_sources(), deadline=1.0) as r:
        try:
            rs = await r.quote(sell, buy, amount, side=side, rate_type=rate_type,
                               max_hops=max_hops, deadline=deadline, providers=providers,
                               exclude=exclude)
        except InvalidRequest as exc:
            assert exc.field and str(exc)
            event(f"invalid {exc.field}")
            return
    event("answered with a route" if rs.routes else "answered without a route")
    assert isinstance(rs, RouteSet)
    for route in rs.routes:
        assert route.amount_in > 0 and route.amount_out > 0


@settings(database=None, max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.one_of(
    st.fixed_dictionaries({"sell": _field(ASSETS, 5), "buy": _field(ASSETS, 5),
                           "amount": _field(AMOUNTS, 4)},
                          optional={"side": _field(["sell", "buy", "x"], 2), "max_hops": OTHER,
                                    "junk": OTHER}),
    OTHER, st.dictionaries(st.text(max_size=5), OTHER, max_size=3)), max_size=4))
async def test_quote_many_answers_or_raises_invalid_request(items: list[Any]) -> None:
    async with Router(_sources()) as r:
        try:
            out = [rs async for _, rs in r.quote_many(items)]
        except InvalidRequest as exc:
            assert exc.field.startswith("requests") or exc.field
            return
    assert len(out) == len(items)


# -- the CLI, in process -------------------------------------------------------------------------
FLAGS = ["--receive", "--json", "--explain", "--sandbox", "--type", "--max-hops", "--providers",
         "--exclude", "--deadline", "--config", "--help", "-h", "--nope", "--", "-"]
WORDS = ["BTC", "USDT", "ETH", "0.5", "1", "-1", "abc", "any", "fixed", "float", "fixedfloat",
         "flypay,gatepay", "nobody", "0.3", "9", "0", "missing.toml", "", " ", "é", "--json=1"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials and no config file: the CLI runs on the embedded sandbox."""
    import os

    for name in list(os.environ):
        if name.startswith("BESTRATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def _check(code: int, out: str, err: str) -> None:
    event(f"exit {code}")
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) <= 1, err
    if code == 2:
        assert len(errors) == 1, err


@settings(database=None, max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=st.integers(0, 9).flatmap(lambda i: st.just([]) if i < 4 else st.lists(
           st.one_of(st.sampled_from(FLAGS + WORDS), st.text(max_size=12)), max_size=5)),
       head=st.sampled_from([["quote"], ["quote", "BTC", "USDT"], ["quote", "BTC", "USDT", "0.5"],
                             ["quote", "ETH", "BTC", "2", "--deadline", "0.5"]]))
def test_cli_quote_exits_cleanly(head: list[str], args: list[str], clean_env: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    argv = head + args
    if "--deadline" not in argv:
        argv += ["--deadline", "0.5"]
    code, out, err = _run(argv, capsys)
    _check(code, out, err)
    if code in (0, 1) and "--json" in argv and "--help" not in argv and "-h" not in argv:
        doc = json.loads(out)
        assert set(doc) >= {"request", "routes", "unavailable", "mode"}


ROWS = ["sell,buy,amount", "sell,buy,amount,side", "BTC,USDT,0.5", "ETH,BTC,2,buy", "BTC,USDT,-1",
        "x,y,z", '{"sell": "BTC", "buy": "USDT", "amount": "0.1"}', '{"sell": 1}', "[]", "",
        "BTC,USDT", "BTC,USDT,0.5,sideways", "\ufeffsell,buy,amount", "\x00", "a,b,c,d,e,f"]


@settings(database=None, max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.integers(0, 9).flatmap(
           lambda i: st.sampled_from(ROWS[:4]) if i < 6 else st.sampled_from(ROWS) if i < 8
           else st.text(max_size=20)), max_size=5),
       flags=st.integers(0, 9).flatmap(lambda i: st.just([]) if i < 5 else st.lists(
           st.sampled_from(["--no-confirm", "--band", "0.01", "--band", "x", "--band", "2",
                            "--out", "--sandbox", "-"]), max_size=3)),
       binary=st.booleans())
def test_cli_batch_exits_cleanly(rows: list[str], flags: list[str], binary: bool,
                                 clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = clean_env / "queries.csv"
    data = "\n".join(rows).encode("utf-8", "surrogatepass")
    path.write_bytes(data + (b"\xff\xfe" if binary else b""))
    argv = ["batch", str(path), *flags]
    if argv[-1] == "--out":
        argv.append(str(clean_env / "out.jsonl"))
    code, out, err = _run(argv, capsys)
    _check(code, out, err)
