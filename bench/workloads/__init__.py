"""The harness's workloads: each takes a scenario and a running sandbox's providers JSON and
returns a JSON-ready dict of figures (and, under ``"_series"``, raw series for the charts)."""

from __future__ import annotations

__all__: list[str] = []
