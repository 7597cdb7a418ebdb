"""adapters.forms.Reading: a doc reading settled on first use, one retry, never a loop."""

from __future__ import annotations

import asyncio

import pytest

from adapters.forms import Reading
from router.errors import AuthError, ProviderError, ProviderTimeout


def _refused(exc: ProviderError) -> bool:
    return isinstance(exc, AuthError)


class Provider:
    """Accepts only ``accepted``; records every form it was sent."""

    def __init__(self, accepted: str, fail_with: ProviderError | None = None) -> None:
        self.accepted = accepted
        self.fail_with = fail_with
        self.sent: list[str] = []

    async def send(self, form: str) -> str:
        self.sent.append(form)
        await asyncio.sleep(0)
        if self.fail_with is not None:
            raise self.fail_with
        if form != self.accepted:
            raise AuthError("p", f"{form}: bad signature")
        return f"ok {form}"


async def test_first_guess_right_costs_one_call_and_is_kept() -> None:
    reading, p = Reading(("a", "b")), Provider("a")
    assert [await reading.call(p.send, _refused) for _ in range(3)] == ["ok a"] * 3
    assert p.sent == ["a", "a", "a"] and reading.known == "a"


async def test_wrong_guess_retries_once_then_keeps_the_other_form() -> None:
    reading, p = Reading(("a", "b")), Provider("b")
    assert await reading.call(p.send, _refused) == "ok b"
    assert await reading.call(p.send, _refused) == "ok b"
    assert p.sent == ["a", "b", "b"] and reading.known == "b"


async def test_concurrent_first_calls_pay_one_retry_in_all() -> None:
    reading, p = Reading(("a", "b")), Provider("b")
    results = await asyncio.gather(*(reading.call(p.send, _refused) for _ in range(5)))
    assert results == ["ok b"] * 5
    assert p.sent.count("a") == 1 and p.sent.count("b") == 5


async def test_both_forms_refused_raises_after_one_retry_and_settles_nothing() -> None:
    reading, p = Reading(("a", "b")), Provider("c")
    with pytest.raises(AuthError, match="b: bad signature"):
        await reading.call(p.send, _refused)
    assert p.sent == ["a", "b"] and reading.known is None


async def test_a_failure_that_is_not_a_refusal_of_the_form_is_not_retried() -> None:
    reading, p = Reading(("a", "b")), Provider("a", fail_with=ProviderTimeout("p", "slow"))
    with pytest.raises(ProviderTimeout):
        await reading.call(p.send, _refused)
    assert p.sent == ["a"] and reading.known is None


def test_a_reading_needs_two_forms() -> None:
    with pytest.raises(ValueError, match="two forms"):
        Reading(("a",))
