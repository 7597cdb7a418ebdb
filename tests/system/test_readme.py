"""Every configuration and Python example in the README, run as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.registry import build_source
from router.face.build import Parts, load

README = Path(__file__).resolve().parents[2] / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.S | re.M)


def test_the_readme_has_the_examples_this_file_runs() -> None:
    assert len(blocks("toml")) >= 2


@pytest.mark.parametrize("text", blocks("toml"), ids=lambda t: t.split("\n", 1)[0])
def test_each_config_example_loads_as_written(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bestrate.toml"
    path.write_text(text)
    os.chmod(path, 0o600)
    config, specs = load(path, env={})
    options = Parts(sources=[], mode="live", budgets=None, bulk=None, cache=None,
                    config=config).router_options()
    if "[fees" in text:
        assert options["fees"].transfer  # the override reached the fee model
    live = [n for n in specs if config.configured(n, specs) and config.enabled(n)]
    for name in live:  # the sources are built (no call is made before a router opens them)
        assert build_source(name, config.providers[name]).name == name
    if "[router]" in text:
        assert options["deadline"] == 5.0 and live == ["fixedfloat"]


def _commands() -> list[str]:
    """Every ``bestrate ...`` line of the README's ``sh`` blocks, without its comment."""
    return [line.split("  #", 1)[0].strip() for block in blocks("sh")
            for line in block.splitlines() if line.startswith("bestrate ")]


def test_the_readme_has_the_commands_this_file_runs() -> None:
    assert len(_commands()) >= 5


@pytest.mark.parametrize("command", _commands())
def test_each_cli_example_runs_as_written(tmp_path: Path, command: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "router.cli", *shlex.split(command)[1:]],
                          cwd=tmp_path, env=_clean_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "embedded sandbox" in proc.stderr  # no credentials here: it says where it quotes
    if "--json" in command:
        doc = json.loads(proc.stdout)
        assert doc["mode"] == "sandbox" and doc["routes"]
    elif command.startswith("bestrate quote"):
        first = proc.stdout.splitlines()[0]
        assert first.startswith("you send ") and " via " in first  # the answer comes first
    else:
        assert len(proc.stdout.splitlines()) >= 3


def _python(marker: str) -> list[str]:
    return [b for b in blocks("python") if marker in b]


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}


def test_the_readme_has_the_python_examples_this_file_runs() -> None:
    scripts, apps = _python("asyncio.run(main())"), _python("web.Application()")
    assert len(scripts) == 3 and len(apps) == 1
    assert len(blocks("python")) == len(scripts) + len(apps)  # every Python example is run here


def _script_id(code: str) -> str:
    if "from_config" in code:
        return "from_config"
    return "sandbox" if "json.dumps" in code else "quick_start"


@pytest.mark.parametrize("code", _python("asyncio.run(main())"), ids=_script_id)
def test_each_python_quick_start_runs_as_written(tmp_path: Path, code: str) -> None:
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_clean_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    if _script_id(code) == "quick_start":  # amount_out asset_out providers cost_bp
        amount, asset, *_, cost = lines[0].split()
        assert Decimal(amount) > 0 and asset.startswith("USDT@") and Decimal(cost).is_finite()
    elif _script_id(code) == "sandbox":
        assert lines[0].split()[-2] in ("firm", "indicative") and lines[0].split()[1].startswith("USDT")
        assert lines[-1].startswith('{"request": {"sell": "BTC", "buy": "USDT"')
    else:
        assert lines[-1].startswith("amount: ") or lines[-1].startswith("amount ")


async def test_the_embedding_example_serves_quotes(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import aiohttp
    from aiohttp import web

    for name in [k for k in os.environ if k.startswith("BESTRATE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no bestrate.toml: the embedded sandbox
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(_python("web.Application()")[0], "README.md", "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, web.Application)
    runner = web.AppRunner(app)
    await runner.setup()  # runs the cleanup_ctx start: the router is built and warmed here
    try:
        assert app[namespace["ROUTER"]].snapshots["built"] >= 1  # warmed before the first request
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/quote",
                                params={"sell": "BTC", "buy": "USDT", "amount": "0.5"}) as resp:
                assert resp.status == 200
                doc = await resp.json()
            assert doc["routes"] and isinstance(doc["routes"][0]["amount_out"], str)
            assert "mode" not in doc
            async with http.get(f"http://127.0.0.1:{port}/quote",
                                params={"sell": "BTC", "buy": "USDT", "amount": "lots"}) as resp:
                assert resp.status == 400
                assert (await resp.json())["field"] == "amount"
    finally:
        await runner.cleanup()
    assert app[namespace["ROUTER"]]._state == "closed"  # cleanup closed it
