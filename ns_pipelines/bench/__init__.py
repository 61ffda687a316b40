"""Benchmarks: commands that print measured figures (never timed assertions in tests)."""
