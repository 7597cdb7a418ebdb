"""FlyPay account state: balances, transactions and deposit addresses, with their JSON objects.

The sandbox account starts with seeded balances (worth $5k-50k per currency). Nothing settles on
its own: an ``exchange`` completes at once (debits ``from``, credits ``to``); a payout locks what it
will spend and stays ``processing``; a payin waits for money that never comes (``pending``). Status
strings are the emulator's choice (the doc lists none): ``pending``, ``processing``, ``completed``.
Ids are integers from a seeded base, in creation order, so a frozen world replays them exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from ...world import World
from .currencies import FPCurrency
from .params import UNPROCESSABLE, ApiError
from .pricing import down, plain

__all__ = ["Client", "DepositAddress", "Ledger", "Transaction"]

_ZERO: Final = Decimal(0)
_PAYINS: Final = frozenset({"payin", "exchange_payin"})


@dataclass(frozen=True, slots=True)
class Client:
    """Who the merchant says the transaction is for (echoed back)."""

    external_id: str | None
    client_id: str | None
    client_ip: str | None
    client_email: str | None
    callback_url: str | None


@dataclass(slots=True)
class Transaction:
    """One transaction of any type; ``amount`` is ordered (payins), spent (payouts) or from."""

    id: int
    type: str
    time: int
    client: Client
    currency_from: str
    currency_to: str
    amount: Decimal
    status: str
    payway: str | None = None
    wallet: str = ""
    wallet_memo_id: str = ""
    payment_fee: Decimal = _ZERO
    payment_fee_currency: str = ""
    in_amount: Decimal | None = None
    out_amount: Decimal | None = None
    conversion_fee: Decimal | None = None
    conversion_fee_currency: str | None = None
    convert_status: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The transaction object as the doc lays it out for this type."""
        c = self.client
        head = {"id": self.id, "create_time": self.time, "update_time": self.time,
                "external_id": c.external_id, "currency_from": self.currency_from,
                "currency_to": self.currency_to}
        tail = {"callback_url": c.callback_url, "client_id": c.client_id,
                "client_email": c.client_email, "client_ip": c.client_ip}
        if self.type == "exchange":
            return {**head, "amount_from": plain(self.amount), "amount_to": _num(self.out_amount),
                    "type": self.type, "status": self.status,
                    "amount_fee": _num(self.conversion_fee),
                    "currency_fee": self.conversion_fee_currency, **tail}
        body: dict[str, Any] = {"payway": self.payway, "wallet": self.wallet,
                                "wallet_memo_id": self.wallet_memo_id}
        if self.type in _PAYINS:
            body |= {"amount_ordered": plain(self.amount), "amount_received": _ZERO}
        else:
            body["amount_spent"] = plain(self.amount)
        body |= {"type": self.type, "status": self.status, "tx_id": None,
                 "payment_amount_fee": plain(self.payment_fee),
                 "payment_currency_fee": self.payment_fee_currency,
                 "convert_status": self.convert_status, "in_amount": _num(self.in_amount),
                 "out_amount": _num(self.out_amount)}
        if self.type in _PAYINS:
            body["amount_fee"] = plain(self.payment_fee)
        body |= {"conversation_amount_fee": _num(self.conversion_fee),
                 "conversation_currency_fee": self.conversion_fee_currency}
        return {**head, **body, **tail}


@dataclass(frozen=True, slots=True)
class DepositAddress:
    id: int
    time: int
    currency_from: str
    currency_to: str | None
    payway: str
    address: str
    memo_id: str
    min_amount: Decimal
    client: Client

    def to_json(self) -> dict[str, Any]:
        c = self.client
        return {"id": self.id, "create_time": self.time, "update_time": self.time,
                "currency_from": self.currency_from, "currency_to": self.currency_to,
                "payway": self.payway, "address": self.address, "memo_id": self.memo_id,
                "min_amount": plain(self.min_amount), "client_id": c.client_id,
                "client_ip": c.client_ip, "client_email": c.client_email,
                "callback_url": c.callback_url, "active": True}


def _num(d: Decimal | None) -> Decimal | None:
    return None if d is None else plain(d)


@dataclass(slots=True)
class _Balance:
    amount: Decimal
    locked: Decimal = _ZERO

    @property
    def available(self) -> Decimal:
        return self.amount - self.locked


@dataclass(slots=True)
class Ledger:
    """Balances, transactions (by id and external id) and deposit addresses of the account."""

    world: World
    currencies: Mapping[str, FPCurrency]
    balances: dict[str, _Balance] = field(default_factory=dict)
    transactions: dict[int, Transaction] = field(default_factory=dict)
    by_external_id: dict[str, int] = field(default_factory=dict)
    addresses: list[DepositAddress] = field(default_factory=list)
    _first_id: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        rng = self.world.rng("flypay", "balances")
        self.balances = {
            c.code: _Balance(down(Decimal(rng.randint(5_000, 50_000))
                                  / self.world.base_usd(c.coin), c.precision))
            for c in self.currencies.values()}
        self.transactions.clear()
        self.by_external_id.clear()
        self.addresses.clear()
        self._first_id = 1_000_000 + int.from_bytes(self.world.digest("flypay", "ids")[:3], "big")

    def balances_json(self) -> dict[str, Any]:
        return {code: {"symbol": code, "name": self.currencies[code].name,
                       "amount": plain(b.amount), "amount_locked": plain(b.locked),
                       "available_amount": plain(b.available),
                       "is_crypto": self.currencies[code].is_crypto}
                for code, b in self.balances.items()}

    def next_id(self) -> int:
        return self._first_id + len(self.transactions) + len(self.addresses)

    def check_external_id(self, external_id: str) -> None:
        if external_id in self.by_external_id:
            raise ApiError(UNPROCESSABLE, "The external_id has already been taken.")

    def spend(self, code: str, amount: Decimal, *, lock: bool) -> None:
        """Take ``amount`` of ``code`` off the available balance (locked, or debited outright)."""
        bal = self.balances[code]
        if amount > bal.available:
            raise ApiError(UNPROCESSABLE, f"Insufficient funds on the {code} balance.")
        if lock:
            bal.locked += amount
        else:
            bal.amount -= amount

    def credit(self, code: str, amount: Decimal) -> None:
        self.balances[code].amount += amount

    def add(self, tx: Transaction) -> Transaction:
        self.transactions[tx.id] = tx
        if tx.client.external_id is not None:
            self.by_external_id[tx.client.external_id] = tx.id
        return tx

    def find(self, tx_id: int | None, external_id: str | None) -> Transaction:
        if tx_id is not None:
            tx = self.transactions.get(tx_id)
        else:
            tx = self.transactions.get(self.by_external_id.get(external_id or "", -1))
        if tx is None:
            raise ApiError(404, "Transaction not found.")
        return tx
