"""Benchmarks of the offline preview: `python -m bench.benchmark` (or `make bench`) writes docs/benchmarks.md."""
