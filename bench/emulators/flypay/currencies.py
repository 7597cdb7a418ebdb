"""FlyPay's currencies and payways, in FlyPay's own terms, tied to the world's assets.

Currency codes are lower-case (``btc``, ``usdt``); a currency is paid in or out over a *payway*,
named after the network it runs on (``trc20``, ``erc20``, ``bep20``, ``btc``, ``sol``...; fiat RUB
uses ``card``). Exchanges happen between account balances, so they are per currency, network-free.
Also: loose address checks per payway (to validate payout wallets) and a deterministic wallet
generator for payins and deposit addresses.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = ["CURRENCIES", "FPCurrency", "FPPayway", "generate_wallet", "valid_wallet"]


@dataclass(frozen=True, slots=True)
class FPPayway:
    """One way to move a currency in or out: ``payway`` (network name) and the world asset."""

    currency: str
    payway: str
    asset: str
    name: str
    has_memo_id: bool = False


@dataclass(frozen=True, slots=True)
class FPCurrency:
    """A currency FlyPay keeps balances in: its code, world coin, display precision, payways."""

    code: str
    coin: str
    name: str
    precision: int
    is_crypto: bool
    payways: tuple[FPPayway, ...]

    def payway(self, name: str) -> FPPayway | None:
        return next((p for p in self.payways if p.payway == name), None)


def _cur(code: str, name: str, precision: int, *ways: tuple[str, str, str, bool],
         is_crypto: bool = True) -> FPCurrency:
    return FPCurrency(code, code.upper(), name, precision, is_crypto,
                      tuple(FPPayway(code, w, a, n, memo) for w, a, n, memo in ways))


CURRENCIES: Final[Mapping[str, FPCurrency]] = MappingProxyType({c.code: c for c in (
    _cur("btc", "Bitcoin", 8, ("btc", "BTC", "Bitcoin", False)),
    _cur("eth", "Ethereum", 8, ("erc20", "ETH", "Ethereum (ERC20)", False)),
    _cur("ltc", "Litecoin", 8, ("ltc", "LTC", "Litecoin", False)),
    _cur("trx", "Tron", 6, ("trc20", "TRX", "Tron (TRC20)", False)),
    _cur("doge", "Dogecoin", 8, ("doge", "DOGE", "Dogecoin", False)),
    _cur("xrp", "Ripple", 6, ("xrp", "XRP", "Ripple", True)),
    _cur("sol", "Solana", 8, ("sol", "SOL", "Solana", False)),
    _cur("ton", "Toncoin", 8, ("ton", "TON", "Toncoin", True)),
    _cur("bnb", "BNB", 8, ("bep20", "BNB", "BNB (BEP20)", False)),
    _cur("usdt", "Tether USD", 6, ("trc20", "USDT@TRC20", "Tether USD (TRC20)", False),
         ("erc20", "USDT@ERC20", "Tether USD (ERC20)", False),
         ("bep20", "USDT@BSC", "Tether USD (BEP20)", False)),
    _cur("usdc", "USD Coin", 6, ("erc20", "USDC@ERC20", "USD Coin (ERC20)", False),
         ("bep20", "USDC@BSC", "USD Coin (BEP20)", False),
         ("sol", "USDC@SOL", "USD Coin (Solana)", False)),
    _cur("rub", "Russian ruble", 2, ("card", "RUB", "Bank card (RUB)", False), is_crypto=False),
)})

_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_HEX: Final = "0123456789abcdef"
_B64URL: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_EVM: Final = re.compile(r"^0x[0-9a-fA-F]{40}$")

# Loose shape checks per payway: enough to reject garbage, never checksums.
_WALLET_RE: Final[Mapping[str, re.Pattern[str]]] = MappingProxyType({
    "btc": re.compile(r"^(bc1[02-9ac-hj-np-z]{8,87}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$"),
    "erc20": _EVM,
    "bep20": _EVM,
    "trc20": re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$"),
    "ltc": re.compile(r"^(ltc1[02-9ac-hj-np-z]{8,87}|[LM3][1-9A-HJ-NP-Za-km-z]{26,33})$"),
    "doge": re.compile(r"^[DA9][1-9A-HJ-NP-Za-km-z]{25,34}$"),
    "xrp": re.compile(r"^r[1-9A-HJ-NP-Za-km-z]{24,34}$"),
    "sol": re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"),
    "ton": re.compile(r"^[EUk0]Q[A-Za-z0-9_-]{46}$"),
    "card": re.compile(r"^[0-9]{16,19}$"),
})

# (prefix, alphabet, length of the random part) for generated wallets.
_WALLET_GEN: Final[Mapping[str, tuple[str, str, int]]] = MappingProxyType({
    "btc": ("bc1q", _BECH32, 38),
    "erc20": ("0x", _HEX, 40),
    "bep20": ("0x", _HEX, 40),
    "trc20": ("T", _B58, 33),
    "ltc": ("ltc1q", _BECH32, 38),
    "doge": ("D", _B58, 33),
    "xrp": ("r", _B58, 33),
    "sol": ("S", _B58, 43),
    "ton": ("UQ", _B64URL, 46),
    "card": ("2200", "0123456789", 12),
})


def valid_wallet(payway: str, wallet: str) -> bool:
    """Does ``wallet`` look like an address (or card number) of ``payway``?"""
    pattern = _WALLET_RE.get(payway)
    return pattern is not None and pattern.fullmatch(wallet) is not None


def generate_wallet(payway: str, entropy: bytes) -> str:
    """A well-formed wallet of ``payway`` drawn from ``entropy`` (deterministic)."""
    prefix, alphabet, length = _WALLET_GEN[payway]
    return prefix + "".join(alphabet[b % len(alphabet)]
                            for b in hashlib.shake_256(entropy).digest(length))
