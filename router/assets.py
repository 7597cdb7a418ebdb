"""Canonical asset ids.

An id is upper-case: a coin alone (``BTC``, ``USDT``) or coin plus network (``USDT@TRC20``,
``BTC@BTC``, ``BTC@LN``). Fiat uses its ISO 4217 code (``CNY``) and has no network.

Two kinds of asset share the class. In a *request*, a coin alone means any network and
``coin@network`` exactly that network, the home chain included (``BTC@BTC`` is on-chain BTC, never
Lightning); :func:`parse_asset` refuses a network the table (:mod:`router.networks`) does not know
for the coin. A *provider's* asset (:meth:`Asset.of`, what adapters build) is concrete: a coin with
a home chain always names its network (a bare ``BTC`` from a provider is ``BTC@BTC``), so a route
never leaves the network to guess. Only tokens an account holds without a chain (a GatePay balance
of ``USDT``) stay bare; the route's payout then names the network they leave on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Final

from router.errors import InvalidRequest
from router.networks import COIN_NETWORKS, NETWORKS, canonical_network

__all__ = [
    "Asset",
    "AssetInfo",
    "KNOWN_COINS",
    "asset_info",
    "canonical_network",
    "from_id",
    "parse_asset",
    "quantum",
]

_ID_RE: Final = re.compile(r"^([A-Z][A-Z0-9]{1,9})(?:@([A-Z][A-Z0-9]{1,11}))?$")


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """What the engine knows of a coin or currency: its precision and whether it is fiat."""

    coin: str
    decimals: int
    fiat: bool = False
    home: str | None = None  # the coin's own chain: what a bare provider code means


KNOWN_COINS: Final[dict[str, AssetInfo]] = {
    i.coin: i
    for i in (
        AssetInfo("BTC", 8, home="BTC"),
        AssetInfo("ETH", 18, home="ERC20"),
        AssetInfo("LTC", 8, home="LTC"),
        AssetInfo("SOL", 9, home="SOL"),
        AssetInfo("XMR", 12, home="XMR"),
        AssetInfo("DOGE", 8, home="DOGE"),
        AssetInfo("TRX", 6, home="TRC20"),
        AssetInfo("BNB", 18, home="BSC"),
        AssetInfo("TON", 9, home="TON"),
        AssetInfo("XRP", 6, home="XRP"),
        AssetInfo("ADA", 6, home="ADA"),
        AssetInfo("MATIC", 18, home="POLYGON"),
        AssetInfo("GT", 18),
        AssetInfo("USDT", 6),
        AssetInfo("USDC", 6),
        AssetInfo("DAI", 18),
        AssetInfo("USD", 2, fiat=True),
        AssetInfo("EUR", 2, fiat=True),
        AssetInfo("GBP", 2, fiat=True),
        AssetInfo("CNY", 2, fiat=True),
        AssetInfo("RUB", 2, fiat=True),
        AssetInfo("INR", 2, fiat=True),
        AssetInfo("BRL", 2, fiat=True),
        AssetInfo("TRY", 2, fiat=True),
        AssetInfo("VND", 0, fiat=True),
        AssetInfo("KZT", 2, fiat=True),
    )
}

def asset_info(coin: str) -> AssetInfo | None:
    return KNOWN_COINS.get(coin)


@dataclass(frozen=True, slots=True, order=True)
class Asset:
    """A coin on a network (or any network when ``network`` is None), or a fiat currency."""

    coin: str
    network: str | None = None

    @classmethod
    def of(cls, coin: str, network: str | None = None) -> Asset:
        """A provider's concrete asset: the network canonical, a coin's home chain when none is
        given (``Asset.of("BTC").id == "BTC@BTC"``), none for fiat."""
        coin = coin.strip().upper()
        net = canonical_network(network) if network else None
        info = KNOWN_COINS.get(coin)
        if info is not None:
            if info.fiat:
                net = None
            elif net is None:
                net = info.home
        return cls(coin, net)

    @property
    def id(self) -> str:
        return self.coin if self.network is None else f"{self.coin}@{self.network}"

    @property
    def is_fiat(self) -> bool:
        info = KNOWN_COINS.get(self.coin)
        return bool(info and info.fiat)

    @property
    def decimals(self) -> int | None:
        info = KNOWN_COINS.get(self.coin)
        return info.decimals if info else None

    def matches(self, other: Asset) -> bool:
        """Does ``other`` (a concrete asset) satisfy this (possibly network-less) request?"""
        if self.coin != other.coin:
            return False
        if self.network is None:
            return True
        return self.network == other.network

    def __str__(self) -> str:
        return self.id


def parse_asset(text: object, field: str = "asset") -> Asset:
    """Parse a user-supplied asset id, raising :class:`InvalidRequest` naming ``field``."""
    if not isinstance(text, str):
        raise InvalidRequest(field, f"expected an asset id string, got {type(text).__name__}",
                             "ids like BTC, USDT@TRC20, CNY")
    raw = text.strip(" \t").upper() if text.isascii() else ""  # "uſdt" must not read as USDT
    m = _ID_RE.fullmatch(raw)
    if m is None:
        shown = text if len(text) <= 24 else text[:21] + "..."
        raise InvalidRequest(field, f"{shown!r} is not an asset id",
                             "COIN or COIN@NETWORK in ASCII letters and digits, e.g. BTC, USDT@TRC20, CNY")
    coin, network = m.group(1), m.group(2)
    info = KNOWN_COINS.get(coin)
    if info is None:
        raise InvalidRequest(field, f"unknown asset {coin!r}",
                             ", ".join(sorted(KNOWN_COINS)))
    if network is None:
        return Asset(coin)  # any network
    if info.fiat:
        raise InvalidRequest(field, f"fiat currency {coin} has no network", coin)
    known = COIN_NETWORKS.get(coin, ())
    net = canonical_network(network)
    if net not in known:
        allowed = (", ".join(f"{coin}@{n} ({NETWORKS[n].label})" for n in known)
                   + f", or {coin} for any network") if known else f"{coin} (it has no network)"
        raise InvalidRequest(field, f"unknown network {network!r} for {coin}", allowed)
    return Asset(coin, net)


def quantum(asset: Asset) -> Decimal:
    """The smallest unit of ``asset`` (``Decimal('1e-8')`` for BTC)."""
    d = asset.decimals
    return Decimal(1).scaleb(-(d if d is not None else 18))


@lru_cache(maxsize=8192)
def from_id(asset_id: str) -> Asset:
    """The :class:`Asset` of a canonical id, as written (cached; no validation): a request's
    ``BTC`` stays "any network", a provider's ``BTC@BTC`` stays on-chain."""
    coin, _, network = asset_id.partition("@")
    return Asset(coin, network or None)
