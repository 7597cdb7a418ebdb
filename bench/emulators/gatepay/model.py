"""Gate Pay convert's pure state: credentials, budget, nonces, quotes, orders, stats.

No HTTP here: each method takes decoded query/body params and returns the envelope's ``data``, or
raises :class:`ApiError` with Gate Pay's code. ``app.py`` does headers, signatures and envelopes.

Decisions where the doc is silent (the adapter must match them):

* A preview's ``quoteId`` (``PAY-`` + 8 hex) is valid ``quote_ttl`` (20) seconds of wall clock
  and for one order. Converting an unknown, used or expired quote, or one whose world mid price has
  since moved more than ``price_tolerance`` (0.3 %), is ``400622``. Amounts and currencies that
  differ from the preview (compared as numbers) are ``400001``.
* With fault injection (:mod:`bench.faults`), the ``expired_quote`` fault makes a convert find
  its otherwise valid quote expired (``400622``), as if quote ids expired at once.
* ``clientReqId`` is the idempotency key per client id: the same key with the same quoteId,
  currencies and amounts answers the same order again (no new order, even once the quote has
  expired); the same key with anything different is ``400201``.
* The convert answer shows ``status`` 1 (created); the order query shows 3 (success): conversions
  inside an account settle at once. ``400202`` for an order id unknown to this client id.
* Amounts are cut down to the coin's precision; limits apply to the side the request names (the
  pair list's ``sellCurrencyMin/Max`` for ``sellAmount``, ``buyCurrencyMin/Max`` for
  ``buyAmount``); out of range is ``400001``. Unknown coin, same coin twice or an unoffered pair is
  ``400001``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ...faults.kinds import EXPIRED_QUOTE
from ...world import World
from ...world.profile_gatepay import build_gatepay
from ..common import Stats, to_decimal
from ..variants import VariantChoice
from .auth import NonceWindow
from .budget import BUDGET_LIMIT, BUDGET_WINDOW, WindowBudget
from .orders import STATUS_CREATED, STATUS_SUCCESS, Order, QuoteRecord
from .pricing import Preview, Pricer, fmt
from .variants import (
    VARIANTS,
    first_of,
    order_id_names,
    preview_answer,
    row_pairs,
    strictly_supported,
)

if TYPE_CHECKING:
    from ...faults import FaultInjector

__all__ = ["PRICE_TOLERANCE", "QUOTE_TTL", "ApiError", "GatePayModel"]

QUOTE_TTL: Final = 20.0
PRICE_TOLERANCE: Final = Decimal("0.003")
_MAX_AMOUNT: Final = Decimal(10) ** 15
_MAX_QUOTES: Final = 200_000
_MAX_REQ_ID: Final = 64


class ApiError(Exception):
    """A ``FAIL`` answer: Gate Pay's code, a message, and the HTTP status it comes with."""

    def __init__(self, code: str, message: str, http_status: int = 200) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.http_status = http_status


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError("400001", f"{name} is required")
    return value.strip()


def _amount(value: object, name: str) -> Decimal:
    d = to_decimal(value)
    if d is None or d <= 0 or d > _MAX_AMOUNT:
        raise ApiError("400001", f"{name} must be a positive number")
    return d


def _side(query: Mapping[str, str]) -> str | None:
    side = query.get("side", "").strip().lower()
    if side not in ("", "buy", "sell"):
        raise ApiError("400001", "side must be buy or sell")
    return side or None


class GatePayModel:
    """All of one Gate Pay emulator's state, fed by ``world``.

    ``credentials`` maps client ids to API secrets. ``clock`` drives the budget window;
    ``wall_clock`` (epoch seconds) checks request timestamps and quote lifetimes; world time drives
    prices and ``createTime``.
    """

    def __init__(self, world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, quote_ttl: float = QUOTE_TTL,
                 price_tolerance: Decimal = PRICE_TOLERANCE,
                 faults: FaultInjector | None = None,
                 variants: VariantChoice | None = None) -> None:
        self.world = world
        self.variants = variants or VariantChoice("gatepay", VARIANTS)
        self.profile = build_gatepay(world)
        self.pricer = Pricer(world, self.profile)
        self._credentials = dict(credentials)
        self.budget = None if no_limits else WindowBudget(BUDGET_LIMIT, BUDGET_WINDOW, clock)
        self.wall_clock = wall_clock
        self.quote_ttl = quote_ttl
        self.price_tolerance = price_tolerance
        self.faults = faults
        self.nonces = NonceWindow()
        self.stats = Stats()
        self._quotes: OrderedDict[tuple[str, str], QuoteRecord] = OrderedDict()
        self._orders: dict[str, Order] = {}
        self._by_req: dict[tuple[str, str], Order] = {}

    def reset(self) -> None:
        """Forget quotes, orders, nonces, budgets and stats (``POST /_sandbox/reset``)."""
        self.stats.reset()
        self.nonces.reset()
        self._quotes.clear()
        self._orders.clear()
        self._by_req.clear()
        if self.budget is not None:
            self.budget.reset()

    # --- auth and budget ------------------------------------------------------------------------
    def secret_for(self, client_id: str) -> str | None:
        return self._credentials.get(client_id) if client_id else None

    def charge(self, client_id: str, cost: int = 1) -> float:
        """Book ``cost`` units; 0.0 when booked, else seconds until the window allows it."""
        wait = 0.0 if self.budget is None else self.budget.acquire(client_id, cost)
        if wait:
            self.stats.rate_limited += 1
        else:
            self.stats.units += cost
        return wait

    # --- methods --------------------------------------------------------------------------------
    def currency(self, query: Mapping[str, str]) -> dict[str, Any]:
        _side(query)  # every listed coin can be both sold and bought
        return {"currency": list(self.pricer.currencies())}

    def pair(self, query: Mapping[str, str]) -> list[dict[str, str]]:
        side = _side(query)
        currency = query.get("currency", "").strip()
        if not currency:
            raise ApiError("400001", "currency is required")
        if currency not in self.pricer.currencies():
            raise ApiError("400001", "currency not supported")
        rows = []
        for sell, buy in row_pairs(self.variants, currency, side,
                                   self.pricer.pairs(currency, side)):
            lim = self.pricer.limits(sell, buy)
            rows.append({"pair": f"{sell}_{buy}", "sellCurrency": sell,
                         "sellCurrencyMax": fmt(lim.sell_max), "sellCurrencyMin": fmt(lim.sell_min),
                         "buyCurrency": buy, "buyCurrencyMax": fmt(lim.buy_max),
                         "buyCurrencyMin": fmt(lim.buy_min)})
        return rows

    def preview(self, client_id: str, params: Mapping[str, Any]) -> dict[str, str]:
        sell, buy = self._pair_of(params)
        given = {k: params.get(k) for k in ("sellAmount", "buyAmount")
                 if params.get(k) not in (None, "")}
        if len(given) != 1:
            raise ApiError("400001", "exactly one of sellAmount and buyAmount is required")
        (name, raw), = given.items()
        coin = sell if name == "sellAmount" else buy
        amount = self.pricer.cut(coin, _amount(raw, name))
        lim = self.pricer.limits(sell, buy)
        lo, hi = ((lim.sell_min, lim.sell_max) if name == "sellAmount"
                  else (lim.buy_min, lim.buy_max))
        if amount < lo:
            raise ApiError("400001", f"{name} below the minimum {fmt(lo)} {coin}")
        if amount > hi:
            raise ApiError("400001", f"{name} above the maximum {fmt(hi)} {coin}")
        at = self.world.now()
        p = (self.pricer.preview(sell, buy, sell_amount=amount, at=at) if name == "sellAmount"
             else self.pricer.preview(sell, buy, buy_amount=amount, at=at))
        if p.sell_amount <= 0 or p.buy_amount <= 0:
            raise ApiError("400001", f"{name} too small")
        quote = self._issue(client_id, p, name, at)
        price = fmt(p.price)
        return preview_answer(self.variants, {
            "sellCurrency": sell, "buyCurrency": buy, "sellAmount": fmt(p.sell_amount),
            "buyAmount": fmt(p.buy_amount), "price": price, "rate": price,
            "quoteId": quote.quote_id})

    def convert(self, client_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        req_id = _text(params, "clientReqId")
        if len(req_id) > _MAX_REQ_ID:
            raise ApiError("400001", "clientReqId too long")
        quote_id = _text(params, "quoteId")
        sell, buy = _text(params, "sellCurrency"), _text(params, "buyCurrency")
        if "sellAmount" not in params or "buyAmount" not in params:
            raise ApiError("400001", "sellAmount and buyAmount are required")
        key = (quote_id, sell, buy, _amount(params["sellAmount"], "sellAmount"),
               _amount(params["buyAmount"], "buyAmount"))
        done = self._by_req.get((client_id, req_id))
        if done is not None:
            if done.key != key:
                raise ApiError("400201", "clientReqId already used for another order")
            return done.to_json(STATUS_CREATED)
        now = self.wall_clock()
        self._purge(now)
        quote = self._quotes.get((client_id, quote_id))
        if quote is None or now - quote.issued > self.quote_ttl or self._expired_by_fault():
            raise ApiError("400622", "quote expired or unknown")
        p = quote.preview
        if (sell, buy, key[3], key[4]) != (p.sell, p.buy, p.sell_amount, p.buy_amount):
            raise ApiError("400001", "currencies and amounts must match the preview")
        mid = self.world.cross(sell, buy)
        if abs(mid / p.mid - 1) > self.price_tolerance:
            raise ApiError("400622", "conversion failed: the rate moved")
        del self._quotes[(client_id, quote_id)]  # a quote serves one order
        order = self._new_order(client_id, req_id, key, p)
        return order.to_json(STATUS_CREATED)

    def order(self, client_id: str, query: Mapping[str, str]) -> dict[str, Any]:
        names = order_id_names(self.variants)
        oid = first_of(query, names)
        if not oid:
            raise ApiError("400001", f"{names[0]} is required")
        order = self._orders.get(oid)
        if order is None or order.client_id != client_id:
            raise ApiError("400202", "order not found")
        return order.to_json(STATUS_SUCCESS)

    # --- helpers --------------------------------------------------------------------------------
    def _expired_by_fault(self) -> bool:
        return self.faults is not None and self.faults.take(EXPIRED_QUOTE)

    def _pair_of(self, params: Mapping[str, Any]) -> tuple[str, str]:
        sell, buy = _text(params, "sellCurrency"), _text(params, "buyCurrency")
        coins = self.pricer.currencies()
        if sell not in coins or buy not in coins:
            raise ApiError("400001", "currency not supported")
        if sell == buy:
            raise ApiError("400001", "sellCurrency and buyCurrency must differ")
        if not (self.pricer.supported(sell, buy)
                and strictly_supported(self.variants, sell, buy)):
            raise ApiError("400001", "pair not supported")
        return sell, buy

    def _issue(self, client_id: str, p: Preview, side: str, at: float) -> QuoteRecord:
        """Register a quote under an id derived from the request (pure in a frozen world)."""
        now = self.wall_clock()
        self._purge(now)
        amount = p.sell_amount if side == "sellAmount" else p.buy_amount
        salt = 0
        while True:
            d = self.world.digest("gatepay", "quote", client_id, p.sell, p.buy, side, fmt(amount),
                                  int(at), salt)
            qid = "PAY-" + d[:4].hex()
            old = self._quotes.get((client_id, qid))
            if old is None or old.preview == p:
                break
            salt += 1
        self._quotes.pop((client_id, qid), None)
        quote = self._quotes[(client_id, qid)] = QuoteRecord(qid, client_id, p, now)
        return quote

    def _purge(self, now: float) -> None:
        horizon = now - self.quote_ttl - 60
        while self._quotes:
            first = next(iter(self._quotes.values()))
            if first.issued > horizon and len(self._quotes) <= _MAX_QUOTES:
                break
            self._quotes.popitem(last=False)

    def _new_order(self, client_id: str, req_id: str,
                   key: tuple[str, str, str, Decimal, Decimal], p: Preview) -> Order:
        salt = 0
        while True:
            d = self.world.digest("gatepay", "order", client_id, req_id, salt)
            oid = str(10**17 + int.from_bytes(d[:8], "big") % (9 * 10**17))
            if oid not in self._orders:
                break
            salt += 1
        user = 10_000 + int.from_bytes(self.world.digest("gatepay", "user", client_id)[:4],
                                       "big") % 90_000_000
        order = Order(oid, client_id, user, key,
                      self.pricer.order_rate(p.sell, p.buy, p.sell_amount, p.buy_amount),
                      int(self.world.now() * 1000))
        self._orders[oid] = order
        self._by_req[(client_id, req_id)] = order
        return order
