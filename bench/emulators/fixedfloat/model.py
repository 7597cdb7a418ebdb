"""FixedFloat's pure state: currencies, pricing, orders, per-key budget, stats, feed snapshots.

No HTTP here: :class:`FixedFloatModel` takes decoded params and returns the ``data`` of the
envelope, or raises :class:`ApiError` with FixedFloat's code (301 invalid input, 300 internal).
The HTTP layer (``app.py``) does keys, signatures and envelopes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from ...world import World
from ..common import Decision, SlidingWindowLimiter, Stats, to_decimal
from .currencies import CURRENCIES, FFCurrency, deposit_address, valid_address
from .feed import (
    SNAPSHOT_PERIOD,
    FeedSnapshot,
    make_snapshot,
    render_rates_xml,
    snapshot_items,
)
from .orders import Order
from .pricing import Pricer, Quote

__all__ = ["BUDGET_LIMIT", "METHOD_COSTS", "ApiError", "FixedFloatModel"]

BUDGET_LIMIT: Final = 250
BUDGET_WINDOW: Final = 60.0
FIRST_BLOCK: Final = 60.0
METHOD_COSTS: Final[Mapping[str, int]] = {
    "ccies": 1, "price": 1, "create": 50, "order": 1, "emergency": 1, "setEmail": 1, "qr": 1,
}
_MAX_AMOUNT: Final = Decimal(10) ** 15  # beyond any limit; keeps quantize within precision
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_ID_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ApiError(Exception):
    """An answer with a non-zero envelope code."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(code, msg)
        self.code = code
        self.msg = msg


def _draw(entropy: bytes, alphabet: str, n: int) -> str:
    """``n`` characters of ``alphabet`` drawn deterministically from ``entropy``."""
    return "".join(alphabet[b % len(alphabet)] for b in hashlib.shake_256(entropy).digest(n))


class FixedFloatModel:
    """All of one FixedFloat emulator's state, fed by ``world``.

    ``credentials`` maps API keys to secrets. ``clock`` drives the budget window only (world time
    drives prices and orders), so a frozen world still lets blocks expire.
    """

    def __init__(self, world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
                 clock: Callable[[], float] = time.monotonic, faults: object = None) -> None:
        self.world = world
        self.profile = world.profile("fixedfloat")
        self.pricer = Pricer(world, self.profile)
        self.currencies: Mapping[str, FFCurrency] = {
            c.code: c for c in CURRENCIES if self.profile.supports(c.asset)}
        self._credentials = dict(credentials)
        self.limiter = None if no_limits else SlidingWindowLimiter(
            BUDGET_LIMIT, BUDGET_WINDOW, FIRST_BLOCK, clock)
        self.faults = faults
        self.maintenance: frozenset[str] = frozenset()
        self.stats = Stats()
        self.orders: dict[str, Order] = {}
        self._seq = 0
        self._feeds: dict[str, FeedSnapshot] = {}

    def reset(self) -> None:
        """Forget orders, budgets, stats and cached feeds (``POST /_sandbox/reset``)."""
        self.stats.reset()
        self.orders.clear()
        self._seq = 0
        self._feeds.clear()
        if self.limiter is not None:
            self.limiter.reset()

    # --- auth and budget ------------------------------------------------------------------------
    def secret_for(self, api_key: str) -> str | None:
        return self._credentials.get(api_key) if api_key else None

    def charge(self, api_key: str, method: str) -> Decision:
        """Book the method's cost for ``api_key``; counts units, refusals and blocks in stats."""
        cost = METHOD_COSTS[method]
        if self.limiter is None:
            self.stats.units += cost
            return Decision(True)
        decision = self.limiter.acquire(api_key, cost)
        if decision.allowed:
            self.stats.units += cost
        else:
            self.stats.rate_limited += 1
            self.stats.blocks += decision.new_block
        return decision

    # --- methods --------------------------------------------------------------------------------
    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        handler = getattr(self, f"m_{method}")
        return handler(params)

    def m_ccies(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"code": c.code, "coin": c.coin, "network": c.network, "name": c.name,
                 "recv": self._recv(c), "send": self._send(c), "tag": c.tag, "logo": c.logo,
                 "color": c.color, "priority": c.priority} for c in self.currencies.values()]

    def m_price(self, params: Mapping[str, Any]) -> dict[str, Any]:
        q = self._quote(params)
        data: dict[str, Any] = {"from": self._side(q, True), "to": self._side(q, False),
                                "errors": list(q.errors)}
        if params.get("ccies") in (True, 1, "1", "true"):
            data["ccies"] = [{"code": c.code, "recv": self._recv(c), "send": self._send(c)}
                             for c in self.currencies.values()]
        return data

    def m_create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        q = self._quote(params)
        address = params.get("toAddress")
        if not isinstance(address, str) or not address.strip():
            raise ApiError(301, "Invalid toAddress")
        address, _, tag = address.strip().partition(":")
        extra_tag = params.get("tag")
        if isinstance(extra_tag, (str, int)) and not isinstance(extra_tag, bool) and str(extra_tag):
            tag = str(extra_tag)
        if not valid_address(q.dst.ccy.network, address):
            raise ApiError(301, "Invalid address")
        if q.errors:
            raise ApiError(301, "Out of limits" if any(e.startswith("LIMIT") for e in q.errors)
                           else "Currency not available: " + ",".join(q.errors))
        self._seq += 1
        d = self.world.digest("fixedfloat", "order", self._seq)
        oid = _draw(d, _ID_ALPHABET, 6)
        while oid in self.orders:
            d = self.world.digest("fixedfloat", "order", self._seq, d.hex())
            oid = _draw(d, _ID_ALPHABET, 6)
        token = _draw(self.world.digest("fixedfloat", "token", oid), _TOKEN_ALPHABET, 40)
        src = q.src.ccy
        order = Order(
            id=oid, token=token, type=str(params["type"]).lower(),
            reg=math.floor(self.world.now()), src=src, dst=q.dst.ccy,
            src_precision=q.src.precision, dst_precision=q.dst.precision,
            src_amount=q.src.amount, dst_amount=q.dst.amount,
            deposit_address=deposit_address(src.network, d),
            deposit_tag=str(int.from_bytes(d[:4], "big")) if src.tag else None,
            to_address=address, to_tag=tag or None)
        self.orders[oid] = order
        return order.to_json(self.world.now(), with_token=True)

    def m_order(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._order(params).to_json(self.world.now(), with_token=False)

    def m_emergency(self, params: Mapping[str, Any]) -> bool:
        order = self._order(params)
        choice = params.get("choice")
        if choice not in ("EXCHANGE", "REFUND"):
            raise ApiError(301, "Invalid choice")
        if choice == "REFUND":
            address = params.get("address")
            if not isinstance(address, str) or not valid_address(order.src.network, address):
                raise ApiError(301, "Invalid address")
            order.back_address = address
            tag = params.get("tag")
            order.back_tag = str(tag) if tag not in (None, "") else None
        order.choice = choice
        return True

    def m_setEmail(self, params: Mapping[str, Any]) -> bool:  # noqa: N802 - the doc's name
        order = self._order(params)
        email = params.get("email", "")
        if not isinstance(email, str) or (email and not _EMAIL_RE.match(email)):
            raise ApiError(301, "Invalid email")
        order.email = email
        return True

    def m_qr(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._order(params).qr()

    # --- feed -----------------------------------------------------------------------------------
    def feed(self, rate_type: str) -> FeedSnapshot:
        """The export for ``rate_type`` as of the start of the current world minute (cached)."""
        at = math.floor(self.world.now() / SNAPSHOT_PERIOD) * SNAPSHOT_PERIOD
        snap = self._feeds.get(rate_type)
        if snap is None or snap.last_modified != at:
            items = snapshot_items(self.pricer, self.currencies, rate_type, at,
                                   omit_fee=self._omit_fee, unavailable=self.maintenance)
            snap = self._feeds[rate_type] = make_snapshot(render_rates_xml(items), at)
        return snap

    def _omit_fee(self, ccy: FFCurrency) -> bool:
        """About one currency in four has no ``<tofee>`` in the feed (seeded)."""
        return self.world.digest("fixedfloat", "tofee", ccy.code)[0] < 64

    # --- helpers --------------------------------------------------------------------------------
    def _recv(self, c: FFCurrency) -> bool:
        return self.profile.can_receive(c.asset) and c.code not in self.maintenance

    def _send(self, c: FFCurrency) -> bool:
        return self.profile.can_send(c.asset) and c.code not in self.maintenance

    def _ccy(self, params: Mapping[str, Any], name: str) -> FFCurrency:
        code = params.get(name)
        if not isinstance(code, str) or not code:
            raise ApiError(301, f"Missing {name}")
        ccy = self.currencies.get(code.strip().upper())
        if ccy is None:
            raise ApiError(301, f"Invalid {name}: unknown currency")
        return ccy

    def _quote(self, params: Mapping[str, Any]) -> Quote:
        rate_type = params.get("type")
        if not isinstance(rate_type, str) or rate_type.lower() not in ("fixed", "float"):
            raise ApiError(301, "Invalid type")
        direction = params.get("direction")
        if not isinstance(direction, str) or direction.lower() not in ("from", "to"):
            raise ApiError(301, "Incorrect direction")
        src, dst = self._ccy(params, "fromCcy"), self._ccy(params, "toCcy")
        if src.code == dst.code:
            raise ApiError(301, "Same currency on both sides")
        if "amount" not in params:
            raise ApiError(301, "Missing amount")
        amount = to_decimal(params["amount"])
        if amount is None or amount <= 0 or amount > _MAX_AMOUNT:
            raise ApiError(301, "Invalid amount")
        return self.pricer.quote(src, dst, rate_type.lower(), direction.lower(), amount,
                                 self.world.now(), maintenance=self.maintenance)

    @staticmethod
    def _side(q: Quote, is_src: bool) -> dict[str, Any]:
        s = q.src if is_src else q.dst
        out: dict[str, Any] = {
            "code": s.ccy.code, "network": s.ccy.network, "coin": s.ccy.coin,
            "amount": _fmt(s.amount), "rate": _fmt(s.rate), "precision": s.precision,
            "min": _fmt(s.min), "max": _fmt(s.max), "usd": _fmt(s.usd)}
        if is_src and s.btc is not None:
            out["btc"] = _fmt(s.btc)
        return out

    def _order(self, params: Mapping[str, Any]) -> Order:
        oid, token = params.get("id"), params.get("token")
        if not isinstance(oid, str) or not isinstance(token, str):
            raise ApiError(301, "Missing id or token")
        order = self.orders.get(oid)
        if order is None or not hmac.compare_digest(order.token.encode(), token.encode()):
            raise ApiError(301, "Order not found")
        return order


def _fmt(d: Decimal) -> str:
    """Plain decimal string without trailing zeros (``0.040297``, ``967.072057``, ``12``)."""
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"
