"""Fixtures the provider tests share: one aiohttp session and a recording budget per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.providers.harness import RecordingBudget


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def budget() -> RecordingBudget:
    return RecordingBudget()
