"""Use cases: one module per capability, orchestrating domain and ports in a unit of work."""
