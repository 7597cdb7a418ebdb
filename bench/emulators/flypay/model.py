"""FlyPay's pure state: keys, budget, stats, pricing, the account ledger and every API method.

No HTTP here: :meth:`FlyPayModel.call` takes the method path (``exchange/estimated_amount``) and the
decoded params and returns the envelope's ``data`` (a :class:`Page` for the paginated methods), or
raises :class:`~.params.ApiError` with the HTTP status and message. ``app.py`` does keys,
signatures and envelopes. Every method costs 1 unit of the key's budget (:data:`METHOD_COSTS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from ...world import PROFILE_BUILDERS, ProviderProfile, World
from ...world.profile_flypay import build_flypay
from ..common import Stats
from . import params as P
from .budget import BUDGET_LIMIT, BUDGET_WINDOW, WindowBudget
from .currencies import FPCurrency, FPPayway, generate_wallet, valid_wallet
from .ledger import Client, DepositAddress, Ledger, Transaction
from .params import UNPROCESSABLE, ApiError
from .payways import payways_document, snapshot_time
from .pricing import Pricer, WayTerms, down, plain

__all__ = ["METHOD_COSTS", "FlyPayModel", "Page", "flypay_profile"]

METHOD_COSTS: Final[Mapping[str, int]] = {
    "balances": 1, "payways": 1, "exchange/estimated_amount": 1, "transaction/exchange": 1,
    "transaction/payin": 1, "transaction/payout": 1, "transaction/exchange_payin": 1,
    "transaction/exchange_payout": 1, "transaction/status": 1, "transaction/history": 1,
    "deposit_address/create": 1, "deposit_address/list": 1,
}
_PER_PAGE: Final = 20
_MAX_PER_PAGE: Final = 100


@dataclass(frozen=True, slots=True)
class Page:
    """A paginated answer: ``total_count``, ``page`` and ``per_page`` sit beside ``data``."""

    data: list[dict[str, Any]]
    total_count: int
    page: int
    per_page: int


def flypay_profile(world: World) -> ProviderProfile:
    """The world's cached FlyPay profile once registered, else built here (same result)."""
    return world.profile("flypay") if "flypay" in PROFILE_BUILDERS else build_flypay(world)


def _paginate(rows: Sequence[Any], params: Mapping[str, Any]) -> Page:
    limit = P.int_field(params, "limit", _PER_PAGE, 1, _MAX_PER_PAGE)
    page = P.int_field(params, "page", 1, 1, 10**9)
    start = (page - 1) * limit
    return Page([r.to_json() for r in rows[start:start + limit]], len(rows), page, limit)


class FlyPayModel:
    """All of one FlyPay emulator's state, fed by ``world``.

    ``credentials`` maps API keys to secrets. ``clock`` drives the budget window only; world time
    drives prices and timestamps, so a frozen world still lets the window slide.
    """

    def __init__(self, world: World, *, credentials: Mapping[str, str], no_limits: bool = False,
                 clock: Callable[[], float] = time.monotonic, faults: object = None) -> None:
        self.world = world
        self.profile = flypay_profile(world)
        self.pricer = Pricer(world, self.profile)
        self.currencies: Mapping[str, FPCurrency] = self.pricer.currencies
        self._credentials = dict(credentials)
        self.budget = None if no_limits else WindowBudget(BUDGET_LIMIT, BUDGET_WINDOW, clock)
        self.faults = faults
        self.stats = Stats()
        self.ledger = Ledger(world, self.currencies)
        self._payways: tuple[int, dict[str, Any]] | None = None

    def reset(self) -> None:
        """Forget transactions, balances, budgets and stats (``POST /_sandbox/reset``)."""
        self.stats.reset()
        self.ledger.reset()
        if self.budget is not None:
            self.budget.reset()

    # --- auth and budget ------------------------------------------------------------------------
    def secret_for(self, api_key: str) -> str | None:
        return self._credentials.get(api_key) if api_key else None

    def charge(self, api_key: str, method: str) -> int | None:
        """Book the method's cost: None if allowed, else the Retry-After seconds (not booked)."""
        cost = METHOD_COSTS[method]
        retry = None if self.budget is None else self.budget.acquire(api_key, cost)
        if retry is None:
            self.stats.units += cost
        else:
            self.stats.rate_limited += 1
        return retry

    # --- dispatch -------------------------------------------------------------------------------
    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        handler: Callable[[Mapping[str, Any]], Any] = getattr(self, "m_" + method.replace("/", "_"))
        return handler(params)

    # --- reads ----------------------------------------------------------------------------------
    def m_balances(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.ledger.balances_json()

    def m_payways(self, params: Mapping[str, Any]) -> dict[str, Any]:
        snap = snapshot_time(self.world.now())
        if self._payways is None or self._payways[0] != snap:
            self._payways = (snap, payways_document(self.pricer, snap))
        return self._payways[1]

    def m_exchange_estimated_amount(self, params: Mapping[str, Any]) -> dict[str, Any]:
        src, dst = self._code(params, "currency_from"), self._code(params, "currency_to")
        est = self.pricer.estimate(src, dst, P.amount(params), self.world.now())
        return {"currency_from": src, "currency_to": dst, "amount_from": plain(est.amount_from),
                "amount_to": plain(est.amount_to)}

    def m_transaction_status(self, params: Mapping[str, Any]) -> dict[str, Any]:
        tx_id, external_id = params.get("id"), P.optional_str(params, "external_id")
        if tx_id is None and external_id is None:
            raise ApiError(UNPROCESSABLE,
                           "The id field is required when external_id is not present.")
        if tx_id is not None:
            tx_id = P.int_field(params, "id", 0, 1, 2**53)
        return self.ledger.find(tx_id, external_id).to_json()

    def m_transaction_history(self, params: Mapping[str, Any]) -> Page:
        return _paginate(list(reversed(self.ledger.transactions.values())), params)

    def m_deposit_address_list(self, params: Mapping[str, Any]) -> Page:
        code = P.optional_str(params, "currency")
        rows = [a for a in reversed(self.ledger.addresses)
                if code is None or a.currency_from == code.lower()]
        return _paginate(rows, params)

    # --- transactions ---------------------------------------------------------------------------
    def m_transaction_exchange(self, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client(params)
        src, dst = self._code(params, "currency_from"), self._code(params, "currency_to")
        est = self.pricer.estimate(src, dst, P.amount(params), self.world.now())
        self._check_new(client)
        self.ledger.spend(src, est.amount_from, lock=False)
        self.ledger.credit(dst, est.amount_to)
        return self._add(client, "exchange", src, dst, est.amount_from, "completed",
                         out_amount=est.amount_to, conversion_fee=est.fee,
                         conversion_fee_currency=src)

    def m_transaction_payin(self, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client(params)
        ccy = self._currency(params, "currency")
        way = self._payway(params, ccy, required=False)
        amount = self._within(self.pricer.payin_terms(ccy, way), ccy, P.amount(params))
        self._check_new(client)
        fee = self.pricer.payin_terms(ccy, way).fee(amount, ccy.precision)
        return self._add(client, "payin", ccy.code, ccy.code, amount, "pending", way=way,
                         payment_fee=fee)

    def m_transaction_payout(self, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client(params)
        ccy = self._currency(params, "currency")
        way = self._payway(params, ccy, required=True)
        terms = self.pricer.payout_terms(ccy, way)
        amount = self._within(terms, ccy, P.amount(params))
        wallet, memo = self._wallet(params, way)
        self._check_new(client)
        fee = terms.fee(amount, ccy.precision)
        spent = amount + fee if terms.append_fee else amount
        self.ledger.spend(ccy.code, spent, lock=True)
        return self._add(client, "payout", ccy.code, ccy.code, spent, "processing", way=way,
                         wallet=wallet, memo=memo, payment_fee=fee)

    def m_transaction_exchange_payin(self, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client(params)
        src = self._currency(params, "currency_from")
        dst = self._code(params, "currency_to")
        way = self._payway(params, src, required=True)
        terms = self.pricer.payin_terms(src, way)
        amount = self._within(terms, src, P.amount(params))
        fee = terms.fee(amount, src.precision)
        est = self.pricer.estimate(src.code, dst, amount - fee, self.world.now())
        self._check_new(client)
        return self._add(client, "exchange_payin", src.code, dst, amount, "pending", way=way,
                         payment_fee=fee, in_amount=est.amount_from, out_amount=est.amount_to,
                         conversion_fee=est.fee, conversion_fee_currency=src.code,
                         convert_status="pending")

    def m_transaction_exchange_payout(self, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client(params)
        src = self._code(params, "currency_from")
        dst = self._currency(params, "currency_to")
        way = self._payway(params, dst, required=True)
        est = self.pricer.estimate(src, dst.code, P.amount(params), self.world.now())
        terms = self.pricer.payout_terms(dst, way)
        fee = terms.fee(est.amount_to, dst.precision)
        self._within(terms, dst, est.amount_to - fee)
        wallet, memo = self._wallet(params, way)
        self._check_new(client)
        self.ledger.spend(src, est.amount_from, lock=True)
        return self._add(client, "exchange_payout", src, dst.code, est.amount_from, "processing",
                         way=way, wallet=wallet, memo=memo, payment_fee=fee,
                         in_amount=est.amount_from, out_amount=est.amount_to,
                         conversion_fee=est.fee, conversion_fee_currency=src,
                         convert_status="completed")

    def m_deposit_address_create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        ccy = self._currency(params, "currency_from")
        dst = None if P.optional_str(params, "currency_to") is None else self._code(
            params, "currency_to")
        if dst is not None and dst not in self.pricer.targets(ccy.code):
            raise ApiError(UNPROCESSABLE, f"Exchange {ccy.code}_{dst} is not available.")
        way = self._payway(params, ccy, required=False)
        client = Client(None, P.optional_str(params, "client_id"), P.ip(params, required=False),
                        P.email(params, required=False), P.url(params))
        aid = self.ledger.next_id()
        entropy = self.world.digest("flypay", "address", aid)
        addr = DepositAddress(aid, int(self.world.now()), ccy.code, dst, way.payway,
                              generate_wallet(way.payway, entropy), self._memo(way, entropy),
                              self.pricer.payin_terms(ccy, way).min_amount, client)
        self.ledger.addresses.append(addr)
        return addr.to_json()

    # --- helpers --------------------------------------------------------------------------------
    def _code(self, params: Mapping[str, Any], name: str) -> str:
        code = P.required_str(params, name).lower()
        if code not in self.currencies:
            raise ApiError(UNPROCESSABLE, f"The selected {name} is invalid.")
        return code

    def _currency(self, params: Mapping[str, Any], name: str) -> FPCurrency:
        return self.currencies[self._code(params, name)]

    def _payway(self, params: Mapping[str, Any], ccy: FPCurrency, *, required: bool) -> FPPayway:
        name = P.required_str(params, "payway") if required else P.optional_str(params, "payway")
        way = ccy.payways[0] if name is None else ccy.payway(name.lower())
        if way is None or not self.profile.supports(way.asset):
            raise ApiError(UNPROCESSABLE, "The selected payway is invalid.")
        return way

    @staticmethod
    def _client(params: Mapping[str, Any]) -> Client:
        return Client(P.required_str(params, "external_id"), P.required_str(params, "client_id"),
                      P.ip(params), P.email(params), P.url(params))

    @staticmethod
    def _within(terms: WayTerms, ccy: FPCurrency, amount: Decimal) -> Decimal:
        amount = down(amount, ccy.precision)
        if amount < terms.min_amount:
            raise ApiError(UNPROCESSABLE, f"The amount must be at least "
                                          f"{plain(terms.min_amount)} {ccy.code}.")
        if amount > terms.max_amount:
            raise ApiError(UNPROCESSABLE, f"The amount may not be greater than "
                                          f"{plain(terms.max_amount)} {ccy.code}.")
        return amount

    @staticmethod
    def _wallet(params: Mapping[str, Any], way: FPPayway) -> tuple[str, str]:
        wallet = P.required_str(params, "wallet")
        if not valid_wallet(way.payway, wallet):
            raise ApiError(UNPROCESSABLE, "The wallet format is invalid.")
        memo = P.optional_str(params, "wallet_memo_id")
        if way.has_memo_id and memo is None:
            raise ApiError(UNPROCESSABLE, "The wallet_memo_id field is required.")
        return wallet, memo or ""

    def _memo(self, way: FPPayway, entropy: bytes) -> str:
        return str(int.from_bytes(entropy[-4:], "big") % 10**9) if way.has_memo_id else ""

    def _check_new(self, client: Client) -> None:
        if client.external_id is not None:
            self.ledger.check_external_id(client.external_id)

    def _add(self, client: Client, type_: str, src: str, dst: str, amount: Decimal, status: str,
             *, way: FPPayway | None = None, wallet: str | None = None, memo: str = "",
             payment_fee: Decimal = Decimal(0), **conversion: Any) -> dict[str, Any]:
        tid = self.ledger.next_id()
        if way is not None and wallet is None:  # a payin: FlyPay gives the wallet to pay to
            entropy = self.world.digest("flypay", "wallet", tid)
            wallet, memo = generate_wallet(way.payway, entropy), self._memo(way, entropy)
        tx = Transaction(tid, type_, int(self.world.now()), client, src, dst, amount, status,
                         payway=None if way is None else way.payway, wallet=wallet or "",
                         wallet_memo_id=memo, payment_fee=payment_fee,
                         payment_fee_currency=(dst if type_ == "exchange_payout" else src)
                         if way is not None else "", **conversion)
        return self.ledger.add(tx).to_json()
