"""Benchmark scenarios: one TOML file each."""
