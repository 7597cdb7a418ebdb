"""The ``bestrate`` command: the composition root, the one engine module that may import
``adapters`` and ``bench`` (inside command functions only).

Exit codes: 0 an answer with at least one route; 1 no route can carry the request;
2 bad input or configuration (one clear line on stderr, no traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from router.errors import BestrateError, InvalidRequest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
    from decimal import Decimal

# Everything else (asyncio, the engine, adapters, the sandbox) is imported where it is used, so
# that `bestrate --version` and `--help` start in a few milliseconds.

__all__ = ["main"]

class _Log:
    """The CLI's logger, ``bestrate.cli``, created on first use (logging is not imported for
    ``--version``)."""

    def debug(self, msg: str, *args: Any) -> None:
        import logging

        logging.getLogger("bestrate.cli").debug(msg, *args)


log = _Log()


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one line on stderr, exit 2, no usage block; and an
    amount such as ``-inf`` or ``-1e3`` read as the (bad) amount it is, not as an unknown option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(?:[0-9.]|inf|nan)", re.IGNORECASE)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from router._version import version

        print(f"bestrate {version()}")
        parser.exit(0)


_EXAMPLES = """examples:
  bestrate quote BTC USDT 0.5                 the best way to sell 0.5 BTC for USDT
  bestrate quote BTC USDT@TRC20 1000 --receive  receive exactly 1000 USDT on Tron
  bestrate quote ETH BTC 2 --explain          every route leg by leg, and all left out
  bestrate quote ETH BTC 2 --json             the answer as one JSON object
  bestrate providers                          what is configured (or sandboxed), budgets, pairs
  bestrate assets --provider fixedfloat       the assets one provider converts
  bestrate batch queries.csv --out answers.jsonl
  bestrate sandbox --seed 7                   serve every provider emulator on loopback

providers: fixedfloat, gatepay, flypay, onebitpay, fatpay. With no credentials configured
(bestrate.toml or BESTRATE_<PROVIDER>_<FIELD>), quotes run on the embedded sandbox.
Logging: --log-level debug|info|warning|error, or BESTRATE_LOG=debug."""

_LEVELS = ("debug", "info", "warning", "error")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bestrate", description="Best rate across crypto providers.",
                epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_Version)
    p.add_argument("--log-level", default=None, metavar="LEVEL",
                   help="log to stderr at this level: debug, info, warning (default), error; "
                        "or set BESTRATE_LOG")
    sub = p.add_subparsers(dest="command", required=True)

    q = sub.add_parser("quote", help="rank the routes for one conversion", epilog=_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("sell", help="asset you send, e.g. BTC or USDT@TRC20")
    q.add_argument("buy", help="asset you receive")
    q.add_argument("amount", help="amount you send (or receive, with --receive)")
    q.add_argument("--receive", action="store_true", help="AMOUNT is what you want to receive")
    q.add_argument("--type", dest="rate_type", default="any", help="any|fixed|float")
    q.add_argument("--max-hops", type=str, default="2", help="1..3 legs per route")
    q.add_argument("--providers", default=None, help="only these providers, comma-separated")
    q.add_argument("--exclude", default=None, help="skip these providers, comma-separated")
    q.add_argument("--deadline", default=None, help="seconds to wait for providers (default 5)")
    out = q.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object (the documented contract)")
    out.add_argument("--explain", action="store_true",
                     help="best route and runners-up leg by leg, and every route left out and why")
    q.add_argument("--all", action="store_true",
                   help="every route (the table shows the best 5; --explain the best 4 runners-up)")
    q.add_argument("--sandbox", action="store_true", help="use the embedded sandbox even if configured")
    q.add_argument("--config", default="bestrate.toml", help="TOML config (default ./bestrate.toml)")

    bt = sub.add_parser("batch", help="best routes for many queries, within budgets")
    bt.add_argument("file", help="CSV (sell,buy,amount[,side]) or JSON lines; - for stdin")
    bt.add_argument("--out", default=None, help="write the JSON lines here (default stdout)")
    bt.add_argument("--band", default="0.005",
                    help="indicative error band: runner-ups this close are firm-quoted first")
    bt.add_argument("--no-confirm", action="store_true",
                    help="spend no budget confirming uncontested winners")
    bt.add_argument("--resume", action="store_true",
                    help="continue the --out file of an interrupted run, skipping answered lines")
    bt.add_argument("--routes", type=int, default=None,
                    help="routes kept per answer (default 2; 0: the best only)")
    bt.add_argument("--full", action="store_true",
                    help="every route and every left-out entry in full (large)")
    bt.add_argument("--sandbox", action="store_true", help="use the embedded sandbox")
    bt.add_argument("--config", default="bestrate.toml", help="TOML config (default ./bestrate.toml)")

    pv = sub.add_parser("providers", help="each provider: configured or sandboxed, budget, pairs")
    pv.add_argument("--sandbox", action="store_true", help="describe the embedded sandbox")
    pv.add_argument("--config", default="bestrate.toml", help="TOML config (default ./bestrate.toml)")

    a = sub.add_parser("assets", help="the assets the providers convert")
    a.add_argument("--provider", default=None, help="only this provider's assets")
    a.add_argument("--sandbox", action="store_true", help="list the embedded sandbox's")
    a.add_argument("--config", default="bestrate.toml", help="TOML config (default ./bestrate.toml)")

    s = sub.add_parser("sandbox", help="serve every provider emulator on loopback")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--frozen", action="store_true", help="no time-driven drift")
    s.add_argument("--no-limits", action="store_true", help="emulators enforce no rate limits")
    s.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer by MS")
    s.add_argument("--latency-profile", default=None, metavar="NAME",
                   help="latency profile instead: fixed, normal, heavy, mixed")
    s.add_argument("--faults", default=None, metavar="PROFILE",
                   help="fault profile: none, flaky, slow, liar, storm, skew, expired, chaos")
    s.add_argument("--variant", action="append", default=[], metavar="PROVIDER.NAME=VALUE",
                   help="one reading of an ambiguous provider doc, strictly (repeatable; "
                        "GET /_sandbox/variants on an emulator lists them)")

    b = sub.add_parser("bench", help="run the benchmark harness")
    b.add_argument("--scenario", default="latency")
    b.add_argument("--out", default="bench-out")
    b.add_argument("--list", action="store_true", help="list scenarios")
    b.add_argument("--calls", type=int, default=None, help="override the scenario's call count")
    b.add_argument("--live", action="store_true",
                   help="compare the configured live providers, within a hard cap of units")
    b.add_argument("--config", default="bestrate.toml", help="TOML config (for --live)")
    return p


def _fail(message: str, code: int = 2) -> int:
    print(f"bestrate: error: {message}", file=sys.stderr)
    return code


def _logging(level: str | None) -> None:
    """Log to stderr at ``--log-level`` (or ``BESTRATE_LOG``); warnings and worse by default."""
    chosen = level if level is not None else os.environ.get("BESTRATE_LOG") or None
    if chosen is None:
        return
    name = "--log-level" if level is not None else "BESTRATE_LOG"
    if chosen.lower() not in _LEVELS:
        raise InvalidRequest(name, f"{chosen!r} is not a level", ", ".join(_LEVELS))
    import logging

    logging.basicConfig(level=chosen.upper(), stream=sys.stderr,
                        format="bestrate: %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _logging(args.log_level)
        if args.command == "quote":
            if args.all and args.json:
                raise InvalidRequest("--all", "not allowed with --json",
                                     "--json alone (it always holds every route)")
            return _run(_quote(args))
        if args.command == "batch":
            if args.full and args.routes is not None:
                raise InvalidRequest("--routes", "not allowed with --full",
                                     "--full (every route) or --routes N")
            return _run(_batch(args))
        if args.command == "providers":
            return _run(_providers(args))
        if args.command == "assets":
            return _run(_assets(args))
        if args.command == "sandbox":
            from bench.sandbox import run_sandbox

            return int(run_sandbox(args) or 0)
        if args.command == "bench":
            from bench.harness import run_bench

            return int(run_bench(args) or 0)
    except InvalidRequest as exc:
        return _fail(str(exc))
    except BestrateError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`bestrate assets | head`): quietly, as batch
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's last flush has nowhere to fail
        return 141
    return 2


def _run(coro: Coroutine[Any, Any, int]) -> int:
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional on some platforms
        return asyncio.run(coro)
    return uvloop.run(coro)


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    import warnings

    from router.face.build import DEFAULT_PATH, load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config, specs = load(None if args.config == DEFAULT_PATH else args.config)
    for w in caught:
        print(f"bestrate: warning: {w.message}", file=sys.stderr)
    return config, specs


def provider_specs() -> dict[str, Any]:
    """Every provider's configuration fields, from the adapters' registry
    (:func:`router.face.build.load` uses this)."""
    from adapters.registry import field_specs

    return field_specs()


@contextlib.asynccontextmanager
async def open_sources(config: Any, specs: Any, *, sandbox: bool,
                       notice: Callable[[str], None]) -> AsyncIterator[tuple[list[Any], str]]:
    """The sources ``config`` selects: live providers with credentials, else (or with
    ``sandbox``) the embedded sandbox, whose emulators last as long as the block; ``notice`` is
    told in one line when the sandbox is used and why (:mod:`router.face.build` uses this)."""
    from adapters.registry import build_source, sandbox_values

    live = [n for n in specs if config.configured(n, specs) and config.enabled(n)]
    if live and not sandbox:
        yield [build_source(n, config.providers[n]) for n in live], "live"
        return
    from bench.sandbox import Sandbox

    seed = config.sandbox_seed
    reason = "--sandbox given" if sandbox else "no provider credentials configured"
    notice(f"{reason}; quoting on the embedded sandbox (offline emulators, seed {seed})")
    async with Sandbox(seed=seed) as sb:
        sources = []
        for name, entry in sb.providers.items():
            if name in specs and config.enabled(name):  # enabled = false holds here too
                values = {**sandbox_values(name, entry),
                          **{k: v for k, v in config.providers.get(name, {}).items()
                             if k.startswith("budget_")}}
                sources.append(build_source(name, values))
        yield sources, "sandbox"


def _parts(args: argparse.Namespace, config: Any, specs: Any) -> Any:
    """The sources, budget store, bulk store and quote cache, by the rules
    :meth:`router.Router.from_config` uses too (:mod:`router.face.build`)."""
    from router.face.build import open_parts

    return open_parts(config, specs, sandbox=args.sandbox,
                      notice=lambda line: print(f"bestrate: {line}", file=sys.stderr))


async def _quote(args: argparse.Namespace) -> int:
    from router.engine import Router
    from router.face.render import render_explain, render_table, routeset_to_json
    from router.request.parse import make_request, parse_deadline

    config, specs = _load(args)
    try:
        max_hops = int(args.max_hops)
    except ValueError:
        raise InvalidRequest("--max-hops", f"{args.max_hops!r} is not an integer", "1, 2 or 3") from None
    options = dict(side="buy" if args.receive else "sell", rate_type=args.rate_type,
                   max_hops=max_hops, providers=args.providers, exclude=args.exclude or ())
    # validate everything before starting anything
    req = make_request(args.sell, args.buy, args.amount, known_providers=specs, **options)
    deadline = parse_deadline(args.deadline, "--deadline")  # None: the configured one
    async with _parts(args, config, specs) as parts:
        mode = parts.mode
        _check_chosen(req, [src.name for src in parts.sources])
        async with Router(parts.sources, **parts.router_options()) as router:
            log.debug("quoting %s %s %s on %d %s source(s): %s", req.side, req.amount, req.sell,
                      len(parts.sources), mode, ", ".join(s.name for s in parts.sources))
            rs = await router.run(req, deadline=deadline)
    log.debug("answered in %.1f ms: %d route(s), %d left out", rs.elapsed_ms, len(rs.routes),
              len(rs.unavailable))
    if args.json:
        sys.stdout.buffer.write(routeset_to_json(rs, mode) + b"\n")
    elif args.explain:
        print(render_explain(rs, mode, runners_up=None if args.all else 4))
    elif args.all:
        print(render_table(rs, mode, limit=None, per_provider=None))
    else:
        print(render_table(rs, mode))
    sys.stdout.flush()
    return 0 if rs.routes else 1


def _check_chosen(req: Any, running: list[str]) -> None:
    """``--providers``/``--exclude`` must leave a provider that is running here (configured, or
    on the sandbox, and not ``enabled = false``): else exit 2 naming the flag, not "no route"."""
    names = ", ".join(running) or "none"
    if req.providers is not None:
        missing = [p for p in req.providers if p not in running]
        if missing:
            raise InvalidRequest("--providers", f"{missing[0]!r} is not running here", names)
    chosen = [p for p in (req.providers or running) if p not in req.exclude]
    if not chosen:
        raise InvalidRequest("--exclude", "leaves no provider to ask", f"a subset of {names}")


async def _open_router(args: argparse.Namespace) -> AsyncIterator[tuple[Any, str]]:
    """The configured (or sandboxed) sources, opened in a Router, for the listing commands."""
    from router.engine import Router

    config, specs = _load(args)
    async with _parts(args, config, specs) as parts:
        async with Router(parts.sources, **parts.router_options()) as router:
            yield router, parts.mode


async def _markets(router: Any) -> dict[str, Any]:
    """Each provider's markets, or the error that kept them from us (never raised)."""
    import asyncio

    from router.errors import ProviderError

    async def one(source: Any) -> Any:
        try:
            async with asyncio.timeout(10):
                return list(await source.markets())
        except (ProviderError, TimeoutError) as exc:
            return exc

    sources = list(router._sources.values())
    found = await asyncio.gather(*(one(s) for s in sources))
    return {s.name: m for s, m in zip(sources, found, strict=True)}


def _problem(exc: BaseException) -> str:
    return f"unavailable: {type(exc).__name__}" + (f" ({exc})" if str(exc) else "")


async def _providers(args: argparse.Namespace) -> int:
    """``bestrate providers``: each provider, live or sandboxed, its budget, the pairs it serves."""
    rows = []
    async with contextlib.asynccontextmanager(_open_router)(args) as (router, mode):
        markets = await _markets(router)
        for name in router.providers:
            budgets = router.budgets.of(name)
            if budgets:
                pol = budgets[0].policy
                budget = (f"budget {pol.limit} units / {pol.window:g} s, {pol.cap} usable "
                          f"(margin {pol.margin:g}, reserve {pol.reserve})")
            else:
                budget = "budget: none declared"
            found = markets.get(name)
            if isinstance(found, BaseException):
                pairs = _problem(found)
            else:
                coins = {(m.asset_in.partition("@")[0], m.asset_out.partition("@")[0])
                         for m in found or ()}
                assets = {a for m in found or () for a in (m.asset_in, m.asset_out)}
                pairs = f"{len(coins)} coin pairs ({len(found or ())} markets, {len(assets)} assets)"
            rows.append((name, "live" if mode == "live" else "sandboxed", budget, pairs))
    print(f"{len(rows)} provider(s) [{mode}]")
    for name, how, budget, pairs in rows:
        print(f"{name:<11} {how:<9} {pairs}")
        print(f"{'':<11} {'':<9} {budget}")
    return 0


async def _assets(args: argparse.Namespace) -> int:
    """``bestrate assets [--provider P]``: every asset, with the providers that convert it."""
    async with contextlib.asynccontextmanager(_open_router)(args) as (router, mode):
        if args.provider is not None and args.provider not in router.providers:
            raise InvalidRequest("--provider", f"{args.provider!r} is not a provider here",
                                 ", ".join(router.providers))
        markets = await _markets(router)
    by_asset: dict[str, set[str]] = {}
    failed = []
    for name, found in markets.items():
        if args.provider is not None and name != args.provider:
            continue
        if isinstance(found, BaseException):
            failed.append(f"{name}: {_problem(found)}")
            continue
        for m in found:
            for asset in (m.asset_in, m.asset_out):
                by_asset.setdefault(asset, set()).add(name)
    who = args.provider or "all providers"
    print(f"{len(by_asset)} asset(s), {who} [{mode}]")
    width = max((len(a) for a in by_asset), default=0)
    for asset in sorted(by_asset):
        print(f"{asset:<{width}}  {', '.join(sorted(by_asset[asset]))}")
    for line in failed:
        print(f"bestrate: {line}", file=sys.stderr)
    return 0 if by_asset else 1


#: Records answered together: the batch planner's scope (coalescing, firm plan) and the most
#: held in memory; answers stream out as each chunk is answered.
_CHUNK = 1000
_REUSE_S = 30.0  # how long a batch reuses the answer of an identical earlier query
_REUSE_MAX = 20_000  # answers kept for reuse, most recent first


class _Out:
    """The batch's output: stdout, or ``--out`` opened only when the first answer is ready (an
    existing file is never truncated before then; under ``--resume`` it is appended to, after
    its torn last line, if any, is cut). Every line is written whole and flushed."""

    def __init__(self, path: str | None, resume_at: int | None) -> None:
        self.path, self._resume_at = path, resume_at
        self._f: Any = None if path else sys.stdout.buffer
        self.lines = 0

    def write(self, line: bytes) -> None:
        if self._f is None:
            assert self.path is not None
            if self._resume_at is None:
                self._f = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            else:
                self._f = open(self.path, "r+b")  # noqa: SIM115
                self._f.truncate(self._resume_at)
                self._f.seek(self._resume_at)
        self._f.write(line + b"\n")
        self._f.flush()
        self.lines += 1

    def close(self) -> None:
        if self._f is not None and self.path:
            self._f.close()


def _check_out(path: str | None, resume: bool) -> tuple[dict[int, str], int | None]:
    """Refuse an ``--out`` that cannot be written (exit 2 before any call); under ``--resume``
    read what it already holds."""
    from router.face.batchio import answered_prefix

    if path is None:
        if resume:
            raise InvalidRequest("--resume", "needs --out", "--out FILE --resume")
        return {}, None
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise InvalidRequest("--out", f"{path} is a directory", "a file path")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK) or (
            os.path.exists(target) and not os.access(target, os.W_OK)):
        raise InvalidRequest("--out", f"{path} cannot be written", "a writable file path")
    if resume and os.path.exists(target):
        return answered_prefix(target)
    return {}, None


def _resume_command(args: argparse.Namespace) -> str:
    import shlex

    words = ["bestrate", "batch", args.file, "--out", args.out or "FILE", "--resume"]
    if args.band != "0.005":
        words += ["--band", args.band]
    if args.no_confirm:
        words.append("--no-confirm")
    if args.routes not in (None, 2):
        words += ["--routes", str(args.routes)]
    if args.full:
        words.append("--full")
    if args.sandbox:
        words.append("--sandbox")
    if args.config != "bestrate.toml":
        words += ["--config", args.config]
    return shlex.join(words)


def _count_records(path: str) -> int | None:
    """How many records the input holds (for the interruption line); None for stdin."""
    if path == "-":
        return None
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        lines = sum(1 for line in f if line.strip())
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        head = next((line for line in f if line.strip()), "")
    return lines - (0 if head.lstrip().startswith("{") else 1)


async def _batch(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    import time as _time
    from decimal import Decimal

    from router.engine import Router
    from router.face.batchio import Progress, iter_queries, summary_lines
    from router.pricing.batch import BatchStats
    from router.request.parse import make_request

    config, specs = _load(args)
    try:
        band = Decimal(args.band)
    except ArithmeticError:
        raise InvalidRequest("--band", f"{args.band!r} is not a number", "a fraction like 0.005") from None
    if not band.is_finite() or not 0 <= band < 1:
        raise InvalidRequest("--band", f"{args.band} is out of range", "0 <= band < 1")
    if args.routes is None:
        args.routes = 2
    elif args.routes < 0:
        raise InvalidRequest("--routes", f"is {args.routes}", "0 (the best only) or more")
    done, resume_at = _check_out(args.out, args.resume)
    try:
        f = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InvalidRequest("FILE", f"cannot read {args.file}: {exc.__class__.__name__}",
                             "a readable UTF-8 CSV or JSON lines file") from None
    make = lambda *a, **k: make_request(*a, known_providers=specs, **k)  # noqa: E731
    records = iter_queries(f, args.file, make)
    out = _Out(args.out, resume_at)
    started = _time.monotonic()
    progress = Progress(sys.stderr.isatty())
    totals = {"queries": 0, "invalid": 0, "distinct": 0, "answered": 0, "routes": 0, "firm": 0,
              "skipped": 0}
    dry: set[str] = set()
    spent: dict[str, int] = {}
    stopped: list[int] = []
    try:
        async with _parts(args, config, specs) as parts:
            mode = parts.mode
            async with Router(parts.sources, **parts.router_options()) as router:
                work = asyncio.ensure_future(_answer(
                    router, records, done, out, totals, dry, progress, band, args, mode,
                    stopped))
                loop = asyncio.get_running_loop()

                def stop(signum: int) -> None:
                    # The first signal lets the lines in flight finish (their firm quotes are
                    # paid for) and stops asking for more; a second one stops at once.
                    if stopped:
                        work.cancel()
                        return
                    stopped.append(signum)
                    print(f"\nbestrate: stopping after the lines in flight (at most {_CHUNK}); "
                          "signal again to stop now", file=sys.stderr, flush=True)

                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, stop, signum)
                try:
                    await work
                except asyncio.CancelledError:
                    if not stopped:
                        raise
                finally:
                    for signum in (signal.SIGINT, signal.SIGTERM):
                        loop.remove_signal_handler(signum)
                spent = router.budgets.spent()
    except UnicodeDecodeError:
        raise InvalidRequest("FILE", f"{args.file} is not UTF-8", "a UTF-8 CSV or JSON lines file") from None
    except BrokenPipeError:  # the reader went away (`| head`): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        out.close()
        if f is not sys.stdin:
            f.close()
    progress(BatchStats(), force=False)
    progress.done()
    finished = totals["skipped"] + out.lines
    total = _count_records(args.file) if stopped else None
    if stopped and not (total is not None and finished >= total):  # else: nothing was left
        of = f" of {total}" if total is not None else ""
        how = (f"resume with: {_resume_command(args)}" if args.out
               else "rerun with --out FILE to be able to resume")
        units = ", ".join(f"{p} {u}" for p, u in sorted(spent.items())) or "none"
        print(f"bestrate: interrupted: {finished}{of} lines done (budget units spent: {units}); "
              f"{how}", file=sys.stderr)
        return 128 + stopped[0]
    for line in summary_lines(totals["queries"] + totals["invalid"], totals["invalid"],
                              totals["distinct"], totals["answered"], totals["routes"],
                              totals["firm"], spent, _time.monotonic() - started, dry):
        print(f"bestrate: {line}", file=sys.stderr)
    return 0


async def _answer(router: Any, records: Any, done: dict[int, str], out: _Out,
                  totals: dict[str, int], dry: set[str], progress: Any, band: Decimal,
                  args: argparse.Namespace, mode: str, stopped: list[int]) -> None:
    """Answer the records chunk by chunk, writing each line in input order as it is ready,
    until the records end or ``stopped`` holds a signal."""
    import itertools
    import time
    from collections import OrderedDict

    from router.face.batchio import Record, answer_body, error_line, result_line
    from router.model import QuoteRequest
    from router.pricing.batch import BatchStats

    # Answers of identical queries are shared across chunks while younger than _REUSE_S, as
    # they are within one chunk: a popular pair is planned once, not once per 1,000 lines.
    recent: OrderedDict[QuoteRequest, tuple[Any, float, bytes]] = OrderedDict()
    while not stopped:
        chunk: list[Record] = []
        taken = 0
        for rec in itertools.islice(records, _CHUNK):
            taken += 1
            seen = done.get(rec.line)
            if seen is not None:
                if seen != rec.digest:
                    raise InvalidRequest("--resume", f"line {rec.line} of {args.file} is not "
                                         "the line answered before", "the same input file")
                totals["skipped"] += 1
                continue
            chunk.append(rec)
        if not taken:
            break
        now = time.monotonic()
        for key in [k for k, (_, at, _) in recent.items() if now - at > _REUSE_S]:
            del recent[key]
        fresh = list({r.query: None for r in chunk
                      if isinstance(r.query, QuoteRequest) and r.query not in recent})
        stats = BatchStats(listener=progress)
        if fresh:
            async for req, rs in router.quote_many(fresh, band=band, confirm=not args.no_confirm,
                                                   stats=stats):
                recent[req] = (rs, now, answer_body(rs, mode, routes=args.routes,
                                                    full=args.full))
                recent.move_to_end(req)
        for rec in chunk:
            if not isinstance(rec.query, QuoteRequest):
                totals["invalid"] += 1
                out.write(error_line(rec))
                continue
            rs, _, body = recent[rec.query]
            totals["answered"] += 1
            totals["routes"] += bool(rs.routes)
            totals["firm"] += bool(rs.best is not None and rs.best.kind == "firm")
            out.write(result_line(rec, body))
        while len(recent) > _REUSE_MAX:
            recent.popitem(last=False)
        totals["queries"] += sum(isinstance(r.query, QuoteRequest) for r in chunk)
        totals["distinct"] += stats.distinct
        dry |= stats.dry


if __name__ == "__main__":  # pragma: no cover - `python -m router.cli`
    sys.exit(main())
