"""FaTPay's lists in FaTPay's own terms: tokens, fiat currencies and payment options.

Token codes follow the doc's example (``USDT_ERC20``: coin, underscore, network); a coin on its own
chain is its bare symbol (``BTC``, ``ETH``, ``SOL``, ``TRX``) except BNB, sold on BSC only
(``BNB_BSC``). Network names are the canonical ones (``ERC20``, ``TRC20``, ``BSC``, ``SOL``,
``BTC``); the ``asset`` column is the world's canonical id the emulator prices from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ...world.profile_fatpay import FATPAY_FIATS

__all__ = ["FIATS", "FIAT_PRECISION", "PAYMENT_METHODS", "TOKENS", "FPToken", "PaymentMethod"]


@dataclass(frozen=True, slots=True)
class FPToken:
    """One row of ``GET /open/api/onramp/token`` plus the world asset it maps to."""

    code: str
    coin: str
    network: str
    precision: int
    asset: str

    def row(self) -> dict[str, object]:
        return {"cryptoCurrencyCode": self.code, "cryptoCurrency": self.coin,
                "network": self.network, "precision": self.precision}


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A payment option's fixed presentation (its limits come from the profile, per fiat)."""

    name: str
    processing_time: str
    icon: str


TOKENS: Final[tuple[FPToken, ...]] = tuple(FPToken(*row) for row in (
    # code, coin, network, precision, world asset
    ("USDT_ERC20", "USDT", "ERC20", 6, "USDT@ERC20"),
    ("USDT_TRC20", "USDT", "TRC20", 6, "USDT@TRC20"),
    ("USDT_BSC", "USDT", "BSC", 6, "USDT@BSC"),
    ("USDC_ERC20", "USDC", "ERC20", 6, "USDC@ERC20"),
    ("USDC_SOL", "USDC", "SOL", 6, "USDC@SOL"),
    ("BTC", "BTC", "BTC", 8, "BTC"),
    ("ETH", "ETH", "ERC20", 8, "ETH"),
    ("SOL", "SOL", "SOL", 6, "SOL"),
    ("TRX", "TRX", "TRC20", 6, "TRX"),
    ("BNB_BSC", "BNB", "BSC", 8, "BNB"),
))

FIATS: Final[tuple[str, ...]] = FATPAY_FIATS
FIAT_PRECISION: Final = 2

PAYMENT_METHODS: Final[Mapping[str, PaymentMethod]] = MappingProxyType({
    m.name: m for m in (
        PaymentMethod("card", "Instant", "https://static.fatpay.xyz/payment/card.svg"),
        PaymentMethod("bank", "1-3 business days", "https://static.fatpay.xyz/payment/bank.svg"),
    )
})
