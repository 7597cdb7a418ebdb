"""Presenting a :class:`RouteSet`: the ``--json`` contract and the human table."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Final

import msgspec

from router.model import Fee, Leg, Route, RouteSet

__all__ = ["dec", "render_explain", "render_table", "route_to_dict", "routeset_to_dict",
           "routeset_to_json"]

_ENCODER = msgspec.json.Encoder()


def dec(value: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros beyond the value's own."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _fee(f: Fee) -> dict[str, Any]:
    return {"kind": f.kind, "amount": dec(f.amount), "asset": f.asset}


def _leg(leg: Leg) -> dict[str, Any]:
    return {
        "provider": leg.provider,
        "asset_in": leg.asset_in,
        "asset_out": leg.asset_out,
        "amount_in": dec(leg.amount_in),
        "amount_out": dec(leg.amount_out),
        "fees": [_fee(f) for f in leg.fees],
        "rate_type": leg.rate_type,
        "quote_id": leg.quote_id,
        "kind": leg.kind,
        "locked": leg.locked,
        "expires_at": leg.expires_at,
        "transfer_fee": _fee(leg.transfer_fee) if leg.transfer_fee is not None else None,
    }


def _route(route: Route) -> dict[str, Any]:
    return {
        "amount_in": dec(route.amount_in),
        "amount_out": dec(route.amount_out),
        "asset_in": route.asset_in,
        "asset_out": route.asset_out,
        "kind": route.kind,
        "locked": route.locked,
        "legs": [_leg(leg) for leg in route.legs],
        "expires_at": route.expires_at,
        "observed_at": route.observed_at,
        "payout_fee": _fee(route.payout_fee) if route.payout_fee is not None else None,
    }


def route_to_dict(route: Route) -> dict[str, Any]:
    """One route as in the ``--json`` contract (amounts as decimal strings)."""
    return _route(route)


def routeset_to_dict(rs: RouteSet, mode: str | None = None) -> dict[str, Any]:
    """The ``--json`` contract as plain types (amounts as decimal strings), ready for
    :func:`json.dumps`; ``mode`` (``live`` or ``sandbox``) is included only when given."""
    req = rs.request
    unavailable = []
    for u in rs.unavailable:
        entry: dict[str, Any] = {"provider": u.provider, "reason": u.reason, "detail": u.detail}
        if u.limit is not None:
            entry["limit"] = dec(u.limit)
            entry["asset"] = u.asset
        if u.retry_after is not None:
            entry["retry_after"] = u.retry_after
        unavailable.append(entry)
    return {
        "request": {
            "sell": req.sell,
            "buy": req.buy,
            "amount": dec(req.amount),
            "side": req.side,
            "rate_type": req.rate_type,
            "max_hops": req.max_hops,
        },
        "routes": [_route(r) for r in rs.routes],
        "unavailable": unavailable,
        "elapsed_ms": rs.elapsed_ms,
        **({} if mode is None else {"mode": mode}),
    }


def routeset_to_json(rs: RouteSet, mode: str | None = None) -> bytes:
    return _ENCODER.encode(routeset_to_dict(rs, mode))


_LEGEND: Final = ("kind: locked = the provider holds this price until it expires; firm = priced "
                  "for this amount, may still move; indicative = from bulk data and the fee model")


def certainty(item: Route | Leg) -> str:
    """``locked`` (the provider holds the price), ``firm`` (priced for this exact amount, not
    held) or ``indicative`` (computed from bulk data and the fee model)."""
    return "locked" if item.locked else item.kind


def _held(leg: Leg) -> str:
    if not leg.locked:
        return ""
    until = (time.strftime("%H:%M:%S", time.localtime(leg.expires_at))
             if leg.expires_at is not None else "?")
    return f", quote {leg.quote_id} held until {until}"


def _fees_text(fees: tuple[Fee, ...]) -> str:
    return ", ".join(f"{f.kind} {dec(f.amount)} {f.asset}" for f in fees) or "none itemised"


def _shown(routes: tuple[Route, ...], limit: int, per_provider: int) -> list[Route]:
    """The routes the table shows: best first, at most ``per_provider`` for each provider chain,
    so that one provider's many networks do not hide the others."""
    counts: dict[tuple[str, ...], int] = {}
    shown = []
    for route in routes:
        n = counts.get(route.providers, 0)
        if n < per_provider:
            counts[route.providers] = n + 1
            shown.append(route)
            if len(shown) == limit:
                break
    return shown


def render_table(rs: RouteSet, mode: str, *, limit: int = 12, per_provider: int = 3) -> str:
    req = rs.request
    what = (f"sell {dec(req.amount)} {req.sell} for {req.buy}" if req.side == "sell"
            else f"receive {dec(req.amount)} {req.buy} paying {req.sell}")
    lines = [f"{what}: {len(rs.routes)} route(s), {len(rs.unavailable)} left out, "
             f"{rs.elapsed_ms:.1f} ms [{mode}]"]
    if rs.routes:
        rows = [("#", "providers", "kind", "type", "you send", "you get", "rate")]
        shown = _shown(rs.routes, limit, per_provider)
        rank = {id(r): i for i, r in enumerate(rs.routes, 1)}
        for r in shown:
            i = rank[id(r)]
            rows.append((
                str(i),
                " > ".join(r.providers),
                certainty(r),
                "/".join(dict.fromkeys(leg.rate_type for leg in r.legs)),
                f"{dec(r.amount_in)} {r.asset_in}",
                f"{dec(r.amount_out)} {r.asset_out}",
                dec(r.rate.quantize(Decimal(1).scaleb(-10)).normalize()) if r.amount_in else "-",
            ))
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        for n, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if n == 0:
                continue
            route = shown[n - 1]
            for leg in route.legs:
                if leg.transfer_fee is not None:
                    lines.append(f"{'':{widths[0]}}  ~ transfer to {leg.provider}: network fee "
                                 f"{dec(leg.transfer_fee.amount)} {leg.transfer_fee.asset}")
                lines.append(f"{'':{widths[0]}}  - {leg.provider} ({certainty(leg)}{_held(leg)}): "
                             f"{dec(leg.amount_in)} "
                             f"{leg.asset_in} -> {dec(leg.amount_out)} {leg.asset_out}; "
                             f"fees: {_fees_text(leg.fees)}")
            if route.payout_fee is not None:
                lines.append(f"{'':{widths[0]}}  ~ payout to your wallet: network fee "
                             f"{dec(route.payout_fee.amount)} {route.payout_fee.asset}")
        if len(rs.routes) > len(shown):
            lines.append(f"... and {len(rs.routes) - len(shown)} more (use --json for all)")
        lines.append(_LEGEND)
        best = rs.routes[0]
        lines.append(f"best: {' > '.join(best.providers)} ({certainty(best)}) gives "
                     f"{dec(best.amount_out)} {best.asset_out} for "
                     f"{dec(best.amount_in)} {best.asset_in}")
    else:
        lines.append("no route can carry this request")
    if rs.unavailable:
        lines.append("left out:")
        for u in rs.unavailable:
            lines.append(f"  {u.provider:<12} {u.reason:<18} {u.detail}".rstrip())
    return "\n".join(lines)


def _route_lines(n: int, route: Route) -> list[str]:
    head = (f"{n}. {' > '.join(route.providers)} ({certainty(route)}, {len(route.legs)} leg"
            f"{'s' if len(route.legs) > 1 else ''}): send {dec(route.amount_in)} {route.asset_in}, "
            f"receive {dec(route.amount_out)} {route.asset_out}")
    lines = [head]
    for i, leg in enumerate(route.legs, 1):
        if leg.transfer_fee is not None:
            lines.append(f"     transfer to {leg.provider}: network fee {dec(leg.transfer_fee.amount)} "
                         f"{leg.transfer_fee.asset}")
        quote = _held(leg) or (f", quote {leg.quote_id}" if leg.quote_id else "")
        lines.append(f"     leg {i} {leg.provider} {leg.rate_type} {certainty(leg)}{quote}: "
                     f"{dec(leg.amount_in)} {leg.asset_in} -> {dec(leg.amount_out)} {leg.asset_out}")
        for f in leg.fees:
            lines.append(f"       {f.kind} fee {dec(f.amount)} {f.asset}")
    if route.payout_fee is not None:
        lines.append(f"     payout to your wallet: network fee {dec(route.payout_fee.amount)} "
                     f"{route.payout_fee.asset}")
    return lines


def render_explain(rs: RouteSet, mode: str, *, runners_up: int = 4) -> str:
    """The best route and the runners-up leg by leg with every fee, then every route left out."""
    req = rs.request
    what = (f"sell {dec(req.amount)} {req.sell} for {req.buy}" if req.side == "sell"
            else f"receive {dec(req.amount)} {req.buy} paying {req.sell}")
    lines = [f"{what} (max {req.max_hops} hops, rate type {req.rate_type}) [{mode}], "
             f"{rs.elapsed_ms:.1f} ms"]
    if rs.routes:
        lines.append("best route:")
        lines += _route_lines(1, rs.routes[0])
        shown = _shown(rs.routes[1:], runners_up, 1)
        if shown:
            lines.append("runners-up:")
            rank = {id(r): i for i, r in enumerate(rs.routes, 1)}
            for route in shown:
                lines += _route_lines(rank[id(route)], route)
    else:
        lines.append("no route can carry this request")
    if rs.unavailable:
        lines.append("left out:")
        for u in rs.unavailable:
            lines.append(f"  {u.provider:<12} {u.reason:<18} {u.detail}".rstrip())
    return "\n".join(lines)
