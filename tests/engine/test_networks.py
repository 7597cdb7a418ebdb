"""Networks: one table, exact pinning in requests, every provider asset naming its chain."""

from __future__ import annotations

import pytest

from adapters.registry import build_source, sandbox_values
from bench.sandbox import Sandbox
from bench.world import NETWORK_ASSETS
from router import InvalidRequest, Router
from router.assets import KNOWN_COINS, Asset, parse_asset
from router.networks import COIN_NETWORKS, NETWORKS, canonical_network


def test_every_alias_names_one_network() -> None:
    seen: dict[str, str] = {}
    for net in NETWORKS.values():
        for alias in (net.name, *net.aliases):
            assert seen.setdefault(alias, net.name) == net.name, alias
            assert canonical_network(alias) == net.name
            assert canonical_network(alias.lower().replace("_", "-")) == net.name


def test_home_chain_first_and_every_network_in_the_table() -> None:
    for coin, nets in COIN_NETWORKS.items():
        assert all(n in NETWORKS for n in nets), coin
        home = KNOWN_COINS[coin].home
        assert home is None or nets[0] == home, coin
    for info in KNOWN_COINS.values():
        if info.home is not None:
            assert info.home in COIN_NETWORKS[info.coin]
    # the sandbox's world has no network a request could not pin
    for spec in NETWORK_ASSETS:
        assert spec.network in COIN_NETWORKS[spec.coin], (spec.coin, spec.network)


@pytest.mark.parametrize(("name", "canonical"), [
    ("ethereum_mainnet", "ERC20"), ("ethereum_rinkeby", "ERC20"), ("ETHEREUM", "ERC20"),
    ("BEP-20", "BSC"), ("bep20", "BSC"), ("trx", "TRC20"), ("TRON", "TRC20"),
    ("Lightning", "LN"), ("arbitrum one", "ARBITRUM"), ("matic", "POLYGON"),
    ("NEWCHAIN", "NEWCHAIN"),  # outside the table: kept under its own name
])
def test_provider_names_map_to_canonical(name: str, canonical: str) -> None:
    assert canonical_network(name) == canonical


def test_provider_assets_name_their_chain() -> None:
    assert Asset.of("BTC").id == "BTC@BTC"
    assert Asset.of("btc", "lightning").id == "BTC@LN"
    assert Asset.of("ETH", "ETH").id == "ETH@ERC20"
    assert Asset.of("USDT", "trx").id == "USDT@TRC20"
    assert Asset.of("USDT").id == "USDT"  # a token held in an account: no chain to name
    assert Asset.of("EUR", "SEPA").id == "EUR"  # fiat has no network


def test_a_pinned_network_is_exact_and_a_bare_coin_is_any() -> None:
    on_chain, lightning = Asset.of("BTC"), Asset.of("BTC", "LN")
    pinned, anywhere = parse_asset("BTC@BTC"), parse_asset("btc")
    assert pinned.id == "BTC@BTC" and anywhere.id == "BTC"
    assert pinned.matches(on_chain) and not pinned.matches(lightning)
    assert anywhere.matches(on_chain) and anywhere.matches(lightning)
    assert parse_asset("ETH@ETH") == parse_asset("eth@erc20") == Asset("ETH", "ERC20")
    assert not parse_asset("ETH@ERC20").matches(Asset.of("ETH", "ARBITRUM"))
    assert parse_asset("USDT@BEP20").id == "USDT@BSC"


@pytest.mark.parametrize(("text", "problem", "allowed"), [
    ("USDT@TRC2O", "unknown network 'TRC2O' for USDT", "USDT@TRC20 (Tron)"),  # letter O
    ("ETH@FOO", "unknown network 'FOO' for ETH", "ETH@ARBITRUM"),
    ("BTC@ERC20", "unknown network 'ERC20' for BTC", "BTC@LN"),
    ("GT@ERC20", "unknown network 'ERC20' for GT", "it has no network"),
    ("EUR@SEPA", "fiat currency EUR has no network", "EUR"),
])
def test_unknown_network_is_bad_input(text: str, problem: str, allowed: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_asset(text, "buy")
    assert info.value.field == "buy"
    assert problem in str(info.value) and allowed in str(info.value)


async def test_sandbox_routes_deliver_exactly_the_pinned_network() -> None:
    async with Sandbox(seed=0, frozen=True) as sb:
        sources = [build_source(n, sandbox_values(n, e)) for n, e in sb.providers.items()]
        async with Router(sources) as r:
            pinned = await r.quote("ETH", "BTC@BTC", "2")
            anywhere = await r.quote("ETH", "BTC", "2")
            sent = await r.quote("ETH@ERC20", "BTC", "2")
    assert pinned.routes and {rt.legs[-1].asset_out for rt in pinned.routes} == {"BTC@BTC"}
    # a coin alone means any network: the sandbox offers both chains
    assert {rt.legs[-1].asset_out for rt in anywhere.routes} == {"BTC@BTC", "BTC@LN"}
    assert {rt.legs[0].asset_in for rt in sent.routes} == {"ETH@ERC20"}
    # every leg names its chain (only account balances, such as Gate Pay's tokens, are bare)
    for rt in anywhere.routes:
        for leg in rt.legs:
            for aid in (leg.asset_in, leg.asset_out):
                coin, _, net = aid.partition("@")
                assert net or KNOWN_COINS[coin].home is None, aid
