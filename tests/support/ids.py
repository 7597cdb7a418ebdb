"""Provider asset ids as adapters write them, from the short form tests use."""

from __future__ import annotations

from router.assets import Asset


def concrete(aid: str) -> str:
    """``BTC`` -> ``BTC@BTC``, ``ETH`` -> ``ETH@ERC20``; ids with a network, tokens and fiat as
    they are (:meth:`Asset.of`)."""
    coin, _, network = aid.partition("@")
    return Asset.of(coin, network or None).id
