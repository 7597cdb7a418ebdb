"""The package as shipped: its version, licence and changelog, and no reference to a file the
repository does not hold."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import router
from router import _version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_is_the_installed_metadata_and_the_pyproject_one() -> None:
    assert router.__version__ == importlib.metadata.version("bestrate")
    assert router.__version__ == PYPROJECT["project"]["version"]


def test_importing_router_does_not_read_the_metadata() -> None:
    """``importlib.metadata`` costs tens of milliseconds to import: neither ``import router`` nor
    ``__version__`` of an installed package pays it (the ``METADATA`` file is read directly)."""
    code = ("import sys, router; print('importlib.metadata' in sys.modules); "
            "print(router.__version__); print('importlib.metadata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    assert out == ["False", PYPROJECT["project"]["version"], "False"]


def test_the_dist_info_is_read_in_sys_path_order(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for folder, number in (("first", "7.0.1"), ("second", "6.0.0")):
        info = tmp_path / folder / f"bestrate-{number}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: bestrate\nVersion: {number}"
                                       f"\n\nVersion: 0.0.0 (a body line, not a header)\n")
    (tmp_path / "first" / "bestrate_extras-9.9.dist-info").mkdir()  # another distribution
    monkeypatch.setattr(sys, "path", [str(tmp_path / "none"), str(tmp_path / "first"),
                                      str(tmp_path / "second")])
    assert _version._from_dist_info() == "7.0.1"
    monkeypatch.setattr(sys, "path", [str(tmp_path / "none")])
    assert _version._from_dist_info() is None


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'versoin'"):
        router.versoin  # noqa: B018


def test_without_an_installed_distribution_the_version_comes_from_pyproject(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    monkeypatch.setattr(_version, "_from_dist_info", lambda: None)
    assert _version.version.__wrapped__() == PYPROJECT["project"]["version"]


@pytest.mark.parametrize(("text", "expected"), [
    ('[project]\nname = "bestrate"\nversion = "2.3.4"\n', "2.3.4"),
    ('[project]\nname = "other"\nversion = "2.3.4"\n', _version.UNKNOWN),  # someone else's
    ('[project]\nname = "bestrate"\n', _version.UNKNOWN),  # dynamic version
    ("[project\n", _version.UNKNOWN),  # not TOML
    (None, _version.UNKNOWN),  # no file
])
def test_the_pyproject_fallback(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "pyproject.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    assert _version._from_pyproject(path) == expected


def test_the_licence_file_is_the_one_pyproject_declares() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the bestrate authors\n")
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text


def test_the_changelog_has_unreleased_and_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^]]+)\]", text, flags=re.M)
    assert headings[0] == "Unreleased"
    assert PYPROJECT["project"]["version"] in headings


#: Files the product once cited that live outside the repository (the patterns are split so this
#: file does not match itself).
OUTSIDE = re.compile("|".join([
    r"DESIGN" r"\.md", r"PROTOCOLS" r"\.md", r"STYLE" r"\.md", r"\.\./" r"shared",
    r"/work/" r"shared", r"(?<![\w/])providers/[\w.-]+\.(md|txt|html|pdf)\b",
    r"the " r"brief\b", r"the " r"integrator\b",
]), flags=re.I)


def _product_files() -> list[Path]:
    files = [ROOT / name for name in ("README.md", "CHANGELOG.md", "pyproject.toml", "Makefile")]
    for folder in ("router", "adapters", "bench", "tests", "docs", ".ci"):
        files += [p for p in (ROOT / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix in (".py", ".md", ".toml", ".lua", "")]
    return files


def test_nothing_cites_a_file_outside_the_repository() -> None:
    files = _product_files()
    assert ROOT / "router" / "engine.py" in files and ROOT / "docs" / "providers.md" in files
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            if OUTSIDE.search(line)]
    assert hits == []
