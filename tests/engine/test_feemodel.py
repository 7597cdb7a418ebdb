"""The fee and limit model: shipped defaults, user overrides merged key by key, typed errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router.errors import ConfigError
from router.snapshot.feemodel import load_fee_model


def test_defaults_are_exact_decimals() -> None:
    model = load_fee_model()
    assert model.transfer["USDT@TRC20"] == Decimal("1")
    assert isinstance(model.transfer["BTC@BTC"], Decimal)
    assert "gatepay" in model.payout_excluded and "fixedfloat" not in model.payout_excluded
    assert "newcomer" not in model.payout_excluded  # unknown providers are assumed to pay out
    assert model.terms("gatepay").margin == Decimal("0.004")
    assert model.terms("nobody").margin is None


def test_overrides_merge_key_by_key() -> None:
    model = load_fee_model({"transfer": {"BTC": "0.0005", "USDT@TON": "0.1"},
                            "providers": {"gatepay": {"margin": "0.01"}, "newco": {"margin": "0.02"}}})
    assert model.transfer["BTC@BTC"] == Decimal("0.0005")  # a coin alone is its home chain
    assert "BTC" not in model.transfer
    assert model.transfer["USDT@TRC20"] == Decimal("1")  # untouched default kept
    assert model.terms("gatepay").margin == Decimal("0.01")
    assert model.terms("gatepay").payout_included is False  # merged, not replaced
    assert model.terms("newco").payout_included is True
    assert model.terms("newco").margin == Decimal("0.02")


@pytest.mark.parametrize("overrides,field", [
    ({"transfer": {"BTC": "abc"}}, "fees.transfer.BTC"),
    ({"transfer": {"BTC": "-1"}}, "fees.transfer.BTC"),
    ({"transfer": {"BTC": "NaN"}}, "fees.transfer.BTC"),
    ({"providers": {"gatepay": {"margin": "1.5"}}}, "fees.providers.gatepay.margin"),
    ({"providers": {"gatepay": {"colour": "red"}}}, "fees.providers.gatepay"),
    ({"surprise": {}}, "fees.surprise"),
])
def test_bad_values_name_the_key(overrides: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as info:
        load_fee_model(overrides)
    assert info.value.field == field
