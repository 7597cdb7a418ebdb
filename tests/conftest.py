"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of one private ``redis-server`` for the whole session (skips if none is
    installed). Tests share it: each uses its own key prefix, so none sees another's keys."""
    with redis_server() as url:
        yield url
