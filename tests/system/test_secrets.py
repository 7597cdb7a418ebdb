"""Secrets never leave: every byte the CLI writes, every repr and every error is scanned.

Live mode is pointed at an in-process sandbox (in a thread of its own) through
``BESTRATE_<PROVIDER>_<FIELD>`` variables; ``quote`` (table, ``--json``, ``--explain``), ``batch``
(stdout and ``--out``) and ``bench --scenario smoke`` run in process with the root logger at DEBUG,
once with the right secrets and once with wrong ones (so the error paths run too). Everything on
stdout and stderr (file-descriptor level, so child processes count), every file written and every
log line of ours is searched for each secret and for its first 8 characters (for a PEM key, of its
body). The sandbox's own log lines are the provider's side and are left out; ``bestrate sandbox``
itself prints its credentials by contract and is not run here.

Also: TLS (live URLs are https unless loopback; nothing can turn certificate checks off) and the
warning for a config file others can read, through the CLI.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.registry import build_source, field_specs
from router import Router
from router.budgets import BudgetPolicy, BudgetRegistry
from router.cli import main
from router.errors import ConfigError, ProviderError
from router.face.config import is_loopback, load_config
from router.sources.protocol import SourceContext
from tests.support.threadsandbox import ThreadSandbox

ROOT = Path(__file__).resolve().parent.parent
SPECS = field_specs()
SECRET_FIELDS = {name: [f for f, spec in fields.items() if spec.kind == "secret"]
                 for name, fields in SPECS.items()}


def _wrong_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _needles(value: str) -> list[str]:
    """What must never appear: the secret, and its first 8 characters (of a PEM: of its body,
    and a chunk from its middle)."""
    if value.startswith("-----BEGIN"):
        body = "".join(line for line in value.strip().splitlines()[1:-1])
        return [body[:8], body[len(body) // 2:len(body) // 2 + 16], body[-16:]]
    return [value, value[:8]]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, dict[str, str]]]:
    with ThreadSandbox(seed=11) as providers:
        yield providers


def _env(providers: dict[str, dict[str, str]], wrong: bool) -> tuple[dict[str, str], list[str]]:
    env: dict[str, str] = {}
    secrets: list[str] = []
    for name, block in providers.items():
        for field, value in block.items():
            if field in SECRET_FIELDS[name]:
                if wrong:
                    value = _wrong_pem() if value.startswith("-----BEGIN") else (
                        "WRONG" + value[5:][::-1])
                secrets.append(value)
            env[f"BESTRATE_{name.upper()}_{field.upper()}"] = value
    return env, secrets


class _Ours(logging.Filter):
    """Our log lines only: the sandbox thread is the provider's side."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != "sandbox"


@pytest.fixture
def debug_logs() -> Iterator[list[str]]:
    lines: list[str] = []

    class Keep(logging.Handler):
        """Keeps every line, and writes it to whatever ``sys.stderr`` is now (captured)."""

        def emit(self, record: logging.LogRecord) -> None:
            line = self.format(record)
            lines.append(line)
            sys.stderr.write(line + "\n")

    root = logging.getLogger()
    handler = Keep(level=logging.DEBUG)
    handler.addFilter(_Ours())
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s", "%H:%M:%S"))
    old = root.level
    noisy = logging.getLogger("matplotlib")  # font matching for the bench charts: not ours
    noisy_level = noisy.level
    noisy.setLevel(logging.INFO)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        noisy.setLevel(noisy_level)


def _scan(what: str, text: str | bytes, secrets: list[str]) -> None:
    data = text if isinstance(text, str) else text.decode("utf-8", "replace")
    for secret in secrets:
        for needle in _needles(secret):
            assert needle not in data, f"a secret ({needle[:3]}…) leaked into {what}"


def _scan_tree(root: Path, secrets: list[str]) -> int:
    n = 0
    for path in root.rglob("*"):
        if path.is_file():
            _scan(str(path), path.read_bytes(), secrets)
            n += 1
    return n


def _run(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capfd.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capfd.readouterr()
    return code, out, err


@pytest.mark.parametrize("wrong", [False, True], ids=["right-secrets", "wrong-secrets"])
def test_cli_output_files_and_logs_carry_no_secret(
        wrong: bool, sandbox: dict[str, dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        debug_logs: list[str]) -> None:
    env, secrets = _env(sandbox, wrong)
    right = _env(sandbox, False)[1]
    for name in list(os.environ):
        if name.startswith("BESTRATE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    queries = tmp_path / "queries.csv"
    queries.write_text("sell,buy,amount,side\nBTC,USDT,0.5,sell\nETH,BTC,2,sell\n"
                       "USDT,ETH,1000,buy\nBTC,USDT,-1,sell\n")
    runs = [
        ["quote", "BTC", "USDT", "0.5", "--deadline", "3"],
        ["quote", "BTC", "USDT", "0.5", "--json", "--deadline", "3"],
        ["quote", "ETH", "BTC", "2", "--explain", "--deadline", "3"],
        ["quote", "USD", "BTC", "500", "--receive", "--json", "--deadline", "3"],
        ["quote", "NOPE", "BTC", "1"],
        ["batch", str(queries)],
        ["batch", str(queries), "--out", str(tmp_path / "out.jsonl")],
    ]
    if not wrong:
        runs.append(["bench", "--scenario", "smoke", "--out", str(tmp_path / "bench")])
    modes = []
    for argv in runs:
        code, out, err = _run(argv, capfd)
        assert code in (0, 1, 2), (argv, err)  # (tracebacks may appear: DEBUG logs carry them)
        _scan(f"{argv[0]} stdout", out, secrets + right)
        _scan(f"{argv[0]} stderr", err, secrets + right)
        if argv[0] == "quote" and "--json" in argv:
            modes.append('"mode":"live"' in out.replace(" ", ""))
    assert all(modes), "the runs did not use the configured (live) providers"
    if wrong:  # the error paths ran: the providers refused us
        code, out, err = _run(["quote", "BTC", "USDT", "0.5", "--json", "--deadline", "3"], capfd)
        assert "auth_failed" in out or "signature_invalid" in out or "provider_error" in out
    if wrong:  # the failures were logged at DEBUG, with their tracebacks
        assert any("call failed" in line for line in debug_logs), debug_logs[:5]
    _scan("log records", "\n".join(debug_logs), secrets + right)
    assert _scan_tree(tmp_path, secrets + right) >= 2


async def test_reprs_errors_and_results_carry_no_secret(sandbox: dict[str, dict[str, str]],
                                                        tmp_path: Path) -> None:
    for wrong in (False, True):
        env, secrets = _env(sandbox, wrong)
        config = load_config(None, SPECS, env=env)
        texts: list[str] = [repr(config), str(config)]
        sources = [build_source(n, config.providers[n]) for n in SPECS]
        registry = BudgetRegistry()
        errors: list[BaseException] = []
        async with Router(sources, budgets=registry) as router:
            texts += [repr(router), repr(registry), repr(router.health), repr(router.stats)]
            texts += [repr(s) for s in sources]
            texts += [repr(getattr(s, "client", None)) for s in sources]
            texts += [repr(b) for n in SPECS for b in registry.of(n)]
            for s in sources:
                try:
                    edges = await s.edges()
                    texts.append(repr(edges[:3]))
                    if edges and getattr(s, "firm_quotes", True):
                        texts.append(repr(await s.firm(edges[0].market, edges[0].min_in or 1,
                                                       "sell")))
                except ProviderError as exc:
                    errors.append(exc)
            rs = await router.quote("BTC", "USDT", "0.5", deadline=3)
            from router import routeset_to_json

            texts += [repr(rs), routeset_to_json(rs, "live").decode()]
        if wrong:
            assert errors, "wrong secrets raised nothing: the error paths did not run"
        for exc in errors:
            texts += [repr(exc), str(exc), exc.detail, repr(exc.args),
                      "".join(traceback.format_exception(exc))]
        _scan("reprs and errors", "\n".join(texts), secrets)


# -- TLS -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("url,ok", [
    ("https://ff.io", True), ("http://127.0.0.1:8080", True), ("http://127.9.9.9", True),
    ("http://localhost:1234/x", True), ("http://[::1]:80", True), ("http://ff.io", False),
    ("http://10.0.0.1", False), ("http://localhost.evil.com", False), ("ftp://ff.io", False),
    ("http://[::ffff:10.0.0.1]", False), ("https://[::1", False),
])
def test_live_urls_must_be_https_unless_loopback(url: str, ok: bool) -> None:
    env = {"BESTRATE_FIXEDFLOAT_BASE_URL": url}
    if ok:
        assert load_config(None, SPECS, env=env).providers["fixedfloat"]["base_url"]
    else:
        with pytest.raises(ConfigError) as info:
            load_config(None, SPECS, env=env)
        assert info.value.field == "BESTRATE_FIXEDFLOAT_BASE_URL"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("ff.io")


def test_plain_http_to_a_remote_host_exits_2_naming_the_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BESTRATE_GATEPAY_BASE_URL", "http://openplatform.gateapi.io")
    code, out, err = _run(["quote", "BTC", "USDT", "1"], capfd)
    assert code == 2 and "BESTRATE_GATEPAY_BASE_URL" in err and "https" in err
    assert len(err.strip().splitlines()) == 1


def test_nothing_can_turn_certificate_verification_off() -> None:
    pattern = re.compile(r"ssl\s*=\s*False|verify_ssl|CERT_NONE|check_hostname\s*=\s*False|"
                         r"_create_unverified_context|ssl\.create_default_context\(\s*\)\s*\.")
    for package in ("router", "adapters"):
        for path in (ROOT / package).rglob("*.py"):
            assert not pattern.search(path.read_text()), path
    for name, fields in SPECS.items():
        for field in fields:
            assert not re.search(r"ssl|tls|verify|insecure|cert", field), (name, field)
    config = load_config(None, SPECS, env={})
    assert not any(re.search(r"ssl|tls|verify|insecure", k) for k in config.router)


# -- config file permissions ---------------------------------------------------------------------
@pytest.mark.parametrize("mode,warns", [(0o644, True), (0o640, True), (0o600, False)])
def test_config_file_readable_by_others_warns_through_the_cli(
        mode: int, warns: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str], sandbox: dict[str, dict[str, str]]) -> None:
    for name in list(os.environ):
        if name.startswith("BESTRATE_"):
            monkeypatch.delenv(name)
    ff = sandbox["fixedfloat"]
    path = tmp_path / "bestrate.toml"
    path.write_text(f'[providers.fixedfloat]\napi_key = "{ff["api_key"]}"\n'
                    f'api_secret = "{ff["api_secret"]}"\nbase_url = "{ff["base_url"]}"\n')
    path.chmod(mode)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    code, out, err = _run(["quote", "BTC", "USDT", "0.5", "--json", "--config", str(path),
                           "--providers", "fixedfloat", "--deadline", "3"], capfd)
    assert code == 0, err
    assert ("readable by other users" in err) is warns
    _scan("stderr", err, [ff["api_key"], ff["api_secret"]])
    _scan("stdout", out, [ff["api_key"], ff["api_secret"]])


def test_secret_budgets_use_fingerprints_not_secrets(sandbox: dict[str, dict[str, str]]) -> None:
    registry = BudgetRegistry()
    ff = sandbox["fixedfloat"]
    source: Any = build_source("fixedfloat", load_config(None, SPECS, env={
        "BESTRATE_FIXEDFLOAT_API_KEY": ff["api_key"],
        "BESTRATE_FIXEDFLOAT_API_SECRET": ff["api_secret"],
        "BESTRATE_FIXEDFLOAT_BASE_URL": ff["base_url"]}).providers["fixedfloat"])

    async def run() -> None:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            await source.open(SourceContext(session=session, budgets=registry))
            await source.aclose()

    asyncio.run(run())
    budgets = registry.of("fixedfloat")
    assert budgets and all(ff["api_key"] not in b.key and ff["api_secret"] not in b.key
                           for b in budgets)
    assert isinstance(budgets[0].policy, BudgetPolicy)
