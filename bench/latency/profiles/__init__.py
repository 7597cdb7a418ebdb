"""Shipped latency profiles, one ``<name>.toml`` each (see :mod:`bench.latency`)."""
