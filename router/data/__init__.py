"""Data files shipped with the engine (the default fee and limit model)."""
