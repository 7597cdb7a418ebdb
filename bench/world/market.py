"""The seeded market world: the one truth every provider emulator prices from.

``World(seed, frozen, clock)`` holds, for every coin and fiat currency, a USD mid price that follows
a deterministic random walk of time: the log price is a sum of value-noise octaves (periods from
5 s to a week, amplitude growing with the square root of the period, about 3 bp per minute for
bitcoin), each octave's knots drawn from a hash of ``(seed, coin, octave, bucket)``. Prices are
constant within a second and a pure function of ``(seed, coin, second)``, so any time can be priced
directly, in any order, without replaying history.

A frozen world pins its time to its start epoch (a whole minute derived from the seed): nothing
drifts and two frozen worlds with the same seed answer identically. Everything random derives from
the seed through :meth:`World.rng` or :meth:`World.digest`; money is ``Decimal`` throughout.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from types import MappingProxyType
from typing import Final

from .catalog import COINS, NETWORK_ASSETS, CoinSpec, asset_id
from .profiles import PROFILE_BUILDERS, ProviderProfile

__all__ = ["World", "WorldAsset"]

_EPOCH_BASE: Final = 1_735_689_600  # 2025-01-01T00:00:00Z
_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_SIGMA_PER_MINUTE: Final = Decimal("0.0003")  # 3 bp of log price per minute at volatility 1
_OCTAVES: Final[tuple[tuple[int, Decimal], ...]] = tuple(
    (p, _SIGMA_PER_MINUTE * (Decimal(p) / 60).sqrt(_CTX))
    for p in (5, 60, 600, 3600, 21_600, 86_400, 604_800)
)
_TWO63: Final = Decimal(2**63)
_PRICE_CTX: Final = Context(prec=16, rounding=ROUND_HALF_EVEN)
_CACHE_MAX: Final = 8192


@dataclass(frozen=True, slots=True)
class WorldAsset:
    """A tradeable asset: a coin on one network (withdrawal fee in coin units), or a fiat currency."""

    id: str
    coin: str
    network: str | None
    name: str
    decimals: int
    network_fee: Decimal
    fiat: bool


class World:
    """A seeded market. See the module docstring for the price model.

    ``clock`` is only read when not frozen; inject a fake one to simulate time.
    """

    def __init__(self, seed: int = 0, frozen: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.seed: Final = int(seed)
        self.frozen: Final = bool(frozen)
        self._clock = clock
        self.epoch: Final[int] = _EPOCH_BASE + self._hash_int("epoch") % (365 * 24 * 60) * 60
        self._base = {c.symbol: self._seeded_base(c) for c in COINS.values()}
        assets: dict[str, WorldAsset] = {}
        for spec in NETWORK_ASSETS:
            coin = COINS[spec.coin]
            aid = asset_id(spec.coin, spec.network)
            u = self._unit("fee", aid)
            q = Decimal(1).scaleb(-min(coin.decimals, 10))
            fee = _CTX.multiply(spec.network_fee, 1 + Decimal("0.2") * u).quantize(q)
            assets[aid] = WorldAsset(aid, spec.coin, spec.network,
                                     f"{coin.name} ({spec.network})" if aid != spec.coin else coin.name,
                                     coin.decimals, max(fee, q), False)
        for coin in COINS.values():
            if coin.fiat:
                assets[coin.symbol] = WorldAsset(coin.symbol, coin.symbol, None, coin.name,
                                                 coin.decimals, Decimal(0), True)
        self._assets: Mapping[str, WorldAsset] = MappingProxyType(assets)
        self._cache: dict[tuple[str, int], Decimal] = {}
        self._profiles: dict[str, ProviderProfile] = {}

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, frozen={self.frozen}, epoch={self.epoch})"

    # --- time -------------------------------------------------------------------------------
    def now(self) -> float:
        """The world's time: the start epoch when frozen, else the clock."""
        return float(self.epoch) if self.frozen else float(self._clock())

    # --- catalogue ----------------------------------------------------------------------------
    @property
    def assets(self) -> tuple[WorldAsset, ...]:
        """Every asset: coins on each of their networks, then fiat currencies."""
        return tuple(self._assets.values())

    @property
    def coins(self) -> Mapping[str, CoinSpec]:
        return COINS

    def asset(self, aid: str) -> WorldAsset:
        """The asset with canonical id ``aid`` (``KeyError`` if the world has none)."""
        return self._assets[aid]

    def network_fee(self, aid: str) -> Decimal:
        """Withdrawal fee of asset ``aid`` in its own units (0 for fiat)."""
        return self._assets[aid].network_fee

    def base_usd(self, coin: str) -> Decimal:
        """The coin's seeded base USD price (before the random walk)."""
        return self._base[coin]

    # --- prices -------------------------------------------------------------------------------
    def usd(self, coin: str, at: float | None = None) -> Decimal:
        """USD mid price of ``coin`` (a coin symbol or an asset id) at ``at`` (default: now)."""
        symbol = coin.partition("@")[0]
        sec = math.floor(self.now() if at is None else at)
        key = (symbol, sec)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        spec = COINS[symbol]
        if spec.volatility == 0:
            price = self._base[symbol]
        else:
            price = _PRICE_CTX.multiply(self._base[symbol],
                                        _CTX.exp(spec.volatility * self._walk(symbol, sec)))
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[key] = price
        return price

    def cross(self, base: str, quote: str, at: float | None = None) -> Decimal:
        """Mid rate: units of ``quote`` for one unit of ``base`` (coins or asset ids)."""
        return _CTX.divide(self.usd(base, at), self.usd(quote, at))

    # --- providers ----------------------------------------------------------------------------
    def profile(self, name: str) -> ProviderProfile:
        """The provider's seeded trading profile (built once, then cached)."""
        prof = self._profiles.get(name)
        if prof is None:
            prof = self._profiles[name] = PROFILE_BUILDERS[name](self)
        return prof

    # --- seeded randomness ----------------------------------------------------------------------
    def digest(self, *labels: object) -> bytes:
        """32 bytes derived from the seed and ``labels``: ids, tokens, credentials."""
        text = "|".join(str(x) for x in (self.seed, *labels))
        return hashlib.sha256(text.encode()).digest()

    def rng(self, *labels: object) -> random.Random:
        """A ``random.Random`` seeded from the world seed and ``labels`` (independent streams)."""
        return random.Random(int.from_bytes(self.digest("rng", *labels), "big"))

    # --- internals ------------------------------------------------------------------------------
    def _hash_int(self, *labels: object) -> int:
        text = "|".join(str(x) for x in (self.seed, *labels))
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")

    def _unit(self, *labels: object) -> Decimal:
        """A seeded uniform number in [-1, 1), exact."""
        return Decimal(self._hash_int(*labels)) / _TWO63 - 1

    def _seeded_base(self, coin: CoinSpec) -> Decimal:
        if coin.price_jitter == 0:
            return coin.usd
        return _PRICE_CTX.multiply(coin.usd, 1 + coin.price_jitter * self._unit("base", coin.symbol))

    def _walk(self, symbol: str, sec: int) -> Decimal:
        """Log-price offset at second ``sec``: sum of linearly interpolated hash-noise octaves."""
        total = Decimal(0)
        for k, (period, amp) in enumerate(_OCTAVES):
            bucket, offset = divmod(sec, period)
            a = self._unit("walk", symbol, k, bucket)
            b = self._unit("walk", symbol, k, bucket + 1)
            total += amp * (a + (b - a) * Decimal(offset) / Decimal(period))
        return total
