"""Retry-After in both of RFC 9110's forms: delta-seconds and an HTTP-date."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from adapters._http import retry_after

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC).timestamp()


def _at(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + seconds, UTC), usegmt=True)


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0),
    ("0", 0.0),
    (" 120 ", 120.0),
    (_at(90), 90.0),  # "Thu, 03 Dec 2026 12:01:30 GMT"
    ("Thu, 03 Dec 2026 12:01:30 GMT", 90.0),
    ("Thursday, 03-Dec-26 12:01:30 GMT", 90.0),  # the obsolete RFC 850 form
    ("Thu Dec  3 12:01:30 2026", 90.0),  # asctime, no zone: GMT by definition
    (_at(-30), 0.0),  # already past: no wait
])
def test_delta_seconds_and_http_dates(header: str, seconds: float) -> None:
    assert retry_after({"Retry-After": header}, now=lambda: NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", ["soon", "-5", "nan", "inf", "1e9", _at(2 * 86400), ""])
def test_nonsense_or_beyond_a_day_is_ignored(header: str) -> None:
    assert retry_after({"Retry-After": header}, now=lambda: NOW) is None


def test_absent_is_none() -> None:
    assert retry_after({}) is None
