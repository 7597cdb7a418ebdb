"""The installed package's version, read once and only when asked for.

``importlib.metadata`` takes 50-100 ms to import (it pulls in ``email``, ``zipfile`` and
``pathlib``), so ``router`` reads it on the first ``router.__version__``, never at import. Without
an installed distribution (a source tree on ``sys.path``), the version is the one in the
``pyproject.toml`` beside the package, else ``0+unknown``.
"""

from __future__ import annotations

import functools
from pathlib import Path

UNKNOWN = "0+unknown"


@functools.cache
def version() -> str:
    """The version of the ``bestrate`` distribution, e.g. ``0.1.0``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("bestrate")
    except PackageNotFoundError:
        return _from_pyproject(Path(__file__).resolve().parent.parent / "pyproject.toml")


def _from_pyproject(path: Path) -> str:
    import tomllib

    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return UNKNOWN
    value = project.get("version") if project.get("name") == "bestrate" else None
    return value if isinstance(value, str) and value else UNKNOWN
