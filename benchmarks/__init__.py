"""Benchmarks comparing autograd engines on microgpt; baselines live here, not in the library."""
