"""FaTPay wire structs, named as FaTPay names things.

The price answer is documented; the two list layouts are not, and these are our assumption (see
``docs/providers.md``)::

    GET /open/api/onramp/token    → data: [{"cryptoCurrencyCode": "USDT_ERC20",
                                            "cryptoCurrency": "USDT", "network": "ERC20",
                                            "precision": 6}, ...]
    GET /open/api/onramp/currency → data: [{"fiatCurrency": "USD", "precision": 2,
                                            "paymentOptions": [{"name": "card", "minAmount": 20,
                                                                "maxAmount": 5000}, ...]}, ...]

Only the fields we read are declared; unknown fields are ignored. Money is ``Decimal`` whether it
arrives as a JSON number (the doc) or a string. ``paymentOptions`` may be a list or, as the doc's
example shows it, one object: both decode. ``code`` may be an integer or a string.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import msgspec

from router.assets import Asset

__all__ = [
    "CURRENCIES_DECODER",
    "ENVELOPE_DECODER",
    "LIMIT_HINT_DECODER",
    "PRICE_DECODER",
    "TOKENS_DECODER",
    "Envelope",
    "FiatCurrency",
    "LimitHint",
    "PaymentOption",
    "PriceData",
    "Token",
    "options_of",
    "widest_range",
]


class Envelope(msgspec.Struct):
    """Every answer: ``{"code": 10000, "msg": "success", "data": ...}`` (``data`` per call)."""

    code: int | str
    msg: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"null")

    @property
    def code_number(self) -> int | None:
        """``code`` as an integer (``"10000"`` → 10000); ``None`` if it is not one."""
        if isinstance(self.code, int):
            return self.code
        text = self.code.strip()
        return int(text) if text.isdigit() else None


class PaymentOption(msgspec.Struct):
    """One way to pay, with its limits in fiat units."""

    name: str = ""
    minAmount: Decimal | None = None  # noqa: N815 - FaTPay's names
    maxAmount: Decimal | None = None  # noqa: N815


_Options = list[PaymentOption] | PaymentOption | None


def options_of(value: _Options) -> tuple[PaymentOption, ...]:
    """``paymentOptions`` as a tuple, whether it came as a list, one object or nothing."""
    if value is None:
        return ()
    if isinstance(value, PaymentOption):
        return (value,)
    return tuple(value)


def widest_range(options: Sequence[PaymentOption]) -> tuple[Decimal | None, Decimal | None]:
    """The loosest limits over ``options``: the smallest minimum and the largest maximum.

    A bound is ``None`` (open) when there are no options or one of them leaves it open.
    Options whose limits are not finite non-negative numbers (a garbled answer) are ignored.
    """
    options = [o for o in options if all(
        v is None or (v.is_finite() and v >= 0) for v in (o.minAmount, o.maxAmount))]
    if not options:
        return None, None
    mins = [o.minAmount for o in options]
    maxs = [o.maxAmount for o in options]
    low = None if any(m is None for m in mins) else min(m for m in mins if m is not None)
    high = None if any(m is None for m in maxs) else max(m for m in maxs if m is not None)
    return low, high


class Token(msgspec.Struct):
    """One entry of the token list: FaTPay's code for a (coin, network) pair."""

    cryptoCurrencyCode: str  # noqa: N815
    cryptoCurrency: str = ""  # noqa: N815
    network: str = ""
    precision: int | None = None

    @property
    def asset_id(self) -> str:
        """Canonical id: ``USDT_ERC20`` → ``USDT@ERC20``, ``BNB_BSC`` → ``BNB``, ``BTC`` → ``BTC``.

        Coin and network come from ``cryptoCurrency``/``network``; when absent, from the code's
        parts around ``_``. FaTPay's chain names (``ethereum_mainnet``) go through the network table.
        """
        head, _, tail = self.cryptoCurrencyCode.partition("_")
        coin = self.cryptoCurrency or head
        network = self.network or tail
        return Asset.of(coin, network or None).id


class FiatCurrency(msgspec.Struct):
    """One entry of the currency list: a fiat currency and how it can be paid."""

    fiatCurrency: str  # noqa: N815
    precision: int | None = None
    paymentOptions: _Options = None  # noqa: N815

    @property
    def asset_id(self) -> str:
        return Asset.of(self.fiatCurrency).id

    @property
    def options(self) -> tuple[PaymentOption, ...]:
        return options_of(self.paymentOptions)


class PriceData(msgspec.Struct):
    """``data`` of ``onramp/price``; fees are in fiat units."""

    fiatCurrency: str  # noqa: N815
    currencyAmount: Decimal  # noqa: N815
    cryptoCurrencyCode: str  # noqa: N815
    cryptoCurrencyAmount: Decimal  # noqa: N815
    gasFee: Decimal  # noqa: N815
    platformFee: Decimal  # noqa: N815
    cryptoCurrency: str = ""  # noqa: N815
    network: str = ""
    cryptoCurrencyUnitPrice: Decimal | None = None  # noqa: N815
    totalFee: Decimal | None = None  # noqa: N815
    paymentOptions: _Options = None  # noqa: N815

    @property
    def options(self) -> tuple[PaymentOption, ...]:
        return options_of(self.paymentOptions)


class LimitHint(msgspec.Struct):
    """What a ``10002`` answer's ``data`` may carry to show *structurally* that a limit was hit.

    The doc says ``data`` is empty on errors; when it is not, and it carries limits, the client
    reports :class:`~router.errors.AmountOutOfRange` instead of a bare refusal.
    """

    minAmount: Decimal | None = None  # noqa: N815
    maxAmount: Decimal | None = None  # noqa: N815
    paymentOptions: _Options = None  # noqa: N815

    @property
    def options(self) -> Sequence[PaymentOption]:
        own = PaymentOption("", self.minAmount, self.maxAmount)
        listed = options_of(self.paymentOptions)
        return (own, *listed) if own.minAmount is not None or own.maxAmount is not None else listed


ENVELOPE_DECODER: Final = msgspec.json.Decoder(Envelope, strict=False)
TOKENS_DECODER: Final = msgspec.json.Decoder(list[Token], strict=False)
CURRENCIES_DECODER: Final = msgspec.json.Decoder(list[FiatCurrency], strict=False)
PRICE_DECODER: Final = msgspec.json.Decoder(PriceData, strict=False)
LIMIT_HINT_DECODER: Final = msgspec.json.Decoder(LimitHint, strict=False)
