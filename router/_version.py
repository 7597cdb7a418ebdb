"""The installed package's version, read once and only when asked for.

``importlib.metadata`` takes 50-100 ms to import (it pulls in ``email``, ``zipfile`` and
``pathlib``), so the version is first read straight from the distribution's ``METADATA`` on
``sys.path`` (a directory listing and the head of one small file, in ``sys.path`` order as
``importlib.metadata`` searches), then asked of ``importlib.metadata``. ``router`` reads it on the
first ``router.__version__`` and ``bestrate --version`` on demand, never at import. Without an
installed distribution (a source tree on ``sys.path``), the version is the one in the
``pyproject.toml`` beside the package, else ``0+unknown``.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

UNKNOWN = "0+unknown"
_DIST = "bestrate"


@functools.cache
def version() -> str:
    """The version of the ``bestrate`` distribution, e.g. ``0.1.0``."""
    found = _from_dist_info()
    if found is not None:
        return found
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(_DIST)
    except PackageNotFoundError:
        from pathlib import Path

        return _from_pyproject(Path(__file__).resolve().parent.parent / "pyproject.toml")


def _from_dist_info() -> str | None:
    """``Version:`` from the first ``bestrate-*.dist-info/METADATA`` on ``sys.path``, if any."""
    for folder in sys.path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for name in names:
            if not (name.startswith(f"{_DIST}-") and name.endswith(".dist-info")):
                continue
            try:
                with open(os.path.join(folder or ".", name, "METADATA"), encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip() or None
                        if not line.strip():  # the headers end at the first blank line
                            break
            except (OSError, UnicodeDecodeError):
                continue
    return None


def _from_pyproject(path: Path) -> str:
    import tomllib

    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return UNKNOWN
    value = project.get("version") if project.get("name") == _DIST else None
    return value if isinstance(value, str) and value else UNKNOWN
