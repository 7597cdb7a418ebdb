"""1BitPay's pure state: credentials, per-key budget, stats, rates and accepted orders.

No HTTP here: :class:`OneBitPayModel` takes a decoded body and returns the envelope's ``data``
(or :data:`NO_DATA` for answers the doc shows without one), or raises
:class:`~.errors.ApiError`. The HTTP layer (``app.py``) does headers, signatures and envelopes.

Methods (all ``POST``, 1 budget unit each): ``/api/otc/rate``, ``/api/otc/create``,
``/api/otc/batch/sell`` (C2C), and the MPC Co-Signer calls ``/api/transaction/pending``,
``/api/transaction/approve``, ``/api/transaction/assets/collect``. The emulated merchant has no
MPC wallet activity: the pending list is always empty (so approving any id is a 400) and a
collection sweep succeeds with nothing to move.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from ...world import World
from ...world.profile_onebitpay import build_onebitpay
from ..common import Stats
from .budget import WindowBudget
from .errors import BAD_PARAM, BELOW_MIN_VOLUME, ApiError
from .orders import (
    MAX_BATCH,
    Order,
    OrderRequest,
    check_pair,
    parse_batch_item,
    parse_create,
)
from .pricing import RatePricer

__all__ = ["BUDGET_LIMIT", "BUDGET_WINDOW", "CASHIER_URL", "METHODS", "NO_DATA",
           "OneBitPayModel"]

BUDGET_LIMIT: Final = 60
BUDGET_WINDOW: Final = 60.0
#: Path -> model method name. Every call costs 1 unit.
METHODS: Final[Mapping[str, str]] = {
    "/api/otc/rate": "rate",
    "/api/otc/create": "create",
    "/api/otc/batch/sell": "batch_sell",
    "/api/transaction/pending": "pending",
    "/api/transaction/approve": "approve",
    "/api/transaction/assets/collect": "collect",
}
#: Cashier page of an order; a constant host so that same-seed sandboxes answer identically.
CASHIER_URL: Final = "https://sandbox.1bitpay.io/1bitpay-open-api-h5/otc.html"
NO_DATA: Final = object()


class OneBitPayModel:
    """All of one 1BitPay emulator's state, fed by ``world``.

    ``credentials``: ``{"merchant_no", "api_key", "api_secret"}`` (the sandbox's provider block).
    ``clock`` drives the budget window only; world time drives the rates.
    """

    def __init__(self, world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
                 clock: Callable[[], float] = time.monotonic, faults: object = None) -> None:
        try:
            self.merchant_no = str(credentials["merchant_no"])
            self._api_key = str(credentials["api_key"])
            self._secret = str(credentials["api_secret"])
        except KeyError as exc:
            raise ValueError(f"onebitpay credentials need {exc.args[0]!r}") from None
        self.world = world
        self.profile = build_onebitpay(world)
        self.pricer = RatePricer(world, self.profile)
        self.budget = None if no_limits else WindowBudget(BUDGET_LIMIT, BUDGET_WINDOW, clock)
        self.faults = faults
        self.stats = Stats()
        self.orders: dict[str, Order] = {}
        self._by_merchant_no: dict[str, str] = {}
        self._seq = 0

    def __repr__(self) -> str:
        return f"OneBitPayModel(merchant_no={self.merchant_no!r}, orders={len(self.orders)})"

    def reset(self) -> None:
        """Forget orders, budgets and stats (``POST /_sandbox/reset``)."""
        self.stats.reset()
        self.orders.clear()
        self._by_merchant_no.clear()
        self._seq = 0
        if self.budget is not None:
            self.budget.reset()

    # --- auth and budget ------------------------------------------------------------------------
    def secret_for(self, api_key: str) -> str | None:
        return self._secret if api_key and api_key == self._api_key else None

    def charge(self, api_key: str, cost: int = 1) -> int:
        """Book ``cost`` units; 0 if allowed, else the Retry-After seconds (nothing booked)."""
        retry = 0 if self.budget is None else self.budget.acquire(api_key, cost)
        if retry:
            self.stats.rate_limited += 1
        else:
            self.stats.units += cost
        return retry

    # --- methods --------------------------------------------------------------------------------
    def call(self, path: str, body: Any, lang: str) -> Any:
        if METHODS[path] == "batch_sell":
            return self.batch_sell(body, lang)
        if not isinstance(body, dict):
            raise ApiError(BAD_PARAM, "the body must be a JSON object")
        handler: Callable[[dict[str, Any], str], Any] = getattr(self, METHODS[path])
        return handler(body, lang)

    def rate(self, params: dict[str, Any], lang: str) -> dict[str, str]:
        _, fiat = check_pair(params, self.pricer.fiats)
        r = self.pricer.rates(fiat)
        return {"buyRate": _fmt(r.buy), "sellRate": _fmt(r.sell)}

    def create(self, params: dict[str, Any], lang: str) -> dict[str, Any]:
        req = parse_create(params, self.pricer.fiats)
        known = self._by_merchant_no.get(req.merchant_order_no)
        if known is not None:  # the same merchant order again: the existing order, not new
            return self._order_json(self.orders[known], lang, is_new=False)
        order = self._accept(req)
        return self._order_json(order, lang, is_new=True)

    def batch_sell(self, body: Any, lang: str) -> dict[str, Any]:
        if not isinstance(body, list) or not body:
            raise ApiError(BAD_PARAM, "the body must be a non-empty JSON array of orders")
        if len(body) > MAX_BATCH:
            raise ApiError(BAD_PARAM, f"at most {MAX_BATCH} orders per batch")
        reqs = [parse_batch_item(item, self.pricer.fiats) for item in body]
        for req in reqs:  # all or nothing: check every volume before accepting any
            self._volume(req)
        self._seq += 1
        batch_no = str(10_000_000_000 + _digest_int(self.world, "batch", self._seq)
                       % 90_000_000_000)
        orders = [self._accept(req, batch_no) for req in reqs]
        # The doc's example lists 1BitPay order numbers under ``merchantOrderNos``.
        return {"batchNo": batch_no, "merchantOrderNos": [o.order_no for o in orders]}

    def pending(self, params: dict[str, Any], lang: str) -> dict[str, Any]:
        for name, hi in (("pageNum", 1_000_000), ("pageSize", 100)):
            v = params.get(name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= hi:
                raise ApiError(BAD_PARAM, name)
        return {"total": 0, "list": []}

    def approve(self, params: dict[str, Any], lang: str) -> object:
        v = params.get("id")
        if isinstance(v, bool) or not isinstance(v, int):
            raise ApiError(BAD_PARAM, "id")
        if params.get("status") not in (1, 2, "1", "2"):
            raise ApiError(BAD_PARAM, "status")
        _need_data(params)
        raise ApiError(BAD_PARAM, "id: no such pending transaction")

    def collect(self, params: dict[str, Any], lang: str) -> object:
        if params.get("isMain") not in (0, 1) or isinstance(params.get("isMain"), bool):
            raise ApiError(BAD_PARAM, "isMain")
        _need_data(params)
        return NO_DATA

    # --- helpers --------------------------------------------------------------------------------
    def _volume(self, req: OrderRequest) -> tuple[Decimal, Decimal]:
        """(rate, fiat volume) of ``req``; 150032 below the fiat's minimum."""
        rate = self.pricer.rates(req.fiat).for_order(req.order_type)
        volume = req.legal_amount if req.crypto_amount is None else req.crypto_amount * rate
        assert volume is not None
        if volume < self.pricer.min_legal(req.fiat):
            raise ApiError(BELOW_MIN_VOLUME, f"{self.pricer.min_legal(req.fiat)} {req.fiat}")
        return rate, volume

    def _accept(self, req: OrderRequest, batch_no: str | None = None) -> Order:
        rate, volume = self._volume(req)
        self._seq += 1
        order_no = str(100_000_000_000_000_000 + _digest_int(self.world, "order", self._seq)
                       % 900_000_000_000_000_000)
        while order_no in self.orders:
            order_no = str(int(order_no) + 1)
        token = self.world.digest("onebitpay", "token", order_no).hex()[:32]
        order = Order(order_no, token, req, rate, volume, self.world.now(), batch_no)
        self.orders[order_no] = order
        if batch_no is None:
            self._by_merchant_no[req.merchant_order_no] = order_no
        return order

    @staticmethod
    def _order_json(order: Order, lang: str, *, is_new: bool) -> dict[str, Any]:
        url = f"{CASHIER_URL}?t={order.token}&o={order.order_no}&l={lang}"
        return {"url": url, "isNew": is_new, "orderNo": order.order_no}


def _need_data(params: Mapping[str, Any]) -> None:
    data = params.get("data")
    if not isinstance(data, str) or not data.strip():
        raise ApiError(BAD_PARAM, "data")


def _digest_int(world: World, *labels: object) -> int:
    return int.from_bytes(world.digest("onebitpay", *labels)[:16], "big")


def _fmt(d: Decimal) -> str:
    """Plain decimal string without trailing zeros, as in the doc's example (``6.47``, ``6.9``)."""
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"

