"""bestrate engine (filled in by the integrator)."""
