"""Benchmarks: each prints tables (`python -m benchmarks.record` keeps the current one in results/)."""
