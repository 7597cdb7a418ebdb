"""The static catalogue of the market world: coins, fiat currencies and the networks coins live on.

Numbers here are *bases*: a :class:`~bench.world.market.World` jitters them from its seed (prices by
a few percent, network fees by up to 20%) so that different seeds give different, realistic markets.

The world's asset ids are its own: a coin on its home chain is the coin alone (``BTC``, ``ETH``),
a coin elsewhere is ``COIN@NETWORK`` (``BTC@LN``, ``USDT@TRC20``), fiat is its ISO 4217 code.
(The engine always names the chain, ``BTC@BTC``; it never sees these ids, because the emulators
translate them to their provider's own codes.) Network names are the canonical ones (``ERC20``,
``TRC20``, ``BSC``, ``SOL``, ``POLYGON``, ``ARBITRUM``, ``TON``, ``LN``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

__all__ = ["COINS", "NETWORK_ASSETS", "CoinSpec", "NetworkAssetSpec", "asset_id"]


@dataclass(frozen=True, slots=True)
class CoinSpec:
    """A coin or fiat currency: its base USD price, decimals and how much it moves.

    ``volatility`` scales the world's random walk (1 = bitcoin-like, a few bp per minute; 0 = pinned,
    as USD is the numeraire). ``home`` is the coin's own chain, folded away in the world's ids.
    """

    symbol: str
    name: str
    usd: Decimal
    decimals: int
    volatility: Decimal
    price_jitter: Decimal
    fiat: bool = False
    home: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkAssetSpec:
    """A coin on one network, with the base withdrawal fee charged by that network, in coin units."""

    coin: str
    network: str
    network_fee: Decimal


def _c(symbol: str, name: str, usd: str, decimals: int, vol: str, jitter: str,
       home: str | None = None, fiat: bool = False) -> CoinSpec:
    return CoinSpec(symbol, name, Decimal(usd), decimals, Decimal(vol), Decimal(jitter), fiat, home)


COINS: Final[dict[str, CoinSpec]] = {
    c.symbol: c
    for c in (
        _c("BTC", "Bitcoin", "80000", 8, "1", "0.15", home="BTC"),
        _c("ETH", "Ethereum", "3000", 18, "1.2", "0.15", home="ERC20"),
        _c("LTC", "Litecoin", "85", 8, "1.5", "0.15", home="LTC"),
        _c("SOL", "Solana", "150", 9, "1.8", "0.15", home="SOL"),
        _c("XMR", "Monero", "160", 12, "1.4", "0.15", home="XMR"),
        _c("DOGE", "Dogecoin", "0.15", 8, "2", "0.15", home="DOGE"),
        _c("TRX", "Tron", "0.12", 6, "1.3", "0.15", home="TRC20"),
        _c("BNB", "BNB", "600", 18, "1.2", "0.15", home="BSC"),
        _c("TON", "Toncoin", "5.5", 9, "1.6", "0.15", home="TON"),
        _c("XRP", "Ripple", "0.55", 6, "1.6", "0.15", home="XRP"),
        _c("ADA", "Cardano", "0.45", 6, "1.7", "0.15", home="ADA"),
        _c("GT", "GateToken", "20", 18, "1.5", "0.15"),  # no network: Gate Pay balances only
        _c("USDT", "Tether", "1.0003", 6, "0.03", "0.0005"),
        _c("USDC", "USD Coin", "0.9999", 6, "0.03", "0.0004"),
        _c("DAI", "Dai", "1.0001", 18, "0.05", "0.0008"),
        _c("USD", "US dollar", "1", 2, "0", "0", fiat=True),
        _c("EUR", "Euro", "1.08", 2, "0.1", "0.02", fiat=True),
        _c("GBP", "Pound sterling", "1.27", 2, "0.1", "0.02", fiat=True),
        _c("CNY", "Chinese yuan", "0.138", 2, "0.05", "0.01", fiat=True),
        _c("RUB", "Russian ruble", "0.011", 2, "0.3", "0.05", fiat=True),
        _c("INR", "Indian rupee", "0.012", 2, "0.08", "0.01", fiat=True),
        _c("BRL", "Brazilian real", "0.19", 2, "0.2", "0.04", fiat=True),
        _c("TRY", "Turkish lira", "0.031", 2, "0.3", "0.05", fiat=True),
    )
}

NETWORK_ASSETS: Final[tuple[NetworkAssetSpec, ...]] = tuple(
    NetworkAssetSpec(coin, net, Decimal(fee))
    for coin, net, fee in (
        ("BTC", "BTC", "0.00003"),
        ("BTC", "LN", "0.0000025"),
        ("ETH", "ERC20", "0.0008"),
        ("ETH", "ARBITRUM", "0.00006"),
        ("LTC", "LTC", "0.0005"),
        ("SOL", "SOL", "0.005"),
        ("XMR", "XMR", "0.0006"),
        ("DOGE", "DOGE", "2"),
        ("TRX", "TRC20", "1.1"),
        ("BNB", "BSC", "0.0005"),
        ("TON", "TON", "0.03"),
        ("XRP", "XRP", "0.15"),
        ("ADA", "ADA", "0.8"),
        ("USDT", "ERC20", "3.5"),
        ("USDT", "TRC20", "1.5"),
        ("USDT", "BSC", "0.3"),
        ("USDT", "SOL", "0.6"),
        ("USDT", "POLYGON", "0.25"),
        ("USDT", "TON", "0.4"),
        ("USDC", "ERC20", "3.5"),
        ("USDC", "BSC", "0.3"),
        ("USDC", "SOL", "0.5"),
        ("USDC", "POLYGON", "0.2"),
        ("USDC", "ARBITRUM", "0.15"),
        ("DAI", "ERC20", "3.8"),
    )
)


def asset_id(coin: str, network: str | None) -> str:
    """The canonical id of ``coin`` on ``network`` (home network and fiat folded away)."""
    spec = COINS[coin]
    if spec.fiat or network is None or network == spec.home:
        return coin
    return f"{coin}@{network}"
