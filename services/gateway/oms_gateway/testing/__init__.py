"""Helpers for tests, the CLI and benchmarks: never imported by the serving code."""
