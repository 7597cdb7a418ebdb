"""Benchmark harness and the offline sandbox of provider emulators."""
