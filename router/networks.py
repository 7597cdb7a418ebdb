"""The one table of blockchain networks: each network's canonical name, its aliases, and the coins
known on it.

A request names a network the way users do (``USDT@TRC20``, ``ETH@ETH``, ``BTC@LN``); providers name
them their own way (FixedFloat ``TRX``, FlyPay payways ``bep20``, FaTPay ``ethereum_mainnet``).
Both go through :func:`canonical_network`, so one network has one name everywhere in bestrate.
:data:`COIN_NETWORKS` says which networks a request may pin for each coin: a coin's first network
is its *home* chain (the one a bare provider code such as ``BTC`` means). A network outside this
table is bad input in a request; from a provider it is kept under its own upper-cased name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["COIN_NETWORKS", "NETWORKS", "Network", "canonical_network"]


@dataclass(frozen=True, slots=True)
class Network:
    name: str  # canonical, as it appears in asset ids: ``USDT@TRC20``
    label: str  # what a person calls it
    aliases: tuple[str, ...] = ()


NETWORKS: Final[dict[str, Network]] = {
    n.name: n
    for n in (
        Network("BTC", "Bitcoin", ("BITCOIN",)),
        Network("LN", "Bitcoin Lightning", ("LIGHTNING", "BTCLN", "LNBTC", "LIGHTNING_NETWORK")),
        Network("ERC20", "Ethereum", ("ETH", "ETHEREUM", "ERC_20")),
        Network("TRC20", "Tron", ("TRX", "TRON", "TRC", "TRC_20")),
        Network("BSC", "BNB Smart Chain", ("BEP20", "BEP_20", "BNB", "BNB_SMART_CHAIN",
                                             "BINANCE_SMART_CHAIN")),
        Network("SOL", "Solana", ("SOLANA", "SPL")),
        Network("POLYGON", "Polygon", ("MATIC", "POL", "POLYGON_POS")),
        Network("ARBITRUM", "Arbitrum One", ("ARB", "ARBITRUM_ONE", "ARBITRUMONE")),
        Network("OPTIMISM", "Optimism", ("OP",)),
        Network("BASE", "Base", ()),
        Network("TON", "TON", ("TONCOIN",)),
        Network("LTC", "Litecoin", ("LITECOIN",)),
        Network("XMR", "Monero", ("MONERO",)),
        Network("DOGE", "Dogecoin", ("DOGECOIN",)),
        Network("XRP", "XRP Ledger", ("RIPPLE", "XRPL")),
        Network("ADA", "Cardano", ("CARDANO",)),
    )
}

#: The networks a request may pin, per coin; a coin with a home chain (``AssetInfo.home``) lists it
#: first. Coins not listed (fiat, and account-only tokens such as GT) take no network.
COIN_NETWORKS: Final[dict[str, tuple[str, ...]]] = {
    "BTC": ("BTC", "LN"),
    "ETH": ("ERC20", "ARBITRUM", "OPTIMISM", "BASE"),
    "LTC": ("LTC",),
    "SOL": ("SOL",),
    "XMR": ("XMR",),
    "DOGE": ("DOGE",),
    "TRX": ("TRC20",),
    "BNB": ("BSC",),
    "TON": ("TON",),
    "XRP": ("XRP",),
    "ADA": ("ADA",),
    "MATIC": ("POLYGON", "ERC20"),
    "USDT": ("ERC20", "TRC20", "BSC", "SOL", "POLYGON", "TON", "ARBITRUM", "OPTIMISM", "BASE"),
    "USDC": ("ERC20", "BSC", "SOL", "POLYGON", "ARBITRUM", "OPTIMISM", "BASE", "TRC20"),
    "DAI": ("ERC20", "BSC", "POLYGON", "ARBITRUM", "OPTIMISM"),
}

_ALIASES: Final[dict[str, str]] = {
    key: n.name for n in NETWORKS.values() for key in (n.name, *n.aliases)
}
#: Suffixes providers add to a chain's name (FaTPay ``ethereum_mainnet``; its test environment
#: answers ``ethereum_rinkeby``, whose tokens stand for the mainnet ones there).
_SUFFIX: Final = re.compile(r"_(MAINNET|MAIN|TESTNET|TEST|RINKEBY|GOERLI|SEPOLIA|ROPSTEN|HOLESKY)$")
_SEPARATORS: Final = re.compile(r"[^A-Z0-9]+")


def canonical_network(name: str) -> str:
    """The canonical name of a network as a user or a provider spells it (``trx``, ``BEP-20``,
    ``ethereum_mainnet`` -> ``TRC20``, ``BSC``, ``ERC20``); a name outside the table comes back
    upper-cased with its separators removed."""
    up = _SEPARATORS.sub("_", name.strip().upper()).strip("_")
    hit = _ALIASES.get(up)
    if hit is None:
        bare = _SUFFIX.sub("", up)
        hit = _ALIASES.get(bare) or _ALIASES.get(up.replace("_", "")) or up.replace("_", "")
    return hit

