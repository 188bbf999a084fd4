"""Benchmarks (not part of the installed package; see BENCHMARKS.md)."""
