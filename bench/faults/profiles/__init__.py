"""Shipped fault profiles, one ``<name>.toml`` each (see :mod:`bench.faults`)."""
