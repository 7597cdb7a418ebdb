"""Shared fixtures, and the rule that Redis tests may not skip where Redis is required."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support.redis_server import REQUIRE_ENV, redis_server

# CI (``CI=true``, as CI runs ``.ci/run``) draws the same property-test examples on every run, so
# a landing cannot fail on an example no earlier run saw; ``make test`` on a developer's machine
# keeps drawing new ones (a failure prints the blob that reproduces it).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


def pytest_configure(config: pytest.Config) -> None:
    """With ``BESTRATE_REQUIRE_REDIS=1`` (``.ci/run`` sets it) a missing ``redis-server`` ends the
    run at once with one line, instead of skipping every Redis test."""
    if os.environ.get(REQUIRE_ENV) == "1" and shutil.which("redis-server") is None:
        pytest.exit(f"{REQUIRE_ENV}=1 but redis-server is not installed: the Redis tests cannot "
                    "run (`make test` installs it via apt-get as root)", returncode=3)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of one private ``redis-server`` for the whole session (skips if none is
    installed, unless required). Tests share it: each uses its own key prefix, so none sees
    another's keys."""
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test, and every CLI it runs, keeps budgets and caches in a directory of its own
    (``XDG_CACHE_HOME``: the CLI's local store would otherwise share the user's real one)."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
