"""FixedFloat's currency list, in FixedFloat's own terms, tied to the world's assets.

Codes and networks are the provider's (``USDTTRC`` is coin ``USDT`` on network ``TRX``; ``BSC`` is
coin ``BNB``; ``USDTPOL`` is network ``MATIC``); the ``asset`` column is the world's canonical id the
emulator prices from. Also: address formats per network (to validate ``toAddress``) and a
deterministic deposit-address generator.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

__all__ = ["CURRENCIES", "FFCurrency", "deposit_address", "valid_address"]


@dataclass(frozen=True, slots=True)
class FFCurrency:
    """One row of ``/api/v2/ccies`` plus the world asset it maps to."""

    code: str
    coin: str
    network: str
    asset: str
    name: str
    alias: str
    tag: str | None
    color: str
    priority: int

    @property
    def logo(self) -> str:
        return f"https://ff.io/assets/images/coins/svg/{self.code.lower()}.svg"


_ROWS: Final = (
    # code, coin, network, world asset, name, alias, tag name, color, priority
    ("BTC", "BTC", "BTC", "BTC", "Bitcoin", "bitcoin", None, "#f7931a", 5),
    ("BTCLN", "BTC", "LN", "BTC@LN", "Bitcoin (Lightning)", "lightning", None, "#f7931a", 15),
    ("ETH", "ETH", "ETH", "ETH", "Ethereum", "ethereum", None, "#8c8c8c", 10),
    ("ETHARBITRUM", "ETH", "ARBITRUM", "ETH@ARBITRUM", "Ethereum (Arbitrum)", "ethereum", None,
     "#28a0f0", 25),
    ("USDT", "USDT", "ETH", "USDT@ERC20", "Tether (ERC20)", "usdt", None, "#26a17b", 20),
    ("USDTTRC", "USDT", "TRX", "USDT@TRC20", "Tether (TRC20)", "usdt", None, "#26a17b", 20),
    ("USDTBSC", "USDT", "BSC", "USDT@BSC", "Tether (BEP20)", "usdt", None, "#26a17b", 30),
    ("USDTSOL", "USDT", "SOL", "USDT@SOL", "Tether (Solana)", "usdt", None, "#26a17b", 35),
    ("USDTPOL", "USDT", "MATIC", "USDT@POLYGON", "Tether (Polygon)", "usdt", None, "#26a17b", 40),
    ("USDTTON", "USDT", "TON", "USDT@TON", "Tether (TON)", "usdt", "Memo", "#26a17b", 40),
    ("USDCETH", "USDC", "ETH", "USDC@ERC20", "USD Coin (ERC20)", "usdc", None, "#2775ca", 30),
    ("USDCBSC", "USDC", "BSC", "USDC@BSC", "USD Coin (BEP20)", "usdc", None, "#2775ca", 40),
    ("USDCSOL", "USDC", "SOL", "USDC@SOL", "USD Coin (Solana)", "usdc", None, "#2775ca", 40),
    ("USDCPOL", "USDC", "MATIC", "USDC@POLYGON", "USD Coin (Polygon)", "usdc", None, "#2775ca",
     45),
    ("USDCARBITRUM", "USDC", "ARBITRUM", "USDC@ARBITRUM", "USD Coin (Arbitrum)", "usdc", None,
     "#2775ca", 45),
    ("DAI", "DAI", "ETH", "DAI@ERC20", "Dai (ERC20)", "dai", None, "#f5ac37", 50),
    ("LTC", "LTC", "LTC", "LTC", "Litecoin", "litecoin", None, "#345d9d", 10),
    ("SOL", "SOL", "SOL", "SOL", "Solana", "solana", None, "#9945ff", 15),
    ("XMR", "XMR", "XMR", "XMR", "Monero", "monero", None, "#ff6600", 15),
    ("DOGE", "DOGE", "DOGE", "DOGE", "Dogecoin", "dogecoin", None, "#c2a633", 20),
    ("TRX", "TRX", "TRX", "TRX", "Tron", "tron", None, "#ef0027", 25),
    ("BSC", "BNB", "BSC", "BNB", "BNB (BEP20)", "bnb", None, "#f0b90b", 25),
    ("TON", "TON", "TON", "TON", "Toncoin", "ton", "Memo", "#0098ea", 30),
    ("XRP", "XRP", "XRP", "XRP", "Ripple", "ripple", "Destination tag", "#23292f", 20),
    ("ADA", "ADA", "ADA", "ADA", "Cardano", "cardano", None, "#0033ad", 30),
)

CURRENCIES: Final[tuple[FFCurrency, ...]] = tuple(FFCurrency(*row) for row in _ROWS)

_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_HEX: Final = "0123456789abcdef"
_B64URL: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Loose shape checks per FixedFloat network: enough to reject garbage, never checksums.
_ADDRESS_RE: Final[dict[str, re.Pattern[str]]] = {
    "BTC": re.compile(r"^(bc1[02-9ac-hj-np-z]{8,87}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$"),
    "LN": re.compile(r"^ln(bc|tb)[0-9a-z]{20,}$", re.IGNORECASE),
    "ETH": re.compile(r"^0x[0-9a-fA-F]{40}$"),
    "ARBITRUM": re.compile(r"^0x[0-9a-fA-F]{40}$"),
    "BSC": re.compile(r"^0x[0-9a-fA-F]{40}$"),
    "MATIC": re.compile(r"^0x[0-9a-fA-F]{40}$"),
    "TRX": re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$"),
    "SOL": re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"),
    "LTC": re.compile(r"^(ltc1[02-9ac-hj-np-z]{8,87}|[LM3][1-9A-HJ-NP-Za-km-z]{26,33})$"),
    "XMR": re.compile(r"^[48][1-9A-HJ-NP-Za-km-z]{94}$"),
    "DOGE": re.compile(r"^[DA9][1-9A-HJ-NP-Za-km-z]{25,34}$"),
    "TON": re.compile(r"^[EUk0]Q[A-Za-z0-9_-]{46}$"),
    "XRP": re.compile(r"^r[1-9A-HJ-NP-Za-km-z]{24,34}$"),
    "ADA": re.compile(r"^addr1[0-9a-z]{50,110}$"),
}

# (prefix, alphabet, length of the random part) for generated deposit addresses.
_ADDRESS_GEN: Final[dict[str, tuple[str, str, int]]] = {
    "BTC": ("bc1q", _BECH32, 38),
    "LN": ("lnbc", _BECH32, 120),
    "ETH": ("0x", _HEX, 40),
    "ARBITRUM": ("0x", _HEX, 40),
    "BSC": ("0x", _HEX, 40),
    "MATIC": ("0x", _HEX, 40),
    "TRX": ("T", _B58, 33),
    "SOL": ("", _B58, 44),
    "LTC": ("ltc1q", _BECH32, 38),
    "XMR": ("4", _B58, 94),
    "DOGE": ("D", _B58, 33),
    "TON": ("UQ", _B64URL, 46),
    "XRP": ("r", _B58, 33),
    "ADA": ("addr1", _BECH32, 98),
}


def valid_address(network: str, address: str) -> bool:
    """Does ``address`` look like an address (or, on LN, an invoice) of FixedFloat ``network``?"""
    pattern = _ADDRESS_RE.get(network)
    return pattern is not None and pattern.fullmatch(address) is not None


def deposit_address(network: str, entropy: bytes) -> str:
    """A well-formed address of ``network`` drawn from ``entropy`` (deterministic)."""
    prefix, alphabet, length = _ADDRESS_GEN[network]
    chars = [alphabet[b % len(alphabet)] for b in hashlib.shake_256(entropy).digest(length)]
    if network == "SOL" and chars[0] == "1":
        chars[0] = "S"
    return prefix + "".join(chars)
