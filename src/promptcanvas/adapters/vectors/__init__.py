"""The in-process vector index (exact NumPy while small, usearch HNSW once large)."""
