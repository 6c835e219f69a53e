"""Synthetic data: a believable facility for the demo, tests and benchmarks."""
