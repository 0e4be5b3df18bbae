"""Benchmarks for PromptCanvas: a library generator, search latency, and query-shape studies."""
