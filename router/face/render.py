"""Presenting a :class:`RouteSet`: the ``--json`` contract and the human table."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Final

import msgspec

from router.model import Fee, Leg, Route, RouteSet, Unavailable

__all__ = ["answer_line", "compact_unavailable", "cost_text", "dec", "render_explain", "render_table",
           "routeset_to_dict", "routeset_to_json", "terminal_width"]

_ENCODER = msgspec.json.Encoder()


def dec(value: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros beyond the value's own."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _opt(value: Decimal | None) -> str | None:
    return dec(value) if value is not None else None


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
        "cost_bp": _opt(route.cost_bp),
        "usd_in": _opt(route.usd_in),
        "usd_out": _opt(route.usd_out),
        "usd_fees": _opt(route.usd_fees),
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


#: Reasons of leg limits and pairs a provider does not list: counted, not detailed, unless the
#: limit is in the request's own sell or buy asset.
_LEG_REASONS: Final = frozenset({"limit_min", "limit_max", "unsupported_pair"})


def compact_unavailable(entries: list[dict[str, Any]], request: dict[str, Any]
                        ) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """``(counts per reason, the entries worth reading)``: every provider failure (timeout,
    auth, budget...) and the limits of a provider's *direct* leg from the request's sell asset
    to its buy asset (the providers that could have served the pair but for the amount), one
    entry per provider, limit and coin with the number of its ``markets`` (networks) that had it
    when more than one did. Limits of intermediate legs (``ETH->LTC`` on the way to BTC) are only
    counted."""
    counts: dict[str, int] = {}
    kept = []
    limits: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    sell, buy = (str(request[k]) for k in ("sell", "buy"))
    for e in entries:
        counts[e["reason"]] = counts.get(e["reason"], 0) + 1
        if e["reason"] not in _LEG_REASONS:
            kept.append(e)
            continue
        if e["reason"] == "unsupported_pair":  # a provider that could not have served it
            continue
        head = str(e.get("detail", "")).split(" ", 1)[0]
        src, arrow, dst = head.partition("->")
        if arrow and _same_side(sell, src) and _same_side(buy, dst):
            coin = str(e.get("asset")).partition("@")[0]
            limits.setdefault((e["provider"], e["reason"], coin), []).append(e)
    for group in limits.values():
        kept.append(_one_limit(group))
    return counts, kept


def _same_side(wanted: str, asset: str) -> bool:
    """Is ``asset`` (a leg's end) the request's ``wanted`` one? A pinned network must match
    (``USDT@TRC20`` is not ``USDT@POLYGON``); a coin alone, or an account balance without a
    network (a Gate Pay ``USDT``), matches by coin."""
    if "@" in wanted and "@" in asset:
        return wanted == asset
    return wanted.partition("@")[0] == asset.partition("@")[0]


def _one_limit(group: list[dict[str, Any]]) -> dict[str, Any]:
    """One entry for a provider's limit on every network of the pair: the limit nearest to
    serving the amount (the highest maximum, the lowest minimum) and how many markets had it."""
    if len(group) == 1 or any(e.get("limit") is None for e in group):
        return group[0]
    pick = max if group[0]["reason"] == "limit_max" else min
    entry = dict(pick(group, key=lambda e: Decimal(str(e["limit"]))))
    entry["markets"] = len(group)
    return entry


def _wrap(text: str, width: int, indent: str = "", more: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces only (never inside a
    number or an asset id; a word longer than the line stays whole)."""
    import re
    import textwrap

    glued = re.sub(r"(\d) (?=[A-Z][A-Z0-9]*(?:@[A-Z0-9]+)?\b)", "\\1\u00a0", text)  # "1 BTC" stays whole
    lines = textwrap.wrap(glued, width=max(width, 20), initial_indent=indent,
                          subsequent_indent=more or indent, break_long_words=False,
                          break_on_hyphens=False)
    return [line.replace("\u00a0", " ") for line in lines] or [indent.rstrip()]


def _clock(ts: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts)) if ts is not None else "?"


def _usd(value: Decimal | None) -> str:
    return "?" if value is None else f"${value:,.2f}"


def cost_text(route: Route) -> str:
    """``cost 12.3 bp ($39,600.00 in, $39,551.20 out, fees $198.31)``, or why it is unknown."""
    if route.cost_bp is None:
        return "cost unknown (no reference value for an asset of this route)"
    fees = f", fees {_usd(route.usd_fees)}" if route.usd_fees is not None else ""
    return (f"cost {dec(route.cost_bp)} bp ({_usd(route.usd_in)} in, {_usd(route.usd_out)} out"
            f"{fees})")


def _on(amount: Decimal, asset: str) -> str:
    coin, _, network = asset.partition("@")
    return f"{dec(amount)} {coin} on {network}" if network else f"{dec(amount)} {asset}"


def answer_line(rs: RouteSet) -> str:
    """The answer in one sentence: what you send, what you get (on which network), from whom,
    locked or not and until when, and what it costs."""
    best = rs.best
    if best is None:
        return "no route can carry this request (left out below)"
    if best.locked:
        hold = f"locked until {_clock(best.expires_at)}"
    elif best.kind == "firm":
        hold = "priced for this amount, not locked" + (
            f", valid until {_clock(best.expires_at)}" if best.expires_at is not None else "")
    else:
        hold = "indicative (from bulk data), not locked"
    cost = f"; cost {dec(best.cost_bp)} bp" if best.cost_bp is not None else ""
    return (f"you send {_on(best.amount_in, best.asset_in)}, you get "
            f"{_on(best.amount_out, best.asset_out)} via {' > '.join(best.providers)}: {hold}"
            f"{cost}")


def _shown(routes: tuple[Route, ...], limit: int | None, per_provider: int | None) -> list[Route]:
    """The routes the table shows: best first, at most ``per_provider`` for each provider chain,
    so that one provider's many networks do not hide the others (``None``: no cap)."""
    counts: dict[tuple[str, ...], int] = {}
    shown: list[Route] = []
    for route in routes:
        if limit is not None and len(shown) >= limit:
            break
        n = counts.get(route.providers, 0)
        if per_provider is None or n < per_provider:
            counts[route.providers] = n + 1
            shown.append(route)
    return shown


def _rate(r: Route) -> str:
    return dec(r.rate.quantize(Decimal(1).scaleb(-10)).normalize()) if r.amount_in else "-"


def _columns(rows: list[Route], side: str) -> list[tuple[str, int, list[str]]]:
    """``(title, priority, cells)`` per column in display order; lower priority stays longer."""
    get_first = side == "sell"
    return [
        ("#", 0, [str(i) for i in range(1, len(rows) + 1)]),
        ("providers", 1, [" > ".join(r.providers) for r in rows]),
        ("kind", 4, [certainty(r) for r in rows]),
        ("type", 6, ["/".join(dict.fromkeys(leg.rate_type for leg in r.legs)) for r in rows]),
        ("you send", 5 if get_first else 2, [f"{dec(r.amount_in)} {r.asset_in}" for r in rows]),
        ("you get", 2 if get_first else 5, [f"{dec(r.amount_out)} {r.asset_out}" for r in rows]),
        ("cost bp", 3, [dec(r.cost_bp) if r.cost_bp is not None else "?" for r in rows]),
        ("rate", 7, [_rate(r) for r in rows]),
    ]


def _grid(rows: list[Route], side: str, width: int) -> list[str]:
    """The table's rows, leaving out the least needed columns until a row fits ``width``."""
    cols = _columns(rows, side)
    sized = [(t, p, cells, max(len(t), *(len(c) for c in cells))) for t, p, cells in cols]
    while len(sized) > 3 and sum(w for *_, w in sized) + 2 * (len(sized) - 1) > width:
        drop = max(range(len(sized)), key=lambda i: sized[i][1])
        sized.pop(drop)
    out = ["  ".join(t.ljust(w) for t, _, _, w in sized).rstrip()]
    for i in range(len(rows)):
        out.append("  ".join(cells[i].ljust(w) for _, _, cells, w in sized).rstrip())
    return out


def _details(route: Route, width: int) -> list[str]:
    lines: list[str] = []
    for leg in route.legs:
        if leg.transfer_fee is not None:
            lines += _wrap(f"~ transfer to {leg.provider}: network fee "
                           f"{dec(leg.transfer_fee.amount)} {leg.transfer_fee.asset}",
                           width, "    ", "      ")
        lines += _wrap(f"- {leg.provider} ({certainty(leg)}{_held(leg)}): {dec(leg.amount_in)} "
                       f"{leg.asset_in} -> {dec(leg.amount_out)} {leg.asset_out}; fees: "
                       f"{_fees_text(leg.fees)}", width, "    ", "      ")
    if route.payout_fee is not None:
        lines += _wrap(f"~ payout to your wallet: network fee {dec(route.payout_fee.amount)} "
                       f"{route.payout_fee.asset}", width, "    ", "      ")
    if route.cost_bp is not None:
        lines += _wrap(f"= {cost_text(route)}", width, "    ", "      ")
    return lines


def _entry(u: Unavailable) -> dict[str, Any]:
    return {"provider": u.provider, "reason": u.reason, "detail": u.detail, "limit": u.limit,
            "asset": u.asset}


def _left_out_summary(rs: RouteSet, width: int) -> list[str]:
    """What was left out, in brief: counts per reason, then only what concerns a provider that
    could serve the pair (failures, and the limits of its direct markets, one line each)."""
    if not rs.unavailable:
        return []
    req = {"sell": rs.request.sell, "buy": rs.request.buy}
    entries = [_entry(u) for u in rs.unavailable]
    counts, kept = compact_unavailable(entries, req)
    kept += [e for e in entries if e["provider"] == "*" and e not in kept]  # the request's own
    per = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    lines = _wrap(f"left out: {len(rs.unavailable)} ({per}); --explain lists every one",
                  width, "", "  ")
    for e in kept:
        n = e.get("markets", 1)
        more = f" (the widest of {n} markets)" if n > 1 else ""
        lines += _wrap(f"{e['provider']:<12} {e['reason']:<18} {e['detail']}{more}".rstrip(),
                       width, "  ", "    ")
    return lines


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` wins; 80 when not a terminal)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def _what(rs: RouteSet) -> str:
    req = rs.request
    return (f"sell {dec(req.amount)} {req.sell} for {req.buy}" if req.side == "sell"
            else f"receive {dec(req.amount)} {req.buy} paying {req.sell}")


def render_table(rs: RouteSet, mode: str, *, limit: int | None = 5, per_provider: int | None = 2,
                 width: int | None = None) -> str:
    """The first screen: the answer in one line, then the best ``limit`` routes (at most
    ``per_provider`` per provider chain; ``None``: every route) numbered 1..n, each row fitting
    ``width`` columns (the terminal's by default), and a summary of what was left out."""
    width = terminal_width() if width is None else width
    lines = _wrap(answer_line(rs), width, "", "  ")
    lines += _wrap(f"{_what(rs)}: {len(rs.routes)} route(s), {len(rs.unavailable)} left out, "
                   f"{rs.elapsed_ms:.1f} ms [{mode}]", width)
    if rs.routes:
        shown = _shown(rs.routes, limit, per_provider)
        grid = _grid(shown, rs.request.side, width)
        lines.append(grid[0])
        for row, route in zip(grid[1:], shown, strict=True):
            lines.append(row)
            lines += _details(route, width)
        if len(rs.routes) > len(shown):
            cap = f", at most {per_provider} per provider chain" if per_provider else ""
            lines += _wrap(f"showing {len(shown)} of {len(rs.routes)} routes (best first{cap}); "
                           "--all shows every one", width)
        lines += _wrap(_LEGEND + "; cost = below the mid-market value of what you send, all "
                       "fees included (bp = 0.01%)", width, "", "  ")
    lines += _left_out_summary(rs, width)
    return "\n".join(lines)


def _route_lines(n: int, route: Route, rank: str = "") -> list[str]:
    head = (f"{n}. {' > '.join(route.providers)} ({certainty(route)}, {len(route.legs)} leg"
            f"{'s' if len(route.legs) > 1 else ''}{rank}): send {dec(route.amount_in)} {route.asset_in}, "
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
    lines.append(f"     {cost_text(route)}")
    return lines


def render_explain(rs: RouteSet, mode: str, *, runners_up: int | None = 4) -> str:
    """The answer, the best route and the runners-up (the best of each other provider chain, at
    most ``runners_up``; ``None``: every route) leg by leg with every fee and what each costs,
    numbered 1..n (with the route's rank when it differs), then every route left out."""
    req = rs.request
    lines = [*_wrap(answer_line(rs), terminal_width(), "", "  "),
             f"{_what(rs)} (max {req.max_hops} hops, rate type {req.rate_type}) [{mode}], "
             f"{rs.elapsed_ms:.1f} ms"]
    if rs.routes:
        lines.append("best route:")
        lines += _route_lines(1, rs.routes[0])
        shown = _shown(rs.routes[1:], runners_up, None if runners_up is None else 1)
        if shown:
            lines.append("runners-up:")
            rank = {id(r): i for i, r in enumerate(rs.routes, 1)}
            for n, route in enumerate(shown, 2):
                at = rank[id(route)]
                lines += _route_lines(n, route, f", rank {at} of {len(rs.routes)}" if at != n else "")
    else:
        lines.append("no route can carry this request")
    if rs.unavailable:
        lines.append("left out:")
        for u in rs.unavailable:
            lines.append(f"  {u.provider:<12} {u.reason:<18} {u.detail}".rstrip())
    return "\n".join(lines)
