"""FixedFloat's bulk rates export (``/rates/fixed.xml``, ``/rates/float.xml``): BestChange format.

``<rates><item><from>USDT</from><to>BTCLN</to><in>1</in><out>0.000011868696</out>``
``<amount>241.04377808</amount><tofee>0.0000025300 BTCLN</tofee>``
``<minamount>31.6513761468 USDT</minamount><maxamount>15013.6210000000 USDT</maxamount></item>``
``...</rates>``: ``out/in`` is the rate, ``amount`` the reserve of ``to``, ``tofee`` the network fee
in ``to`` units (optional), min/max in ``from`` units with the from code appended.

The emulator's feed is a snapshot of the world at the start of the current minute (so up to a
minute old) priced for a nominal size: it ranks pairs like the firm ``price`` answers only for
small amounts. :func:`render_rates_xml` and :func:`synthetic_items` also build big synthetic files
(e.g. 4,096 items) for parser benchmarks.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import formatdate, parsedate_to_datetime
from typing import Final

from .currencies import CURRENCIES, FFCurrency
from .pricing import Pricer, quantize_down

__all__ = ["FeedItem", "FeedSnapshot", "make_snapshot", "not_modified", "render_rates_xml",
           "snapshot_items", "synthetic_items"]

SNAPSHOT_PERIOD: Final = 60


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One ``<item>``: one directed pair. ``tofee`` None means the element is left out."""

    from_code: str
    to_code: str
    out: Decimal
    amount: Decimal
    minamount: Decimal
    maxamount: Decimal
    tofee: Decimal | None = None
    in_: Decimal = Decimal(1)


def _f(d: Decimal, places: int) -> str:
    return f"{quantize_down(d, places):f}"


def render_rates_xml(items: Iterable[FeedItem]) -> bytes:
    """Serialise ``items`` to the export format (UTF-8, no XML declaration, codes are [A-Z0-9])."""
    parts = ["<rates>"]
    for it in items:
        parts.append(f"<item><from>{it.from_code}</from><to>{it.to_code}</to>"
                     f"<in>{it.in_:f}</in><out>{_f(it.out, 12)}</out>"
                     f"<amount>{_f(it.amount, 8)}</amount>")
        if it.tofee is not None:
            parts.append(f"<tofee>{_f(it.tofee, 10)} {it.to_code}</tofee>")
        parts.append(f"<minamount>{_f(it.minamount, 10)} {it.from_code}</minamount>"
                     f"<maxamount>{_f(it.maxamount, 10)} {it.from_code}</maxamount></item>")
    parts.append("</rates>")
    return "".join(parts).encode()


def snapshot_items(pricer: Pricer, currencies: Mapping[str, FFCurrency], rate_type: str,
                   at: float, *, omit_fee: Callable[[FFCurrency], bool],
                   unavailable: frozenset[str] = frozenset()) -> list[FeedItem]:
    """Every directed pair the service would take at ``at`` (from accepted, to paid out)."""
    prof = pricer.profile
    sources = [c for c in currencies.values()
               if prof.can_receive(c.asset) and c.code not in unavailable]
    targets = [c for c in currencies.values()
               if prof.can_send(c.asset) and c.code not in unavailable]
    items = []
    for src in sources:
        for dst in targets:
            if src.code == dst.code:
                continue
            lo, hi = pricer.limits(src, dst, at)
            items.append(FeedItem(
                src.code, dst.code, pricer.nominal_rate(src, dst, rate_type, at),
                prof.reserve(dst.asset), lo, hi,
                None if omit_fee(dst) else pricer.fee(dst)))
    return items


def synthetic_items(n: int, seed: int = 0) -> list[FeedItem]:
    """``n`` plausible items over the real codes plus synthetic ones (``X001``...) when needed."""
    rng = random.Random(seed)
    codes = [c.code for c in CURRENCIES]
    k = 1
    while len(codes) * (len(codes) - 1) < n:
        codes.append(f"X{k:03d}")
        k += 1
    pairs = [(a, b) for a in codes for b in codes if a != b]
    rng.shuffle(pairs)

    def dec(lo: int, hi: int, places: int) -> Decimal:
        return Decimal(rng.randint(lo, hi)).scaleb(-places)

    return [
        FeedItem(a, b, dec(1, 10**16, 12), dec(10**8, 10**16, 8), dec(10**10, 10**12, 10),
                 dec(10**13, 10**15, 10), dec(1, 10**9, 10) if rng.random() < 0.8 else None)
        for a, b in pairs[:n]
    ]


@dataclass(frozen=True, slots=True)
class FeedSnapshot:
    """A rendered feed with its validators."""

    body: bytes
    etag: str
    last_modified: int

    @property
    def last_modified_http(self) -> str:
        return formatdate(self.last_modified, usegmt=True)


def make_snapshot(body: bytes, at: int) -> FeedSnapshot:
    return FeedSnapshot(body, '"' + hashlib.sha256(body).hexdigest()[:24] + '"', at)


def not_modified(headers: Mapping[str, str], snap: FeedSnapshot) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; else If-Modified-Since (whole seconds)."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or snap.etag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return snap.last_modified <= since
    return False
