"""Every configuration and Python example in the README, run as written."""

from __future__ import annotations

import os
import re
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
