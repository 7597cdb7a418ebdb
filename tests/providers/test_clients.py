"""Every provider client against its canned server: errors onto router.errors, budget, secrets.

One suite, parametrised over the five providers (ids start with the provider's name, then the call
and the case). Each provider's ``HARNESS`` (``tests/providers/<p>/canned.py``) says how to build
its client, which calls to make and the canned answer of every case; what only one provider does
(its wire format, signatures, special codes) stays in ``tests/providers/<p>/test_client.py``.

For every call of every client: the budget units it takes; HTTP 5xx, 401/403, malformed or
impossible answers and the provider's error table each raise their exact ``router.errors`` class;
HTTP 429 penalises the budget with ``Retry-After`` and a real budget then refuses without sending;
a slow answer is a timeout, a refused connection unavailability; credentials never show in the
client, its source or an error; a closed client refuses to be used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import pytest

from router.budgets import BudgetPolicy, BudgetRegistry
from router.errors import (
    AuthError,
    ConfigError,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from router.secret import Secret
from tests.providers.fatpay.canned import HARNESS as FATPAY
from tests.providers.fixedfloat.canned import HARNESS as FIXEDFLOAT
from tests.providers.flypay.canned import HARNESS as FLYPAY
from tests.providers.gatepay.canned import HARNESS as GATEPAY
from tests.providers.harness import (
    Call,
    Harness,
    RecordingBudget,
    Row,
    TooMany,
    assert_no_secret,
)
from tests.providers.onebitpay.canned import HARNESS as ONEBITPAY

HARNESSES = (FIXEDFLOAT, GATEPAY, FLYPAY, ONEBITPAY, FATPAY)
TIMEOUT = 2.0


def each_call() -> list[Any]:
    return [pytest.param(h, call, id=f"{h.name}-{call.name}") for h in HARNESSES
            for call in h.calls]


def each_case(cases: Callable[[Harness, Call], Iterable[Row | TooMany]]) -> list[Any]:
    return [pytest.param(h, call, case, id=f"{h.name}-{call.name}-{case.id}")
            for h in HARNESSES for call in h.calls for case in cases(h, call)]


def sends(h: Harness, call: Call, err: ProviderError) -> int:
    """Requests a failing call makes: one, or two where the refusal may be of the form a doc
    reading chose (adapters.forms.Reading), which a fresh client retries once in the other."""
    if not isinstance(err, AuthError):
        return 1
    if h.name == "fixedfloat" and call.name == "ccies":  # no params: signed over {} or ""
        return 2
    if h.name == "onebitpay" and err.code == 150025:  # bad signature: the other key order
        return 2
    return 1


async def fails(h: Harness, call: Call, answer: Any, session: aiohttp.ClientSession,
                budget: Any) -> tuple[ProviderError, int]:
    """Call ``call`` on a server that answers ``answer``: the error raised and requests sent."""
    async with h.fake() as fake:
        fake.script[call.key] = answer
        client = h.client(fake.base_url, session, budget, TIMEOUT)
        with pytest.raises(ProviderError) as info:
            await call.invoke(client)
        return info.value, len(fake.requests)


# -- budget -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("h", "call"), each_call())
async def test_each_call_takes_its_cost_from_the_budget(
        h: Harness, call: Call, session: aiohttp.ClientSession, budget: RecordingBudget) -> None:
    async with h.fake() as fake:
        fake.script[call.key] = h.canned(h.ok(call.data))
        client = h.client(fake.base_url, session, budget, TIMEOUT)
        await call.invoke(client)
        await call.invoke(client)
        assert len(fake.requests) == 2
    assert budget.acquired == [call.cost, call.cost] and budget.penalties == []


# -- HTTP and decode failures -------------------------------------------------------------------
def failures(h: Harness, call: Call) -> list[Row]:
    c = h.canned
    return [
        Row("gateway 502 page", c("<html>502</html>", status=502, signed=False),
            ProviderUnavailable),
        Row("success at HTTP 500", c(h.ok(call.data), status=500), ProviderUnavailable),
        Row("HTML 401", c("<html>nope</html>", status=401, signed=False), AuthError),
        Row("HTML 403", c("<html>nope</html>", status=403, signed=False), AuthError),
        Row("not JSON", c("not json"), MalformedResponse),
        Row("envelope without its code", c(h.no_code), MalformedResponse),
        Row("data null", c(h.ok(None)), MalformedResponse),
        Row(f"success at HTTP {h.odd_status}", c(h.ok(call.data), status=h.odd_status),
            MalformedResponse),
        *(Row(what, c(h.ok(data)), MalformedResponse) for what, data in call.malformed.items()),
        *h.failures,
    ]


@pytest.mark.parametrize(("h", "call", "row"), each_case(failures))
async def test_http_and_decode_failures(h: Harness, call: Call, row: Row,
                                        session: aiohttp.ClientSession,
                                        budget: RecordingBudget) -> None:
    err, sent = await fails(h, call, row.canned, session, budget)
    assert type(err) is row.cls
    assert err.status in (row.canned.status, None)  # data decoding errors carry no status
    if row.cls is not MalformedResponse:
        assert err.status == row.canned.status
    assert sent == sends(h, call, err) and budget.penalties == []
    assert_no_secret(h.secrets, err, err.detail)


# -- the provider's error table -----------------------------------------------------------------
@pytest.mark.parametrize(("h", "call", "row"), each_case(lambda h, _: h.error_codes))
async def test_error_table(h: Harness, call: Call, row: Row, session: aiohttp.ClientSession,
                           budget: RecordingBudget) -> None:
    err, sent = await fails(h, call, row.canned, session, budget)
    assert type(err) is row.cls and err.code == row.code
    assert err.status == row.canned.status
    assert sent == sends(h, call, err) and budget.penalties == []
    assert_no_secret(h.secrets, err, err.detail)


# -- too many requests --------------------------------------------------------------------------
def too_many(h: Harness, _: Call) -> list[TooMany]:
    c = h.canned
    return [
        TooMany("HTTP 429 with Retry-After", c(h.too_many_body, status=429,
                                               headers={"Retry-After": "7"}), 7.0),
        TooMany("HTTP 429", c(h.too_many_body, status=429), None),
        TooMany("plain HTTP 429", c("slow down", status=429, signed=False), None),
        TooMany("plain HTTP 429 with Retry-After",
                c("slow down", status=429, headers={"Retry-After": "7"}, signed=False), 7.0),
        *h.too_many,
    ]


@pytest.mark.parametrize(("h", "call", "case"), each_case(too_many))
async def test_429_penalizes_then_raises(h: Harness, call: Call, case: TooMany,
                                         session: aiohttp.ClientSession,
                                         budget: RecordingBudget) -> None:
    err, sent = await fails(h, call, case.canned, session, budget)
    assert isinstance(err, RateLimited) and type(err) is RateLimited  # not a subclass
    assert err.reason == "rate_limited"
    assert budget.penalties == [case.retry_after] and err.retry_after == case.retry_after
    assert sent == 1


@pytest.mark.parametrize(("h", "call", "case"), each_case(too_many))
async def test_429_pauses_a_real_budget(h: Harness, call: Call, case: TooMany,
                                        session: aiohttp.ClientSession) -> None:
    registry = BudgetRegistry()
    try:
        budget = registry.get(h.name, Secret(h.identity).fingerprint,
                              BudgetPolicy(limit=h.budget_limit))
        async with h.fake() as fake:
            fake.script[call.key] = case.canned
            client = h.client(fake.base_url, session, budget, TIMEOUT)
            with pytest.raises(RateLimited):
                await call.invoke(client)
            with pytest.raises(RateLimited) as info:  # paused: refused by our own budget
                await call.invoke(client)
            assert type(info.value) is RateLimited
            assert len(fake.requests) == 1  # nothing sent the second time
    finally:
        await registry.aclose()


# -- transport ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("h", "call"), each_call())
async def test_slow_answer_is_a_timeout(h: Harness, call: Call, session: aiohttp.ClientSession,
                                        budget: RecordingBudget) -> None:
    async with h.fake() as fake:
        fake.script[call.key] = h.canned(h.ok(call.data), delay=0.5)
        client = h.client(fake.base_url, session, budget, 0.05)
        with pytest.raises(ProviderTimeout) as info:
            await call.invoke(client)
    assert type(info.value) is ProviderTimeout and info.value.reason == "timeout"
    assert isinstance(info.value.__cause__, TimeoutError)


@pytest.mark.parametrize(("h", "call"), each_call())
async def test_connection_refused_is_unavailable(h: Harness, call: Call,
                                                 session: aiohttp.ClientSession,
                                                 budget: RecordingBudget) -> None:
    client = h.client("http://127.0.0.1:9", session, budget, TIMEOUT)
    with pytest.raises(ProviderUnavailable) as info:
        await call.invoke(client)
    assert type(info.value) is ProviderUnavailable
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


# -- secrets ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("h", "call"), each_call())
async def test_secrets_never_shown(h: Harness, call: Call, session: aiohttp.ClientSession,
                                   budget: RecordingBudget) -> None:
    async with h.fake() as fake:
        fake.script[call.key] = h.leak.canned
        client = h.client(fake.base_url, session, budget, TIMEOUT)
        with pytest.raises(ProviderError) as info:
            await call.invoke(client)
        source = h.source(*h.credentials.values(), base_url=fake.base_url)
    err = info.value
    assert type(err) is h.leak.cls and err.code == h.leak.code
    assert h.leak_shows in str(err)  # the provider's message is kept, credentials blanked out
    assert_no_secret(h.secrets, client, err, err.detail, err.args)
    assert_no_secret(h.secrets, source)


@pytest.mark.parametrize(("h", "field", "empty"), [
    pytest.param(h, name, empty, id=f"{h.name}-{name}-{kind}") for h in HARNESSES
    for name in h.credentials for kind, empty in (("str", ""), ("Secret", Secret("")))])
def test_empty_credential_is_a_config_error_naming_it(h: Harness, field: str,
                                                      empty: str | Secret) -> None:
    values = {**h.credentials, field: empty}
    with pytest.raises(ConfigError) as info:
        h.source(*values.values())
    assert info.value.field == f"{h.name}.{field}"


# -- lifecycle ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("h", "call"), each_call())
async def test_closed_client_refuses_use(h: Harness, call: Call, session: aiohttp.ClientSession,
                                         budget: RecordingBudget) -> None:
    async with h.fake() as fake:
        client = h.client(fake.base_url, session, budget, TIMEOUT)
        assert not client.closed
        await client.aclose()
        await client.aclose()  # idempotent
        assert client.closed
        with pytest.raises(RuntimeError):
            await call.invoke(client)
        assert fake.requests == [] and budget.acquired == []
