"""The face: configuration, rendering and batch input/output for the ``bestrate`` command."""
