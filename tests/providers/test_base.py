"""The lifecycle every provider shares (adapters/base.py), run on all five sources and clients:
open once, the router's session lent and never closed, close idempotent, use after close refused,
reprs that name the endpoint and a fingerprint but no credential."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from adapters.base import ProviderClient, ProviderSource, require_secret, shown_url
from router.budgets import BudgetRegistry
from router.errors import ConfigError
from router.secret import Secret
from router.sources.protocol import QuoteSource, SourceContext
from tests.providers.harness import RecordingBudget, assert_no_secret
from tests.providers.test_clients import HARNESSES, TIMEOUT

EACH = [pytest.param(h, id=h.name) for h in HARNESSES]


@pytest.mark.parametrize("h", EACH)
async def test_a_source_opens_once_and_closes_idempotently(h: Any,
                                                           session: aiohttp.ClientSession) -> None:
    source = h.source(*h.credentials.values(), base_url="http://127.0.0.1:9")
    assert isinstance(source, ProviderSource) and isinstance(source, QuoteSource)
    with pytest.raises(RuntimeError, match="not open"):
        _ = source.client
    registry = BudgetRegistry()
    ctx = SourceContext(session, registry)
    await source.open(ctx)
    client = source.client
    assert isinstance(client, ProviderClient) and not client.closed
    with pytest.raises(RuntimeError, match="opened once"):
        await source.open(ctx)  # a second open is an error, and changes nothing
    assert source.client is client
    await source.aclose()
    await source.aclose()  # idempotent
    assert client.closed and not session.closed  # the session is the router's
    with pytest.raises(RuntimeError, match="closed"):
        _ = source.client
    with pytest.raises(RuntimeError):
        await source.open(ctx)  # nor after close
    with pytest.raises(RuntimeError):
        await source.markets()
    await registry.aclose()


@pytest.mark.parametrize("h", EACH)
async def test_closing_a_source_never_opened_is_fine(h: Any) -> None:
    source = h.source(*h.credentials.values())
    await source.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        _ = source.client


@pytest.mark.parametrize("h", EACH)
async def test_reprs_show_the_endpoint_and_a_fingerprint_never_a_credential(
        h: Any, session: aiohttp.ClientSession) -> None:
    base = "https://user:pa55word@api.example.test"
    source = h.source(*h.credentials.values(), base_url=base)
    client = h.client("http://127.0.0.1:9", session, RecordingBudget(), TIMEOUT)
    registry = BudgetRegistry()
    await source.open(SourceContext(session, registry))
    opened = [repr(source), repr(source.client), repr(client)]
    await source.aclose()
    await client.aclose()
    closed = [repr(source), repr(client)]
    await registry.aclose()
    assert_no_secret((*h.secrets, "pa55word", "user:"), *opened, *closed)
    assert repr(source) == (f"{type(source).__name__}({h.name!r}, "
                            "base_url='https://api.example.test')")
    assert repr(client).startswith(f"{type(client).__name__}('http://127.0.0.1:9")
    assert opened[2].endswith("…, open)") and closed[1].endswith("…, closed)")
    identity = Secret(h.identity).fingerprint
    assert f"={identity}…" in opened[1]  # the credential a budget is kept per, by fingerprint


def test_require_secret_names_the_empty_field() -> None:
    assert require_secret("k", "p.api_key", "hint").reveal() == "k"
    given = Secret("s")
    assert require_secret(given, "p.api_key", "hint") is given
    for empty in ("", Secret("")):
        with pytest.raises(ConfigError) as info:
            require_secret(empty, "p.api_key", "the value from the API page")
        assert info.value.field == "p.api_key"


@pytest.mark.parametrize(("url", "shown"), [
    ("https://api.example.test/v2", "https://api.example.test/v2"),
    ("https://u:p@api.example.test:8443/x?y=1", "https://api.example.test:8443/x?y=1"),
    ("https://token@api.example.test", "https://api.example.test"),
    ("http://[::1", "<url>"),
])
def test_shown_url_leaves_out_user_info(url: str, shown: str) -> None:
    assert shown_url(url) == shown
