"""1BitPay emulator: the C2C OTC desk (``POST /api/otc/rate``, ``/api/otc/create``,
``/api/otc/batch/sell``) and the MPC Co-Signer calls, with the public params in headers, the
MD5 ``Sign`` over headers + body params (ASCII or case-insensitive key order), the
``{code, message, data}`` envelope and 60 units / 60 s per API key.

:func:`credentials` gives the sandbox's provider block fields from the world's seed.
"""

from __future__ import annotations

from ...world import World
from .app import ROUTES, STATE_KEY, VARIANTS, create_app
from .auth import PUBLIC_PARAMS, canonical_strings, md5_sign, signed_params, verify
from .errors import MESSAGES, ApiError
from .model import BUDGET_LIMIT, BUDGET_WINDOW, METHODS, OneBitPayModel
from .pricing import RATE_PLACES, RatePricer, Rates

__all__ = [
    "BUDGET_LIMIT",
    "BUDGET_WINDOW",
    "MESSAGES",
    "METHODS",
    "PUBLIC_PARAMS",
    "RATE_PLACES",
    "ROUTES",
    "STATE_KEY",
    "VARIANTS",
    "ApiError",
    "OneBitPayModel",
    "RatePricer",
    "Rates",
    "canonical_strings",
    "create_app",
    "credentials",
    "md5_sign",
    "signed_params",
    "verify",
]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _alnum(world: World, n: int, *labels: object) -> str:
    out: list[str] = []
    i = 0
    while len(out) < n:
        out.extend(_ALNUM[b % 62] for b in world.digest("credentials", "onebitpay", *labels, i)
                   if b < 248)
        i += 1
    return "".join(out[:n])


def credentials(world: World) -> dict[str, str]:
    """``{"merchant_no", "api_key", "api_secret"}`` derived from the world's seed.

    ``merchant_no`` looks like the doc's ``mer1c92b0319ef5b794`` (``mer`` + 16 hex digits).
    """
    return {"merchant_no": "mer" + world.digest("credentials", "onebitpay", "merchant").hex()[:16],
            "api_key": _alnum(world, 32, "key"),
            "api_secret": _alnum(world, 32, "secret")}
