"""The left-out summary shared by the first screen and batch, a reader that goes away, and
providers chosen that are not running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from router.face.render import compact_unavailable


def _limit(provider: str, src: str, dst: str, minimum: str) -> dict[str, object]:
    return {"provider": provider, "reason": "limit_min", "limit": minimum, "asset": src,
            "detail": f"{src}->{dst} fixed; minimum {minimum} {src}"}


ENTRIES = [_limit("fixedfloat", "BTC@BTC", "USDT@POLYGON", "0.00020"),
           _limit("fixedfloat", "BTC@BTC", "USDT@TRC20", "0.00023"),
           _limit("fixedfloat", "BTC@LN", "USDT@TRC20", "0.00025"),
           _limit("gatepay", "BTC@BTC", "USDT", "0.0007"),  # an account balance: no network
           _limit("flypay", "ETH@ERC20", "USDT@TRC20", "0.01")]  # an intermediate leg


def test_a_pinned_network_counts_only_its_own_markets() -> None:
    counts, kept = compact_unavailable(ENTRIES, {"sell": "BTC", "buy": "USDT@TRC20"})
    assert counts == {"limit_min": 5}
    by = {e["provider"]: e for e in kept}
    assert set(by) == {"fixedfloat", "gatepay"}
    assert by["fixedfloat"]["limit"] == "0.00023" and by["fixedfloat"]["markets"] == 2
    _, kept = compact_unavailable(ENTRIES, {"sell": "BTC@BTC", "buy": "USDT@TRC20"})
    assert [(e["provider"], e["limit"], e.get("markets")) for e in kept] == [
        ("fixedfloat", "0.00023", None), ("gatepay", "0.0007", None)]


def test_a_coin_alone_counts_every_network() -> None:
    _, kept = compact_unavailable(ENTRIES, {"sell": "BTC", "buy": "USDT"})
    by = {e["provider"]: e for e in kept}
    assert by["fixedfloat"]["limit"] == "0.00020" and by["fixedfloat"]["markets"] == 3


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}
    proc = subprocess.Popen([sys.executable, "-m", "router.cli", "assets"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_choosing_a_provider_that_is_not_running_is_bad_input(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BESTRATE_")}
    config = tmp_path / "bestrate.toml"
    config.write_text("[providers.fixedfloat]\nenabled = false\n")
    os.chmod(config, 0o600)
    cases = {("--providers", "fixedfloat"): "--providers: 'fixedfloat' is not running here",
             ("--providers", "gatepay", "--exclude", "gatepay"): "--exclude: leaves no provider"}
    for flags, message in cases.items():
        proc = subprocess.run([sys.executable, "-m", "router.cli", "quote", "BTC", "USDT", "0.5",
                               *flags], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert proc.stdout == ""
