"""A sandbox on its own thread and loop, for tests that run the CLI (which runs its own loop)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from bench.sandbox import Sandbox

__all__ = ["ThreadSandbox"]


class ThreadSandbox:
    """A :class:`Sandbox` serving from its own thread and loop, so the CLI can run its own."""

    def __init__(self, seed: int, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sandbox", daemon=True)
        self.sandbox = Sandbox(seed=seed, frozen=True, **options)

    def __enter__(self) -> dict[str, dict[str, str]]:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.sandbox.start(), self.loop).result(30)
        return self.sandbox.providers

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sandbox.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
