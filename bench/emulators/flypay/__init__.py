"""FlyPay emulator: ``POST /api/v1/<method>`` with ``Api-Key`` + ``Signature`` = hex
HMAC-SHA256(secret, raw body), signed answers in the ``{status, message, data}`` envelope, the
``payways`` fee/limit/rate model, ``exchange/estimated_amount`` firm quotes, the account's
transactions, and a 60 units / 60 s budget per key.
"""

from __future__ import annotations

from ...world import World
from .app import API_PREFIX, STATE_KEY, VARIANTS, create_app, key_secret_map
from .budget import BUDGET_LIMIT, BUDGET_WINDOW, WindowBudget
from .currencies import CURRENCIES, FPCurrency, FPPayway
from .model import METHOD_COSTS, FlyPayModel, Page
from .params import ApiError
from .pricing import Estimate, PairTerms, Pricer, WayTerms

__all__ = [
    "API_PREFIX",
    "BUDGET_LIMIT",
    "BUDGET_WINDOW",
    "CURRENCIES",
    "METHOD_COSTS",
    "STATE_KEY",
    "VARIANTS",
    "ApiError",
    "Estimate",
    "FPCurrency",
    "FPPayway",
    "FlyPayModel",
    "Page",
    "PairTerms",
    "Pricer",
    "WayTerms",
    "WindowBudget",
    "create_app",
    "credentials",
    "key_secret_map",
]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(world: World, n: int, label: str) -> str:
    out: list[str] = []
    i = 0
    while len(out) < n:
        out.extend(_ALNUM[b % 62] for b in world.digest("credentials", "flypay", label, i)
                   if b < 248)
        i += 1
    return "".join(out[:n])


def credentials(world: World) -> dict[str, str]:
    """The sandbox key pair, deterministic from the world's seed:
    ``{"api_key": <32 alphanumerics>, "api_secret": <64 alphanumerics>}``."""
    return {"api_key": _token(world, 32, "key"), "api_secret": _token(world, 64, "secret")}
