"""The offline sandbox: every provider emulator on its own loopback port, one seeded world.

``async with Sandbox(seed=7, frozen=True) as sb:`` starts each emulator (``TCPSite`` on port 0, the
bound port read back) and exposes ``sb.providers`` -- the connection block of the ``bestrate
sandbox`` contract (README, "bestrate sandbox"), e.g. ``{"fixedfloat": {"base_url", "api_key", "api_secret"}}``
-- plus ``sb.world`` and ``sb.apps``. Credentials derive from the seed, so the same seed always
gives the same keys. :func:`run_sandbox` is what ``bestrate sandbox`` calls: it prints one JSON line
``{"providers": {...}}`` and serves until SIGINT/SIGTERM.

Options: ``latency_ms`` delays every answer by that many ms; ``latency``, when given, takes its
place with a latency profile (:mod:`bench.latency`: a name such as ``"heavy"``, a number of ms, plain data or a
profile); ``faults`` a fault profile (:mod:`bench.faults`: a name such as ``"flaky"``, plain data
or a profile); ``clock`` (monotonic seconds, e.g. the running loop's ``time``) drives every
emulator's budget window, fault storms and blocks. Unknown names fail at construction with a ``ValueError`` listing the shipped ones.
Each emulator serves ``GET``/``POST /_sandbox/faults`` to read or switch its fault profile.

Adding a provider: one :class:`EmulatorSpec` in :data:`EMULATORS`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Final, TextIO

from aiohttp import web

if TYPE_CHECKING:  # pragma: no cover
    from router.engine import Router

from .emulators.common import DEFAULT_READ_TIMEOUT, app_runner
from .emulators.fixedfloat import VARIANTS as FF_VARIANTS
from .emulators.fixedfloat import create_app as ff_create_app
from .emulators.variants import Variant, split_keys
from .faults import fault_names, resolve_faults
from .latency import latency_names, resolve_latency
from .profiledata import UnknownProfile
from .world import World

__all__ = ["EMULATORS", "EmulatorSpec", "Sandbox", "add_sandbox_arguments", "main",
           "run_sandbox", "sandbox_profiles", "sandbox_variants", "serve_forever"]

_ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _secret_string(world: World, n: int, *labels: object) -> str:
    out: list[str] = []
    i = 0
    while len(out) < n:
        out.extend(_ALNUM[b % 62] for b in world.digest("credentials", *labels, i) if b < 248)
        i += 1
    return "".join(out[:n])


@dataclass(frozen=True, slots=True)
class EmulatorSpec:
    """How to start one provider's emulator.

    ``credentials(world)`` gives the provider block's fields other than ``base_url``;
    ``build(world, credentials, options)`` returns the aiohttp application, where ``options`` has
    ``no_limits``, ``latency_ms``, ``latency``, ``faults``, ``read_timeout``, ``variants`` (this
    provider's ``{name: value}``) and, when given, ``clock``; ``variants`` lists the doc
    ambiguities the emulator offers.
    """

    name: str
    credentials: Callable[[World], dict[str, str]]
    build: Callable[[World, Mapping[str, str], Mapping[str, Any]], web.Application]
    variants: tuple[Variant, ...] = ()


def _ff_credentials(world: World) -> dict[str, str]:
    return {"api_key": _secret_string(world, 40, "fixedfloat", "key"),
            "api_secret": _secret_string(world, 64, "fixedfloat", "secret")}


def _ff_build(world: World, creds: Mapping[str, str],
              options: Mapping[str, Any]) -> web.Application:
    return ff_create_app(world, credentials={creds["api_key"]: creds["api_secret"]}, **options)


def _module_spec(name: str) -> EmulatorSpec:
    """An emulator package exporting ``credentials(world)`` and ``create_app(world, *,
    credentials, no_limits, latency_ms, latency, faults, variants, read_timeout)`` and
    ``VARIANTS``."""
    module = importlib.import_module(f"bench.emulators.{name}")

    def build(world: World, creds: Mapping[str, str], options: Mapping[str, Any]) -> web.Application:
        app: web.Application = module.create_app(world, credentials=creds, **options)
        return app

    return EmulatorSpec(name, module.credentials, build, tuple(module.VARIANTS))


EMULATORS: Final[tuple[EmulatorSpec, ...]] = (
    EmulatorSpec("fixedfloat", _ff_credentials, _ff_build, tuple(FF_VARIANTS)),
    *(_module_spec(name) for name in ("gatepay", "flypay", "onebitpay", "fatpay")),
)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Sandbox:
    """Starts every emulator on ``host`` (loopback by default), each on its own free port."""

    def __init__(self, seed: int = 0, frozen: bool = False, no_limits: bool = False,
                 latency_ms: float = 0, host: str = "127.0.0.1", faults: object = None,
                 latency: object = None, clock: Callable[[], float] | None = None,
                 variants: Mapping[str, str] | None = None,
                 read_timeout: float = DEFAULT_READ_TIMEOUT) -> None:
        if read_timeout <= 0:
            raise ValueError("read_timeout must be positive")
        self.world = World(seed, frozen=frozen)
        self.host = host
        self._variants = split_keys(variants or {}, {s.name: s.variants for s in EMULATORS})
        self._options: dict[str, Any] = {"no_limits": no_limits, "latency_ms": latency_ms,
                                         "latency": resolve_latency(latency),
                                         "faults": resolve_faults(faults),
                                         "read_timeout": read_timeout}
        if clock is not None:  # budget windows, fault storms and blocks (default monotonic)
            self._options["clock"] = clock
        self._runners: list[web.AppRunner] = []
        self._providers: dict[str, dict[str, str]] = {}
        self._apps: dict[str, web.Application] = {}

    @property
    def providers(self) -> dict[str, dict[str, str]]:
        """``{name: {"base_url": ..., <credential fields>...}}`` (a copy; empty before start)."""
        return {name: dict(block) for name, block in self._providers.items()}

    @property
    def apps(self) -> Mapping[str, web.Application]:
        """The running applications by provider name (for in-process harness access)."""
        return MappingProxyType(self._apps)

    def router(self, *, providers: Sequence[str] | None = None, **options: Any) -> Router:
        """A :class:`~router.Router` quoting on this running sandbox's emulators (every
        provider, or ``providers``), not yet open: ``async with sb.router() as r:``.

        ``options`` are :class:`~router.Router` keyword arguments (``deadline``, ``budgets``...);
        budgets are kept in memory by default, like the emulators' own."""
        from adapters.registry import build_source, sandbox_values
        from router.engine import Router

        if not self._providers:
            raise RuntimeError("the sandbox is not started: use `async with Sandbox() as sb:`")
        names = list(self._providers) if providers is None else list(providers)
        unknown = sorted(set(names) - set(self._providers))
        if unknown:
            from router.errors import InvalidRequest

            raise InvalidRequest("providers", f"{unknown[0]!r} is not a sandbox provider",
                                 ", ".join(self._providers))
        sources = [build_source(n, sandbox_values(n, self._providers[n])) for n in names]
        return Router(sources, **options)

    async def start(self) -> None:
        if self._runners:
            raise RuntimeError("sandbox already started")
        try:
            for spec in EMULATORS:
                creds = spec.credentials(self.world)
                options = {**self._options, "variants": self._variants.get(spec.name, {})}
                app = spec.build(self.world, creds, options)
                runner = app_runner(app)
                await runner.setup()
                self._runners.append(runner)
                await web.TCPSite(runner, self.host, 0).start()
                port = runner.addresses[0][1]
                self._apps[spec.name] = app
                self._providers[spec.name] = {
                    "base_url": f"http://{_url_host(self.host)}:{port}", **creds}
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop every emulator (idempotent)."""
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()
        self._apps.clear()
        self._providers.clear()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


async def serve_forever(seed: int = 0, frozen: bool = False, no_limits: bool = False,
                        latency_ms: float = 0, host: str = "127.0.0.1", faults: object = None,
                        *, latency: object = None, out: TextIO | None = None,
                        stop: asyncio.Event | None = None,
                        variants: Mapping[str, str] | None = None) -> int:
    """Start a :class:`Sandbox`, print ``{"providers": ...}`` as one line, serve until stopped.

    Stops on SIGINT/SIGTERM (where the loop supports signal handlers) or when ``stop`` is set.
    Returns the process exit code (0).
    """
    stream = out if out is not None else sys.stdout
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or Windows: rely on ``stop`` / KeyboardInterrupt
    try:
        async with Sandbox(seed, frozen, no_limits, latency_ms, host, faults, latency,
                           variants=variants) as sb:
            stream.write(json.dumps({"providers": sb.providers}) + "\n")
            stream.flush()
            await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return 0


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``bestrate sandbox`` options to ``parser`` (for the CLI to reuse)."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    parser.add_argument("--frozen", action="store_true", help="pin world time: no price drift")
    parser.add_argument("--no-limits", action="store_true", help="disable provider budgets")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay every answer")
    parser.add_argument("--latency-profile", default=None, metavar="NAME",
                        help=f"latency profile ({', '.join(latency_names())})")
    parser.add_argument("--faults", default=None, metavar="PROFILE",
                        help=f"fault profile ({', '.join(fault_names())})")
    parser.add_argument("--variant", action="append", default=[], metavar="PROVIDER.NAME=VALUE",
                        help="a doc reading an emulator enforces strictly (repeatable; "
                             "GET /_sandbox/variants lists them)")
    return parser


def sandbox_variants(args: argparse.Namespace | Any) -> dict[str, str]:
    """The ``--variant PROVIDER.NAME=VALUE`` options of ``args`` as ``{"PROVIDER.NAME": VALUE}``,
    checked against every emulator's variants: a malformed or unknown one raises
    :class:`router.errors.InvalidRequest` naming the option and the allowed values."""
    from router.errors import InvalidRequest

    out: dict[str, str] = {}
    for item in getattr(args, "variant", None) or ():
        key, eq, value = str(item).partition("=")
        if not eq:
            raise InvalidRequest("--variant", f"{item!r} is not PROVIDER.NAME=VALUE",
                                 ", ".join(_variant_keys()))
        out[key.strip()] = value.strip()
    try:
        split_keys(out, {s.name: s.variants for s in EMULATORS})
    except ValueError as exc:
        raise InvalidRequest("--variant", str(exc), ", ".join(_variant_keys())) from None
    return out


def _variant_keys() -> list[str]:
    return [f"{s.name}.{v.name}={'|'.join(v.values)}" for s in EMULATORS for v in s.variants]


def sandbox_profiles(args: argparse.Namespace | Any) -> tuple[object, object]:
    """The ``(faults, latency)`` profiles ``args`` name (``faults``, ``latency_profile``; an empty
    name means none), checked: an unknown name raises :class:`router.errors.InvalidRequest` naming
    the option and the allowed values. A latency profile takes precedence over ``latency_ms``."""
    from router.errors import InvalidRequest

    faults_name = getattr(args, "faults", None) or None
    latency_name = getattr(args, "latency_profile", None) or None
    try:
        faults = resolve_faults(faults_name)
    except UnknownProfile as exc:
        raise InvalidRequest("--faults", f"unknown profile {exc.name!r}",
                             ", ".join(exc.allowed)) from None
    try:
        latency = resolve_latency(latency_name)
    except UnknownProfile as exc:
        raise InvalidRequest("--latency-profile", f"unknown profile {exc.name!r}",
                             ", ".join(exc.allowed)) from None
    except ValueError as exc:
        raise InvalidRequest("--latency-profile", str(exc), ", ".join(latency_names())) from None
    return faults, latency


def run_sandbox(args: argparse.Namespace | Any) -> int:
    """Run ``bestrate sandbox`` from parsed ``args`` (host, seed, frozen, no_limits, latency_ms,
    latency_profile, faults, variant; missing attributes take their defaults). Blocks until SIGINT/SIGTERM;
    returns 0. Unknown profile names raise :class:`router.errors.InvalidRequest` before anything
    starts."""
    faults, latency = sandbox_profiles(args)
    variants = sandbox_variants(args)
    try:
        return asyncio.run(serve_forever(
            seed=int(getattr(args, "seed", 0) or 0),
            frozen=bool(getattr(args, "frozen", False)),
            no_limits=bool(getattr(args, "no_limits", False)),
            latency_ms=float(getattr(args, "latency_ms", 0) or 0),
            host=getattr(args, "host", None) or "127.0.0.1",
            faults=faults, latency=latency, variants=variants))
    except KeyboardInterrupt:  # SIGINT before the handler was installed
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.sandbox [options]``: same as ``bestrate sandbox`` (exit 2 with one line
    on stderr for an unknown profile)."""
    from router.errors import InvalidRequest

    parser = add_sandbox_arguments(argparse.ArgumentParser(prog="bench.sandbox"))
    try:
        return run_sandbox(parser.parse_args(argv))
    except InvalidRequest as exc:
        print(f"bench.sandbox: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
