"""Benchmarks: ``make bench`` runs :mod:`bench.__main__` and writes docs/BENCHMARKS.md."""
